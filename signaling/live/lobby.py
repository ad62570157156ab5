"""The lobby: people waiting to be let into a meeting, and the meeting's lock.

Guests always wait (unless configured otherwise), and so does everyone who is not a host
while the meeting is locked. Hosts hear of each knock at once (`lobby`, the whole list),
and admit or turn away each person or everyone waiting. Someone waiting whose socket
closes (a reload, a network cut) keeps their place for `KEEP_PLACE_S`: when the same
person knocks again within it, they are back where they were, and a decision taken
meanwhile reaches them then. The lock lasts while the meeting is live.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from signaling.errors import NotFound
from signaling.live import protocol as p
from signaling.live import protocol_chat_lobby as cl
from signaling.live.background import BackgroundTasks
from signaling.live.participants import Participant
from signaling.store import utcnow

logger = logging.getLogger(__name__)

KEEP_PLACE_S = 30.0
NOT_WAITING = "Nobody with this id is waiting in the lobby"


class Waiter(Protocol):
    """The socket of someone waiting: told things, let in, or turned away."""

    async def tell(self, message: p.ServerMessage) -> None: ...

    async def enter(self) -> None: ...

    async def turn_away(self) -> None: ...


@dataclass(eq=False)
class LobbyEntry:
    id: str
    meeting_id: str
    key: str
    """Who is waiting: their username (`guest:<id>` for a guest), the same after a reload."""
    name: str
    guest: bool
    since: datetime
    waiter: Waiter | None
    """None while their socket is gone (they keep their place a while)."""
    decision: bool | None = None
    """Admitted (True) or turned away (False) while their socket was gone."""
    expiry: asyncio.TimerHandle | None = None

    @property
    def info(self) -> cl.LobbyEntryInfo:
        return cl.LobbyEntryInfo(entry_id=self.id, name=self.name, guest=self.guest,
                                 since=self.since.isoformat())


@dataclass
class MeetingLobby:
    entries: dict[str, LobbyEntry] = field(default_factory=dict)
    """By entry id, in the order they knocked."""
    hosts: list[Participant] = field(default_factory=list)
    locked: bool = False
    entered: set[str] = field(default_factory=set)
    """Who has been in the meeting since it went live: coming back (a reload, a lost
    connection) they are no newcomers, and go straight in."""


class Lobby:
    """The lobby of every meeting on this node; `is_live` tells whether a meeting is
    live (its lock ends with it)."""

    def __init__(self, is_live: Callable[[str], bool], guests_wait: bool = True,
                 keep_place_s: float = KEEP_PLACE_S) -> None:
        self._is_live = is_live
        self.guests_wait = guests_wait
        self.keep_place_s = keep_place_s
        self._meetings: dict[str, MeetingLobby] = {}
        self._tasks = BackgroundTasks()

    def _of(self, meeting_id: str) -> MeetingLobby:
        return self._meetings.setdefault(meeting_id, MeetingLobby())

    # ------------------------------------------------------------ the lock

    def locked(self, meeting_id: str) -> bool:
        lobby = self._meetings.get(meeting_id)
        if lobby is None or not lobby.locked:
            return False
        if not self._is_live(meeting_id):
            lobby.locked = False  # the meeting ended: its next session starts unlocked
        return lobby.locked

    def entered(self, meeting_id: str, key: str) -> None:
        """`key` (a username, `guest:<id>` for a guest) is in the meeting now."""
        self._of(meeting_id).entered.add(key)

    async def set_locked(self, meeting_id: str, locked: bool,
                         everyone: list[Participant]) -> None:
        self._of(meeting_id).locked = locked
        logger.info("meeting %s %s", meeting_id, "locked" if locked else "unlocked")
        hosts = set(self.hosts(meeting_id))
        for participant in everyone:
            await participant.tell(cl.LockState(locked=locked,
                                                can_control=participant in hosts))

    def must_wait(self, meeting_id: str, key: str, guest: bool, host: bool) -> str | None:
        """Why this newcomer waits ('guest', 'locked'), or None to let them in: hosts,
        and those already let in while the meeting is live, go straight in."""
        lobby = self._of(meeting_id)
        if not self._is_live(meeting_id):
            lobby.entered.clear()
        if host or key in lobby.entered:
            return None
        if guest and self.guests_wait:
            return "guest"
        return "locked" if self.locked(meeting_id) else None

    # ------------------------------------------------------------ hosts

    def host_joined(self, meeting_id: str, participant: Participant) -> None:
        lobby = self._of(meeting_id)
        lobby.hosts = [h for h in lobby.hosts if not h.left and h.id != participant.id]
        lobby.hosts.append(participant)

    def hosts(self, meeting_id: str) -> list[Participant]:
        lobby = self._meetings.get(meeting_id)
        return [] if lobby is None else [h for h in lobby.hosts if not h.left]

    def is_host(self, participant: Participant) -> bool:
        return participant in self.hosts(participant.meeting_id)

    def listing(self, meeting_id: str, knocked: str | None = None) -> cl.LobbyList:
        lobby = self._meetings.get(meeting_id)
        entries = [] if lobby is None else [e.info for e in lobby.entries.values()]
        return cl.LobbyList(entries=entries, knocked=knocked)

    async def _tell_hosts(self, meeting_id: str, knocked: str | None = None) -> None:
        message = self.listing(meeting_id, knocked)
        for host in self.hosts(meeting_id):
            await host.tell(message)

    # ------------------------------------------------------------ waiting

    async def knock(self, meeting_id: str, key: str, name: str, guest: bool, reason: str,
                    waiter: Waiter) -> LobbyEntry:
        """Wait in the lobby; someone still holding a place there takes it back."""
        lobby = self._of(meeting_id)
        entry = next((e for e in lobby.entries.values() if e.key == key), None)
        if entry is not None:
            if entry.expiry is not None:
                entry.expiry.cancel()
                entry.expiry = None
            entry.waiter = waiter
            logger.info("meeting %s: %s back in the lobby as %s", meeting_id, key, entry.id)
            if entry.decision is not None:
                await self._decide(entry, entry.decision)
                return entry
            await waiter.tell(cl.LobbyWaiting(entry_id=entry.id, reason=reason))
            return entry
        entry = LobbyEntry(id=f"lo-{secrets.token_hex(6)}", meeting_id=meeting_id, key=key,
                           name=name, guest=guest, since=utcnow(), waiter=waiter)
        lobby.entries[entry.id] = entry
        logger.info("meeting %s: %s waits in the lobby as %s (%s)", meeting_id, key,
                    entry.id, reason)
        await waiter.tell(cl.LobbyWaiting(entry_id=entry.id, reason=reason))
        await self._tell_hosts(meeting_id, knocked=name)
        return entry

    def gone(self, entry: LobbyEntry, waiter: Waiter) -> None:
        """Their socket closed: they keep their place for a while."""
        if entry.waiter is not waiter or entry.id not in self._of(entry.meeting_id).entries:
            return
        entry.waiter = None
        loop = asyncio.get_running_loop()
        entry.expiry = loop.call_later(self.keep_place_s, self._expire, entry)

    def _expire(self, entry: LobbyEntry) -> None:
        entry.expiry = None
        entries = self._of(entry.meeting_id).entries
        if entry.waiter is None and entries.pop(entry.id, None) is not None:
            logger.info("meeting %s: %s left the lobby", entry.meeting_id, entry.key)
            self._tasks.spawn(self._tell_hosts(entry.meeting_id))

    async def decide(self, meeting_id: str, entry_id: str | None, admit: bool) -> int:
        """Admit (or turn away) one person waiting, or everyone; how many."""
        lobby = self._of(meeting_id)
        if entry_id is not None and entry_id not in lobby.entries:
            raise NotFound(NOT_WAITING, entry_id=entry_id)
        chosen = [lobby.entries[entry_id]] if entry_id else list(lobby.entries.values())
        for entry in chosen:
            await self._decide(entry, admit)
        await self._tell_hosts(meeting_id)
        return len(chosen)

    async def _decide(self, entry: LobbyEntry, admit: bool) -> None:
        waiter = entry.waiter
        if waiter is None:  # they hear it when they come back within the time
            entry.decision = admit
            return
        self._of(entry.meeting_id).entries.pop(entry.id, None)
        logger.info("meeting %s: %s %s", entry.meeting_id, entry.key,
                    "admitted" if admit else "turned away")
        try:
            await (waiter.enter() if admit else waiter.turn_away())
        except Exception:
            logger.exception("meeting %s: letting %s in failed", entry.meeting_id, entry.key)

    async def close(self) -> None:
        for lobby in self._meetings.values():
            for entry in lobby.entries.values():
                if entry.expiry is not None:
                    entry.expiry.cancel()
        self._meetings.clear()
        await self._tasks.close()
