"""The socket's side of running a meeting: entering (or waiting in the lobby), chat,
the lock, and admitting or turning away those waiting. Host rights are checked here for
every message, with the host rule (signaling/accounts/hosts.py)."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from signaling.accounts.accounts import Account
from signaling.errors import Forbidden
from signaling.live import protocol as p
from signaling.live import protocol_chat_lobby as cl
from signaling.live.guest_links import OTHER_MEETING, Guest
from signaling.live.lobby import LobbyEntry
from signaling.live.participants import Participant, live_meeting_of
from signaling.schedule.meetings import ENDED_BY_HOST, JoinWindowClosed, Meeting, MeetingEnded
from web.keys import CHAT, GUESTS, LIVE_MEETINGS, LOBBY, MEETINGS
from web.origin import public_base


class Connection(Protocol):
    """One socket (web/ws.py), as far as running the meeting goes."""

    request: web.Request
    ws: web.WebSocketResponse
    account: Account
    guest: Guest | None
    meeting: Meeting | None
    host: bool
    waiting: LobbyEntry | None
    participant: Participant | None

    async def send(self, message: p.ServerMessage) -> None: ...

    async def tell(self, message: p.ServerMessage) -> None: ...

    async def enter(self) -> None: ...

    async def turn_away(self) -> None: ...

HOSTS_ONLY = "Only the meeting's hosts may do this"
MEETING_OVER = "This meeting has ended"


def meeting_for(app: web.Application, account: Account, guest: Guest | None,
                meeting_id: str) -> Meeting:
    """The meeting this socket may join now: a guest, only the one of their link."""
    meetings = app[MEETINGS]
    if guest is None:
        return meetings.open_for(meeting_id, account)
    if meeting_id != guest.meeting_id:
        raise Forbidden(OTHER_MEETING, rule="other_meeting")
    meeting = meetings.get(meeting_id)
    if meeting.state == "ended":
        raise MeetingEnded(ENDED_BY_HOST)
    if not meetings.is_open(meeting):
        raise JoinWindowClosed(MEETING_OVER)
    return meeting


def host_of(app: web.Application, meeting: Meeting, account: Account) -> bool:
    return app[LIVE_MEETINGS].is_host(meeting, account)


async def join(connection: Connection, meeting_id: str) -> None:
    """Enter the meeting, or wait in its lobby."""
    app = connection.request.app
    meeting = meeting_for(app, connection.account, connection.guest, meeting_id)
    connection.meeting = meeting
    connection.host = host_of(app, meeting, connection.account)
    lobby = app[LOBBY]
    reason = lobby.must_wait(meeting.id, connection.account.username,
                             guest=connection.guest is not None, host=connection.host)
    if reason is None:
        await enter(connection)
        return
    name = connection.account.display_name
    connection.waiting = await lobby.knock(meeting.id, connection.account.username, name,
                                           connection.guest is not None, reason, connection)


async def enter(connection: Connection) -> None:
    """Join the live meeting: then the lock state, the lobby for hosts, the chat so far."""
    app = connection.request.app
    meeting = connection.meeting
    assert meeting is not None
    connection.waiting = None
    participant = await app[LIVE_MEETINGS].join(meeting, connection.account, connection.send,
                                                close=connection.ws.close)
    connection.participant = participant
    lobby = app[LOBBY]
    lobby.entered(meeting.id, participant.username)
    if connection.host:
        lobby.host_joined(meeting.id, participant)
        await participant.tell(lobby.listing(meeting.id))
    await participant.tell(cl.LockState(locked=lobby.locked(meeting.id),
                                        can_control=connection.host))
    await app[CHAT].history(participant)


def _check_host(connection: Connection, participant: Participant) -> None:
    if not connection.request.app[LOBBY].is_host(participant):
        raise Forbidden(HOSTS_ONLY, rule="host_only")


async def handle(connection: Connection, participant: Participant,
                 message: cl.ChatLobbyClientMessage) -> None:
    app = connection.request.app
    if isinstance(message, cl.Chat):
        guest = connection.guest
        author = guest.name if guest is not None else connection.account.display_name
        await app[CHAT].send(participant, author, guest is not None, message.to, message.text)
        return
    _check_host(connection, participant)
    live_meeting = live_meeting_of(participant)
    if isinstance(message, cl.Lock):
        await app[LOBBY].set_locked(participant.meeting_id, message.locked,
                                    list(live_meeting.participants.values()))
    elif isinstance(message, cl.GuestLinkRequest):
        meeting = live_meeting.meeting
        link, token = app[GUESTS].create(meeting.id, meeting.end, connection.account.username)
        await participant.tell(cl.GuestLinkCreated(
            url=f"{public_base(connection.request)}/g/{token}",
            expires_at=link.expires_at.isoformat()))
    else:
        await app[LOBBY].decide(participant.meeting_id, message.entry_id,
                                admit=isinstance(message, cl.LobbyAdmit))
