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
    InvalidMessage,
    SessionExpired,
    TooManyRequests,
    Unauthorized,
)
from signaling.live import protocol as p
from signaling.live.participants import Participant
from signaling.live.tiles_protocol import Visible
from signaling.quality.client_reports import InvalidQualityReport
from web.auth import SESSION_COOKIE, request_account
from web.guard import check_message, end_attendance, may_still_attend
from web.keys import LIVE_MEETINGS, MEETINGS
from web.origin import CROSS_ORIGIN, same_origin
from web.pages.quality import drop_report, take_report
from web.socket_limits import MessageLimits, SocketCount

logger = logging.getLogger(__name__)

HEARTBEAT_S = 15.0
SOCKETS = web.AppKey("open_sockets", SocketCount)
"""Open /ws sockets per account (web/socket_limits.py)."""


def error_message(exc: GiaobanError, request_type: str | None = None,
                  fatal: bool = False) -> p.Error:
    return p.Error(code=exc.code, title=exc.title, detail=exc.detail, request=request_type,
                   fatal=fatal, extra=dict(exc.extra))


class Connection:
    """State of one socket: handshake done, and the participant once joined."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse, account: Account) -> None:
        self.request = request
        self.ws = ws
        self.account = account
        self.greeted = False
        self.participant: Participant | None = None
        self.limits = MessageLimits()

    async def send(self, message: p.ServerMessage) -> None:
        if self.ws.closed:
            raise ConnectionError("socket closed")
        await self.ws.send_str(p.encode(message))

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
            if self.participant is not None:
                raise BadRequest("this connection has already joined a meeting")
            meeting = self.request.app[MEETINGS].open_for(message.meeting_id, self.account)
            self.participant = await live_meetings.join(meeting, self.account, self.send,
                                                        close=self.ws.close)
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
        elif isinstance(message, p.Leave):
            self.participant = None
            await live_meetings.leave(participant)
            await self.ws.close()

    async def close(self) -> None:
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
    connection = Connection(request, ws, account)
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
        connection.account = check_message(connection.request, message.type)
        await connection.handle(message)
    except Unauthorized as exc:  # signed out meanwhile: this socket is over
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
