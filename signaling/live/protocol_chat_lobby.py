"""The /ws messages of chat, the lobby and the lock (protocol v1, with protocol.py).

Client -> server: chat, lock, lobby_admit, lobby_deny, guest_link.
Server -> client: chat_message, chat_history, lobby_waiting, lobby, lock_state,
guest_link_created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeAlias

from signaling.errors import InvalidMessage

CHAT_WIRE_MAX = 4000
"""Characters accepted on the wire; the chat's own limit (2000) is checked with a clear
error by signaling/live/chat.py."""


def _text(d: dict[str, Any], key: str, max_len: int) -> str:
    value = d.get(key)
    if not isinstance(value, str):
        raise InvalidMessage(f"'{key}' must be a string")
    if len(value) > max_len:
        raise InvalidMessage(f"'{key}' is longer than {max_len} characters")
    return value


def _entry(d: dict[str, Any]) -> str | None:
    value = d.get("entry_id")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidMessage("'entry_id' must be a lobby entry's id, or null for everyone")
    return value


# ---------------------------------------------------------------- client -> server


@dataclass(frozen=True, slots=True)
class Chat:
    """A chat message to everyone in the meeting, or privately to its hosts."""

    type: ClassVar[str] = "chat"
    text: str
    to: Literal["everyone", "hosts"] = "everyone"

    @classmethod
    def parse(cls, d: dict[str, Any]) -> Chat:
        to = d.get("to", "everyone")
        if to not in ("everyone", "hosts"):
            raise InvalidMessage("'to' must be one of everyone, hosts")
        return cls(text=_text(d, "text", CHAT_WIRE_MAX), to=to)


@dataclass(frozen=True, slots=True)
class Lock:
    """A host locks the meeting (newcomers who are not hosts wait in the lobby) or
    unlocks it."""

    type: ClassVar[str] = "lock"
    locked: bool

    @classmethod
    def parse(cls, d: dict[str, Any]) -> Lock:
        value = d.get("locked")
        if not isinstance(value, bool):
            raise InvalidMessage("'locked' must be true or false")
        return cls(locked=value)


@dataclass(frozen=True, slots=True)
class LobbyAdmit:
    """A host lets one person waiting in (entry_id), or everyone waiting (null)."""

    type: ClassVar[str] = "lobby_admit"
    entry_id: str | None

    @classmethod
    def parse(cls, d: dict[str, Any]) -> LobbyAdmit:
        return cls(entry_id=_entry(d))


@dataclass(frozen=True, slots=True)
class LobbyDeny:
    """A host turns away one person waiting (entry_id), or everyone waiting (null)."""

    type: ClassVar[str] = "lobby_deny"
    entry_id: str | None

    @classmethod
    def parse(cls, d: dict[str, Any]) -> LobbyDeny:
        return cls(entry_id=_entry(d))


@dataclass(frozen=True, slots=True)
class GuestLinkRequest:
    """A host asks for a new guest link, valid until the meeting's planned end."""

    type: ClassVar[str] = "guest_link"

    @classmethod
    def parse(cls, d: dict[str, Any]) -> GuestLinkRequest:
        return cls()


ChatLobbyClientMessage: TypeAlias = Chat | Lock | LobbyAdmit | LobbyDeny | GuestLinkRequest
CHAT_LOBBY_MESSAGES: tuple[Any, ...] = (Chat, Lock, LobbyAdmit, LobbyDeny, GuestLinkRequest)


# ---------------------------------------------------------------- server -> client


@dataclass(frozen=True, slots=True)
class ChatLine:
    id: int
    author: str
    """The author's username, or a guest's name."""
    author_name: str
    guest: bool
    to: str
    text: str
    sent_at: str
    """ISO 8601, UTC."""


@dataclass(frozen=True, slots=True)
class ChatMessageSent:
    type: ClassVar[str] = "chat_message"
    message: ChatLine


@dataclass(frozen=True, slots=True)
class ChatHistory:
    """The conversation so far, sent on joining."""

    type: ClassVar[str] = "chat_history"
    messages: list[ChatLine]


@dataclass(frozen=True, slots=True)
class LobbyWaiting:
    """You wait in the lobby until a host admits you."""

    type: ClassVar[str] = "lobby_waiting"
    entry_id: str
    reason: str
    """'guest' (guests always wait) or 'locked'."""


@dataclass(frozen=True, slots=True)
class LobbyEntryInfo:
    entry_id: str
    name: str
    guest: bool
    since: str
    """When they first knocked, ISO 8601 UTC."""


@dataclass(frozen=True, slots=True)
class LobbyList:
    """To hosts: everyone waiting, first come first; sent on every change."""

    type: ClassVar[str] = "lobby"
    entries: list[LobbyEntryInfo]
    knocked: str | None = None
    """The name of whoever just knocked, when that is the change."""


@dataclass(frozen=True, slots=True)
class LockState:
    type: ClassVar[str] = "lock_state"
    locked: bool
    can_control: bool = False
    """True for hosts, who may lock and unlock, admit and turn away."""


@dataclass(frozen=True, slots=True)
class GuestLinkCreated:
    """To the host who asked: the new guest link (its address is shown only now)."""

    type: ClassVar[str] = "guest_link_created"
    url: str
    expires_at: str


ChatLobbyServerMessage: TypeAlias = (ChatMessageSent | ChatHistory | LobbyWaiting | LobbyList
                                     | LockState | GuestLinkCreated)
