"""The /ws messages of chat, the lobby and the lock (protocol v1, with protocol.py).

Client -> server: chat, lock, lobby_admit, lobby_deny, guest_link.
Server -> client: chat_message, chat_history, lobby_waiting, lobby, lock_state,
guest_link_created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, TypeAlias

from signaling.errors import InvalidMessage
from signaling.live.wire_fields import Choice, Flag, Text

CHAT_WIRE_MAX = 4000
"""Characters accepted on the wire; the chat's own limit (2000) is checked with a clear
error by signaling/live/chat.py."""
CHAT_AUDIENCES: tuple[str, ...] = ("everyone", "hosts")


def lobby_entry(d: dict[str, Any], key: str) -> str | None:
    """A lobby entry's id, or null (or absent) for everyone waiting."""
    value = d.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidMessage("'entry_id' must be a lobby entry's id, or null for everyone")
    return value


LobbyEntryField = Annotated[str | None, lobby_entry]


# ---------------------------------------------------------------- client -> server
# Each is read by signaling/live/wire_fields.py's parse_fields.


@dataclass(frozen=True, slots=True)
class Chat:
    """A chat message to everyone in the meeting, or privately to its hosts."""

    type: ClassVar[str] = "chat"
    text: Annotated[str, Text(max_len=CHAT_WIRE_MAX)]
    to: Annotated[Literal["everyone", "hosts"], Choice(CHAT_AUDIENCES)] = "everyone"


@dataclass(frozen=True, slots=True)
class Lock:
    """A host locks the meeting (newcomers who are not hosts wait in the lobby) or
    unlocks it."""

    type: ClassVar[str] = "lock"
    locked: Annotated[bool, Flag()]


@dataclass(frozen=True, slots=True)
class LobbyAdmit:
    """A host lets one person waiting in (entry_id), or everyone waiting (null)."""

    type: ClassVar[str] = "lobby_admit"
    entry_id: LobbyEntryField


@dataclass(frozen=True, slots=True)
class LobbyDeny:
    """A host turns away one person waiting (entry_id), or everyone waiting (null)."""

    type: ClassVar[str] = "lobby_deny"
    entry_id: LobbyEntryField


@dataclass(frozen=True, slots=True)
class GuestLinkRequest:
    """A host asks for a new guest link, valid until the meeting's planned end."""

    type: ClassVar[str] = "guest_link"


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
