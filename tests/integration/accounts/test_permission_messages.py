"""Every socket message as every role (as a participant and as a host), and as
anonymous, on a real server, against signaling/accounts/permissions.py; and every
message from someone who lost access while joined."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from aiohttp import web

from signaling.accounts import permissions
from signaling.accounts.permissions import ANONYMOUS
from signaling.live.chairs import Chairs
from signaling.schedule.service import MeetingChanges
from tests.integration.accounts.permission_walk import (
    MESSAGES,
    message_outcome,
    principals_with_accounts,
    sample,
    user,
)
from tests.integration.conftest import Site
from web.keys import ACCOUNTS, LIVE_MEETINGS, MEETINGS, SCHEDULE, SESSIONS

NOT_HOST = "not_host (object rule)"


async def socket_walk(site: Site, username: str, meeting: str) -> dict[str, str | None]:
    """Send every client message in turn; for each, the error code it got (or None)."""
    app = site.server.app
    session = app[SESSIONS].create(username)
    outcome: dict[str, str | None] = {}
    account = app[ACCOUNTS].get(username)
    allowed_to_leave = permissions.principal(account) in permissions.MESSAGES["leave"]
    async with aiohttp.ClientSession(cookies={"giaoban_session": str(session.token)}) as http:
        async with http.ws_connect(site.base_url + "/ws") as ws:
            for kind in MESSAGES:
                await ws.send_str(sample(kind, meeting))
                if kind == "leave" and allowed_to_leave:
                    break  # the server closes the socket after a leave
                if kind == "end_meeting" and ended_by(account, meeting, app):
                    reply = json.loads(await ws.receive_str(timeout=10))
                    assert (reply["code"], reply["fatal"]) == ("meeting_ended", True), reply
                    outcome[kind] = None
                    outcome["leave"] = None  # walked in the pass as a participant
                    return outcome
                outcome[kind] = await message_outcome(ws, kind)
            else:
                return outcome
            msg = await ws.receive(timeout=10)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), msg
            outcome["leave"] = None
    return outcome


def ended_by(account: Any, meeting: str, app: web.Application) -> bool:
    """Whether this account's end_meeting ends the meeting: it chairs it."""
    found = app[MEETINGS].get(meeting)
    chairs = Chairs(app[ACCOUNTS].secretaries_of)
    return permissions.may_send(account, "end_meeting") and chairs.reason(found, account) \
        is not None


async def test_every_socket_message_as_every_role(site: Site) -> None:
    """Every message as every role, first as a participant who does not chair (room
    devices, and every role but administrators, who always may chair), then as a host:
    named co-host of a meeting of their own (administrators, who chair any meeting),
    which their end_meeting ends for good."""
    app = site.server.app
    names, meeting = principals_with_accounts(site)
    staff = [user(r) for r in permissions.SIGNED_IN]

    def chaired() -> str:
        return str(app[MEETINGS].create("Walk chaired", user("admin"), invitees=staff,
                                        cohosts=staff).id)

    walks = [(role, meeting, False) for role in sorted(names) if role != "admin"]
    walks += [(role, chaired(), True) for role in sorted(names)
              if role not in (permissions.ROOM, "it")]
    for role, walked, host in walks:
        account = app[ACCOUNTS].get(names[role])
        assert (Chairs(app[ACCOUNTS].secretaries_of).reason(app[MEETINGS].get(walked), account)
                is not None) == host, role
        outcome = await socket_walk(site, names[role], walked)
        assert set(outcome) == set(MESSAGES), (role, outcome)
        if role in permissions.MESSAGES["join"]:  # the walk runs inside the meeting
            assert outcome["join"] is None, (role, outcome)
        for kind, code in outcome.items():
            context = f"{role} ({'host' if host else 'participant'}) {kind}: {code}"
            if role not in permissions.MESSAGES[kind]:
                assert code == "forbidden", f"sent against the matrix: {context}"
                continue
            assert code != "forbidden", f"refused though the matrix allows it: {context}"
            owner = role == "admin"  # the others chair the second meeting as co-hosts
            if kind in permissions.HOST_MESSAGES and not permissions.may_control(
                    kind, host, owner):
                assert code in (NOT_HOST, "not_owner (object rule)"), context
            else:
                assert code not in (NOT_HOST, "not_owner (object rule)"), context
    assert app[ACCOUNTS].count_active() == len(permissions.SIGNED_IN)


async def test_anonymous_socket_is_refused_before_any_message(site: Site) -> None:
    assert all(ANONYMOUS not in allowed for allowed in permissions.MESSAGES.values())
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(site.base_url + "/ws") as ws:
            first = json.loads(await ws.receive_str(timeout=10))
            assert (first["type"], first["code"], first["fatal"]) == ("error", "unauthorized", True)
            msg = await ws.receive(timeout=10)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_every_message_after_losing_access_ends_the_participation(site: Site) -> None:
    """Uninvited while joined: whatever is sent next is answered with a fatal
    access_revoked and the socket closes; the meeting goes on without them."""
    app = site.server.app
    names, meeting = principals_with_accounts(site)
    admin = app[ACCOUNTS].get(user("admin"))
    everyone = tuple(user(r) for r in permissions.SIGNED_IN)
    for kind in sorted(set(MESSAGES) - {"hello", "join"}):
        session = app[SESSIONS].create(user("official"))
        cookies = {"giaoban_session": str(session.token)}
        async with aiohttp.ClientSession(cookies=cookies) as http:
            async with http.ws_connect(site.base_url + "/ws") as ws:
                await ws.send_str(json.dumps({"type": "hello", "version": 1}))
                await ws.send_str(json.dumps({"type": "join", "meeting_id": meeting}))
                while json.loads(await ws.receive_str(timeout=10))["type"] != "joined":
                    pass
                app[SCHEDULE].update(admin, meeting, MeetingChanges(
                    invitees=tuple(n for n in everyone if n != user("official"))))
                await ws.send_str(sample(kind, meeting))
                codes = []
                while True:
                    msg = await ws.receive(timeout=10)
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        break
                    reply = json.loads(msg.data)
                    if reply["type"] == "error":
                        codes.append((reply["code"], reply["fatal"]))
                assert codes == [("access_revoked", True)], (kind, codes)
        assert user("official") not in app[LIVE_MEETINGS].live_usernames(), kind
        app[SCHEDULE].update(admin, meeting, MeetingChanges(invitees=everyone))
