"""Enforcement of the permission matrix (signaling/accounts/permissions.py) in the web layer.

`permission_middleware` runs after `auth_middleware`: it looks up the matched route in
the matrix before any handler runs, so no handler re-invents a role check. The socket
calls `check_message` for every message: it re-reads the session and the account, so
a deactivated account, a reset password or a changed role takes effect on the very
next message. `end_participation` and the watcher take a signed-out account out of
any live meeting within seconds, including changes made with the `giaoban` command
in another process; the watcher and every socket message likewise take out a participant
who may no longer attend (uninvited, or a role that does not join).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from yarl import URL

from signaling.accounts import permissions
from signaling.accounts.accounts import Account
from signaling.errors import (
    AccessRevoked,
    Forbidden,
    GuestLinkInvalid,
    SessionExpired,
    Unauthorized,
)
from signaling.ids import GUEST_PREFIX, is_guest_username
from signaling.live import protocol as p
from signaling.live.guest_links import Guest, guest_account
from signaling.live.participants import Participant
from web.auth import redirect, request_account, request_session
from web.keys import ACCOUNTS, GUESTS, LIVE_MEETINGS, MEETINGS, SESSIONS

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PASSWORD_PAGE = "/account/password"
WATCH_INTERVAL_S = 1.0
"""How often live participants are checked against the database."""
SIGN_IN = "Sign in to continue"
NOT_ALLOWED = "Your role does not allow this"
CHANGE_FIRST = "Change your password first"
NOT_IN_MATRIX = "This address is not in the permission matrix"
SESSION_ENDED = "Your session has ended; sign in again"
NO_LONGER_INVITED = "You may no longer take part in this meeting"


def route_pattern(request: web.Request) -> str | None:
    """The matched route's path pattern, e.g. /admin/accounts/{username}."""
    if request.match_info.http_exception is not None:
        return None
    resource = request.match_info.route.resource
    return None if resource is None else resource.canonical


@web.middleware
async def permission_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = route_pattern(request)
    if path is None:  # no route matched: the handler answers 404 or 405
        return await handler(request)
    method = request.method
    account = request_account(request)
    if not permissions.known_route(method, path):
        log.error("route %s %s is missing from the permission matrix", method, path)
        raise Forbidden(NOT_IN_MATRIX)
    if permissions.may_use_route(account, method, path):
        return await handler(request)
    if account is None:
        raise Unauthorized(SIGN_IN)
    allowed = permissions.ROUTES[permissions.route_key(method, path)]
    role_allowed = permissions.principal(account) in allowed
    if role_allowed and account.must_change_password:
        if method in ("GET", "HEAD") and not path.startswith("/api/"):
            return redirect(URL(PASSWORD_PAGE).with_query(next=request.path_qs))
        raise Forbidden(CHANGE_FIRST, rule="must_change_password")
    raise Forbidden(NOT_ALLOWED, rule="role_forbidden", role=account.role)


# ---------------------------------------------------------------- the socket


def socket_account(request: web.Request) -> Account:
    """The account behind a socket, read afresh; SessionExpired once it is signed out."""
    session = request_session(request)
    account: Account | None
    if session is not None:
        try:
            request.app[SESSIONS].get(session.token)
        except Unauthorized:
            raise SessionExpired(SESSION_ENDED) from None
        account = request.app[ACCOUNTS].find(session.username)
    else:
        known = request_account(request)
        account = None if known is None else request.app[ACCOUNTS].find(known.username)
    if account is None or not account.active:
        raise SessionExpired(SESSION_ENDED)
    return account


def check_message(request: web.Request, message_type: str) -> Account:
    """The current account if it may send this message type; Forbidden otherwise."""
    account = socket_account(request)
    if not permissions.may_send(account, message_type):
        if account.must_change_password:
            raise Forbidden(CHANGE_FIRST, rule="must_change_password")
        raise Forbidden(f"The role {account.role!r} may not send {message_type!r} messages",
                        rule="message_forbidden", role=account.role, message=message_type)
    return account


def check_guest_message(request: web.Request, guest: Guest,
                        message_type: str) -> tuple[Guest, Account]:
    """The guest read afresh (GuestLinkInvalid once their pass or link ended), if a
    guest may send this message type; Forbidden otherwise."""
    fresh = request.app[GUESTS].check(guest.id)
    account = guest_account(fresh)
    if not permissions.may_send(account, message_type):
        raise Forbidden(f"A guest may not send {message_type!r} messages",
                        rule="message_forbidden", role=permissions.GUEST, message=message_type)
    return fresh, account


# ---------------------------------------------------------------- removal from meetings


async def end_participation(app: web.Application, username: str, reason: str) -> int:
    """Take every live participant of this account out of its meeting, closing the socket."""
    removed = await app[LIVE_MEETINGS].remove_account(username, reason, SESSION_ENDED)
    if removed:
        log.info("removed %s from %d live meetings (%s)", username, removed, reason)
    return removed


async def end_attendance(app: web.Application, participant: Participant) -> None:
    """Take one participant who may no longer attend out of its meeting: a fatal
    `access_revoked` error, then the leave, then the socket closes."""
    exc = AccessRevoked(NO_LONGER_INVITED)
    await participant.tell(p.Error(code=exc.code, title=exc.title, detail=exc.detail,
                                   fatal=True))
    await app[LIVE_MEETINGS].leave(participant, reason="may no longer attend")
    if participant.close is not None:
        await participant.close()
    log.info("removed %s from meeting %s: may no longer attend", participant.username,
             participant.meeting_id)


def may_still_attend(app: web.Application, participant: Participant) -> bool:
    """Whether the participant's account, read afresh, may still attend its meeting, read
    afresh (an account that is gone is left to the signed-out sweep); a guest, while
    their pass and link hold."""
    if is_guest_username(participant.username):
        try:
            app[GUESTS].check(participant.username.removeprefix(GUEST_PREFIX))
        except GuestLinkInvalid:
            return False
        return True
    account = app[ACCOUNTS].find(participant.username)
    if account is None:
        return True
    meetings = app[MEETINGS]
    meeting = meetings.find(participant.meeting_id)
    return meeting is not None and meetings.may_attend(meeting, account)


async def sweep(app: web.Application) -> int:
    """Remove the live participants whose accounts are signed out, or who may no longer
    attend their meeting (no longer invited, a role that does not join); how many."""
    live = {u for u in app[LIVE_MEETINGS].live_usernames() if not is_guest_username(u)}
    removed = 0
    for username in app[ACCOUNTS].signed_out(live):
        removed += await end_participation(app, username, "signed out")
    for live_meeting in list(app[LIVE_MEETINGS].live.values()):
        for participant in list(live_meeting.participants.values()):
            if not participant.left and not may_still_attend(app, participant):
                await end_attendance(app, participant)
                removed += 1
    return removed


async def _watch(app: web.Application) -> None:
    while True:
        await asyncio.sleep(WATCH_INTERVAL_S)
        try:
            await sweep(app)
        except Exception:
            log.exception("checking live participants failed")


WATCHER = web.AppKey("accounts_watcher", asyncio.Task[None])


async def start_watcher(app: web.Application) -> None:
    app[WATCHER] = asyncio.create_task(_watch(app))


async def stop_watcher(app: web.Application) -> None:
    task = app.get(WATCHER)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
