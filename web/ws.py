"""The /ws endpoint: one browser connection, speaking protocol v1.

The session is checked when the socket opens, and again (with the permission matrix)
for every message. The first message must be `hello`.
Every message is validated; a bad one is answered with an `error` and the
connection, and the meeting, go on for everyone.
"""

from __future__ import annotations

import logging

from aiohttp import WSMsgType, web

from sfu.ids import ProducerId
from signaling.accounts.accounts import Account
from signaling.errors import (
    BadRequest,
    Forbidden,
    GiaobanError,
    GuestLinkInvalid,
    InvalidMessage,
    LobbyDenied,
    SessionExpired,
    TooManyRequests,
    Unauthorized,
)
from signaling.live import host_protocol as hp
from signaling.live import protocol as p
from signaling.live import protocol_chat_lobby as cl
from signaling.live.guest_links import Guest
from signaling.live.lobby import LobbyEntry
from signaling.live.participants import Participant
from signaling.live.tiles_protocol import Visible
from signaling.quality.client_reports import InvalidQualityReport
from signaling.schedule.meetings import Meeting
from web import ws_room
from web.auth import SESSION_COOKIE, request_account
from web.guard import check_guest_message, check_message, end_attendance, may_still_attend
from web.guest_pass import GUEST_COOKIE, socket_guest
from web.keys import LIVE_MEETINGS, LOBBY
from web.origin import CROSS_ORIGIN, same_origin
from web.pages.quality import drop_report, take_report
from web.socket_limits import MessageLimits, SocketCount

logger = logging.getLogger(__name__)

HEARTBEAT_S = 15.0
TURNED_AWAY = "A host did not let you into this meeting"
SOCKETS = web.AppKey("open_sockets", SocketCount)
"""Open /ws sockets per account (web/socket_limits.py)."""


def error_message(exc: GiaobanError, request_type: str | None = None,
                  fatal: bool = False) -> p.Error:
    return p.Error(code=exc.code, title=exc.title, detail=exc.detail, request=request_type,
                   fatal=fatal, extra=dict(exc.extra))


class Connection:
    """State of one socket: handshake done, and the participant once joined."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse, account: Account,
                 guest: Guest | None = None) -> None:
        self.request = request
        self.ws = ws
        self.account = account
        self.guest = guest
        """Set for a guest who came by a guest link (then `account` is of kind guest)."""
        self.greeted = False
        self.participant: Participant | None = None
        self.meeting: Meeting | None = None
        self.host = False
        self.waiting: LobbyEntry | None = None
        """Their place in the lobby while they wait."""
        self.limits = MessageLimits()

    async def send(self, message: p.ServerMessage) -> None:
        if self.ws.closed:
            raise ConnectionError("socket closed")
        await self.ws.send_str(p.encode(message))

    # ------------------------------------------------------------ waiting in the lobby

    async def tell(self, message: p.ServerMessage) -> None:
        try:
            await self.send(message)
        except (ConnectionError, RuntimeError) as exc:
            logger.info("%s: cannot send %s: %s", self.account.username, message.type, exc)

    async def enter(self) -> None:
        """Let in from the lobby; a refusal then (the media server unavailable, say)
        answers their join, so their page hears it and tries again."""
        try:
            await ws_room.enter(self)
        except GiaobanError as exc:
            logger.info("%s: entering from the lobby failed: %s", self.account.username,
                        exc.detail)
            await self.tell(error_message(exc, "join"))

    async def turn_away(self) -> None:
        self.waiting = None
        await self.tell(error_message(LobbyDenied(TURNED_AWAY), "join", fatal=True))
        await self.ws.close()

    def check(self, message_type: str) -> Account:
        """The account (or guest) read afresh, if it may send this message type."""
        if self.guest is not None:
            self.guest, self.account = check_guest_message(self.request, self.guest,
                                                           message_type)
            return self.account
        return check_message(self.request, message_type)

    async def handle(self, message: p.ClientMessage) -> None:
        live_meetings = self.request.app[LIVE_MEETINGS]
        if isinstance(message, p.Hello):
            self.greeted = True
            await self.send(p.Welcome(version=p.PROTOCOL_VERSION, username=self.account.username,
                                      display_name=self.account.display_name))
            return
        if not self.greeted:
            raise InvalidMessage("the first message must be hello")
        if isinstance(message, p.QualityReport):
            take_report(self.request.app, self.participant.id if self.participant else None,
                        message)
            return
        if isinstance(message, p.Join):
            if self.participant is not None or self.waiting is not None:
                raise BadRequest("this connection has already joined a meeting")
            await ws_room.join(self, message.meeting_id)
            return
        participant = self.participant
        if participant is None:
            raise BadRequest("join a meeting first")
        if not may_still_attend(self.request.app, participant):
            self.participant = None
            await end_attendance(self.request.app, participant)
            return
        if isinstance(message, p.Publish):
            await live_meetings.publish(participant, message)
        elif isinstance(message, p.Unpublish):
            await live_meetings.unpublish(participant, ProducerId(message.producer_id))
        elif isinstance(message, p.Answer):
            await live_meetings.answer(participant, message.sdp)
        elif isinstance(message, p.Ice):
            await live_meetings.ice(participant, message)
        elif isinstance(message, p.Mute):
            await live_meetings.mute(participant, message.kind, message.muted)
        elif isinstance(message, Visible):
            await live_meetings.show(participant, message)
        elif isinstance(message, p.Recording):
            await live_meetings.set_recording(participant, self.account, message.action == "start")
        elif isinstance(message, hp.RaiseHand):
            await live_meetings.raise_hand(participant, message.raised)
        elif isinstance(message, hp.UnmuteAnswer):
            await live_meetings.answer_unmute(participant, message.accepted)
        elif isinstance(message, hp.HOST_CONTROLS):
            await live_meetings.host_control(participant, message)
        elif isinstance(message, p.Leave):
            self.participant = None
            await live_meetings.leave(participant)
            await self.ws.close()
        elif isinstance(message, (cl.Chat, cl.Lock, cl.LobbyAdmit, cl.LobbyDeny,
                                  cl.GuestLinkRequest)):
            await ws_room.handle(self, participant, message)

    async def close(self) -> None:
        if self.waiting is not None:
            self.request.app[LOBBY].gone(self.waiting, self)
        if self.participant is not None:
            participant, self.participant = self.participant, None
            await self.request.app[LIVE_MEETINGS].leave(participant, reason="disconnected")


async def websocket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=p.MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    if not same_origin(request):
        logger.info("socket refused: page from another origin %r", request.headers["Origin"])
        refused = Forbidden(CROSS_ORIGIN, rule="cross_origin")
        await ws.send_str(p.encode(error_message(refused, fatal=True)))
        await ws.close()
        return ws
    account = request_account(request)
    guest: Guest | None = None
    if account is None and request.cookies.get(GUEST_COOKIE):
        try:
            guest, account = socket_guest(request)
        except GuestLinkInvalid as invalid:
            await ws.send_str(p.encode(error_message(invalid, fatal=True)))
            await ws.close()
            return ws
    if account is None:
        expired = bool(request.cookies.get(SESSION_COOKIE))
        exc: GiaobanError = (SessionExpired("Your session has expired; sign in again")
                             if expired else Unauthorized("Sign in to join meetings"))
        await ws.send_str(p.encode(error_message(exc, fatal=True)))
        await ws.close()
        return ws
    try:
        request.app[SOCKETS].open(account.username)
    except TooManyRequests as exc:
        logger.info("socket of %s refused: %s", account.username, exc.detail)
        await ws.send_str(p.encode(error_message(exc, fatal=True)))
        await ws.close()
        return ws
    connection = Connection(request, ws, account, guest)
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await _dispatch(connection, msg.data)
            elif msg.type == WSMsgType.BINARY:
                await connection.send(error_message(InvalidMessage("binary messages are not used")))
            elif msg.type == WSMsgType.ERROR:
                logger.info("socket of %s closed with error %s", account.username, ws.exception())
    finally:
        request.app[SOCKETS].close(account.username)
        await connection.close()
    return ws


async def _dispatch(connection: Connection, text: str) -> None:
    request_type: str | None = None
    try:
        connection.limits.check_any()
        message = p.parse_client_message(text)
        request_type = message.type
        connection.limits.check_kind(message.type)
        connection.account = connection.check(message.type)
        await connection.handle(message)
    except (Unauthorized, GuestLinkInvalid) as exc:  # signed out, or the pass ended
        if not connection.ws.closed:
            await connection.send(error_message(exc, request_type, fatal=True))
            await connection.ws.close()
    except InvalidQualityReport as exc:  # dropped and counted, never answered
        drop_report(connection.request.app, exc)
    except GiaobanError as exc:
        if exc.extra.get("rule") != "socket_rate":  # a flood logs nothing per message
            logger.info("%s: %s refused: %s", connection.account.username,
                        request_type or "message", exc.detail)
        if not connection.ws.closed:
            await connection.send(error_message(exc, request_type))
    except Exception:
        logger.exception("%s: %s failed", connection.account.username, request_type)
        if not connection.ws.closed:
            await connection.send(p.Error(code="internal_error", title="Server error",
                                          detail="The server could not handle this message.",
                                          request=request_type))


def setup_ws(app: web.Application) -> None:
    app[SOCKETS] = SocketCount()
    app.router.add_get("/ws", websocket)
