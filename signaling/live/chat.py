"""Chat in a live meeting: messages to everyone, or privately to the hosts.

Text only, at most `TEXT_MAX` characters. Every message is stored as it is sent (author,
time, recipients), before anyone hears of it, so a late joiner gets the conversation so
far and nothing is lost when the server restarts. A meeting's messages are numbered by
the store and sent out under one lock per meeting, so everyone sees the same order.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from signaling.errors import ChatRefused
from signaling.live import protocol_chat_lobby as cl
from signaling.live.participants import Participant, live_meeting_of
from signaling.store import Store, from_db, to_db, utcnow

log = logging.getLogger(__name__)

TEXT_MAX = 2000
Recipients = Literal["everyone", "hosts"]
RECIPIENTS: tuple[str, ...] = ("everyone", "hosts")
EMPTY = "A chat message cannot be empty"
TOO_LONG = "A chat message can be at most 2000 characters"
KEPT_WHITESPACE = frozenset("\n\t")


@dataclass(frozen=True, slots=True)
class ChatMessage:
    id: int
    """Its place in the meeting's conversation (the store's row id)."""
    meeting_id: str
    author_username: str
    """The author's account, or `guest:<id>` for a guest."""
    author_name: str
    """The author's display name, or the name a guest gave."""
    author_guest: bool
    recipients: Recipients
    body: str
    sent_at: datetime

    @property
    def author(self) -> str:
        """The account's username, or a guest's name: what the page labels it with."""
        return self.author_name if self.author_guest else self.author_username


def check_text(text: str) -> str:
    """The message as it will be kept: not empty, at most TEXT_MAX characters, and no
    control characters but line breaks and tabs."""
    cleaned = "".join(c for c in text if c in KEPT_WHITESPACE
                      or unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co"))
    cleaned = cleaned.strip()
    if not cleaned:
        raise ChatRefused(EMPTY, rule="chat_empty")
    if len(cleaned) > TEXT_MAX:
        raise ChatRefused(TOO_LONG, rule="chat_too_long", max=TEXT_MAX)
    return cleaned


def _message(row: sqlite3.Row) -> ChatMessage:
    return ChatMessage(id=int(row["id"]), meeting_id=row["meeting_id"],
                       author_username=row["author_username"], author_name=row["author_name"],
                       author_guest=bool(row["author_guest"]), recipients=row["recipients"],
                       body=row["body"], sent_at=from_db(row["sent_at"]))


class ChatStore:
    def __init__(self, store: Store, now: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._now = now

    def add(self, meeting_id: str, author_username: str, author_name: str, guest: bool,
            recipients: Recipients, body: str) -> ChatMessage:
        moment = self._now()
        with self._store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO chat_messages (meeting_id, author_username, author_name,"
                " author_guest, recipients, body, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (meeting_id, author_username, author_name, int(guest), recipients, body,
                 to_db(moment)))
            row_id = cursor.lastrowid
        assert row_id is not None
        return ChatMessage(row_id, meeting_id, author_username, author_name, guest, recipients,
                           body, from_db(to_db(moment)))

    def for_meeting(self, meeting_id: str) -> list[ChatMessage]:
        rows = self._store.fetch_all("SELECT * FROM chat_messages WHERE meeting_id = ?"
                                     " ORDER BY id", (meeting_id,))
        return [_message(row) for row in rows]

    def purge(self, cutoff: datetime) -> int:
        """Delete every message sent before `cutoff`; how many."""
        with self._store.transaction() as db:
            count = db.execute("DELETE FROM chat_messages WHERE sent_at < ?",
                               (to_db(cutoff),)).rowcount
        if count:
            log.info("retention: deleted %d chat messages sent before %s", count,
                     cutoff.isoformat(timespec="seconds"))
        return int(count)


def visible_to(message: ChatMessage, username: str, host: bool) -> bool:
    """Whether the participant `username` (`guest:<id>` for a guest), a host or not, may
    read this message: to everyone, or to the hosts when they are one or wrote it."""
    return message.recipients == "everyone" or host or message.author_username == username


def chat_line(message: ChatMessage) -> cl.ChatLine:
    return cl.ChatLine(id=message.id, author=message.author, author_name=message.author_name,
                       guest=message.author_guest, to=message.recipients, text=message.body,
                       sent_at=message.sent_at.isoformat())


IsHost = Callable[[Participant], bool]


class LiveChat:
    """Chat in live meetings: stored first, then sent to whoever may read it."""

    def __init__(self, store: ChatStore, is_host: IsHost) -> None:
        self.store = store
        self._is_host = is_host
        self._locks: dict[str, asyncio.Lock] = {}

    async def send(self, participant: Participant, author_name: str, guest: bool,
                   recipients: Recipients, text: str) -> ChatMessage:
        body = check_text(text)
        live_meeting = live_meeting_of(participant)
        async with self._locks.setdefault(participant.meeting_id, asyncio.Lock()):
            message = self.store.add(participant.meeting_id, participant.username, author_name,
                                     guest, recipients, body)
            sent = cl.ChatMessageSent(message=chat_line(message))
            for other in list(live_meeting.participants.values()):
                if visible_to(message, other.username, self._is_host(other)):
                    await other.tell(sent)
        return message

    async def history(self, participant: Participant) -> None:
        """Tell a participant who just joined the conversation so far."""
        host = self._is_host(participant)
        async with self._locks.setdefault(participant.meeting_id, asyncio.Lock()):
            lines = [chat_line(m) for m in self.store.for_meeting(participant.meeting_id)
                     if visible_to(m, participant.username, host)]
            await participant.tell(cl.ChatHistory(messages=lines))
