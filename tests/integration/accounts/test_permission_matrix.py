"""Walk every route and every socket message as every role and as anonymous, on a
real server, and check each answer against signaling/accounts/permissions.py.

The routes come from the application's own router and the messages from the
protocol, so a route or message missing from the matrix fails here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web

from signaling.accounts import permissions
from signaling.accounts.permissions import ANONYMOUS, PRINCIPALS
from signaling.live import protocol as p
from signaling.live.chairs import Chairs
from signaling.schedule.service import MeetingChanges
from tests.integration.conftest import Site
from web.keys import (
    ACCOUNTS,
    API_TOKENS,
    BOOKINGS,
    CONFIG,
    LIVE_MEETINGS,
    LOBBY,
    MEETINGS,
    RECORD_ACCESS,
    ROOM_DEVICES,
    SCHEDULE,
    SESSIONS,
)

PASSWORD = "password-123"
CSRF = "walk-csrf-token"
TARGET = "walk-target"
SAMPLE_SDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
MESSAGES: dict[str, dict[str, Any]] = {
    "hello": {"version": 1},
    "join": {},  # meeting_id filled in
    "publish": {"sdp": SAMPLE_SDP, "tracks": []},
    "unpublish": {"producer_id": "pr-none"},
    "answer": {"sdp": SAMPLE_SDP},
    "ice": {"transport": "publish", "candidate": ""},
    "mute": {"kind": "audio", "muted": True},
    "recording": {"action": "start"},
    "quality_report": {},
    "visible": {"tiles": []},
    "chat": {"text": "walk"},
    "lock": {"locked": False},
    "lobby_admit": {"entry_id": "lo-none"},
    "lobby_deny": {"entry_id": "lo-none"},
    "guest_link": {},
    "raise_hand": {"raised": True},
    "unmute_answer": {"accepted": False},
    "mute_participant": {"participant_id": "pa-none"},
    "mute_all": {},
    "ask_unmute": {"participant_id": "pa-none"},
    "stop_video": {"participant_id": "pa-none", "source": "camera"},
    "lower_hand": {"participant_id": "pa-none"},
    "lower_all_hands": {},
    "remove_participant": {"participant_id": "pa-none"},
    "spotlight": {"participant_id": None},
    "make_cohost": {"participant_id": "pa-none", "cohost": True},
    "end_meeting": {},
    "leave": {},
}
NOT_HOST = "not_host (object rule)"
MARKER = json.dumps({"type": "walk-marker"})


def user(role: str) -> str:
    return f"walk-{role}"


def principals_with_accounts(site: Site) -> tuple[dict[str, str], str]:
    """An account for every role and for the first room's device; a meeting inviting
    every staff account, booked in that room. Returns (principal -> username, meeting)."""
    app = site.server.app
    for role in permissions.SIGNED_IN:
        site.account(user(role), role)
    room = app[CONFIG].rooms[0]
    device, _ = app[ROOM_DEVICES].create_or_reset(room)
    app[ACCOUNTS].set_password(str(device), "kiosk-password-123")  # its first sign-in
    meeting = site.meeting(user("admin"), [user(r) for r in permissions.SIGNED_IN])
    found = app[MEETINGS].find(meeting)
    assert found is not None
    app[BOOKINGS].book(app[ACCOUNTS].get(user("clerk")), room.id, found.start, found.end,
                       "Walk", meeting_id=meeting)
    names = {role: user(role) for role in permissions.SIGNED_IN}
    names[permissions.ROOM] = str(device)
    return names, meeting


def app_routes(app: web.Application) -> set[tuple[str, str]]:
    found = set()
    for route in app.router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        found.add((route.method, route.resource.canonical))
    return found


def concrete(path: str, values: dict[str, str]) -> str:
    if path == "/static":
        return "/static/css/app.css"
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no sample value for a placeholder of {path}"
    return path


def refusal(status: int, location: str) -> str | None:
    if status == 401 or (status in (301, 302, 303) and location.startswith("/login?next=")):
        return "sign-in"
    if status == 403:
        return "forbidden"
    return None


def path_values(app: web.Application, meeting: str, username: str,
                **overrides: str) -> dict[str, str]:
    """A value for every placeholder of the app's routes: the meeting and person under
    test, the first room, and ids that name nothing."""
    values = {"meeting_id": meeting, "username": username, "token_id": "999999",
              "room_id": app[CONFIG].rooms[0].id, "booking_id": "999999", "token": "unknown",
              "job_id": "999999", "recording_id": "no-such-recording", "group_id": "999999",
              "link_id": "gl-none"}
    return {**values, **overrides}


async def test_every_route_is_in_the_matrix_and_nothing_else(site: Site) -> None:
    routes = app_routes(site.server.app)
    assert routes, "the router lists no routes"
    missing = sorted(routes - set(permissions.ROUTES))
    stale = sorted(set(permissions.ROUTES) - routes)
    assert missing == [], f"routes missing from the permission matrix: {missing}"
    assert stale == [], f"matrix entries without a route: {stale}"
    assert set(p.CLIENT_MESSAGES) == set(permissions.MESSAGES) == set(MESSAGES)


async def test_every_route_as_every_role_and_anonymous(site: Site) -> None:
    app = site.server.app
    names, meeting = principals_with_accounts(site)
    site.account(TARGET, "official")
    token, _ = app[API_TOKENS].create(TARGET, "walk", "walk")
    values = path_values(app, meeting, TARGET, token_id=token.id)
    checked = 0
    async with aiohttp.ClientSession() as http:
        for method, path in sorted(app_routes(app)):
            # The schedule API's object-level rules (whose meeting is it?) would answer
            # 403 as well; a meeting that does not exist isolates the matrix.
            sample = ({**values, "meeting_id": "no-such-meeting"}
                      if path.startswith(("/api/meetings/", "/meetings/{meeting_id}/"))
                      or "/record" in path else values)
            url = site.base_url + concrete(path, sample)
            allowed = permissions.ROUTES[(method, path)]
            for who in PRINCIPALS:
                headers = {"X-CSRF-Token": CSRF}
                cookies = {"giaoban_csrf": CSRF}
                if who != ANONYMOUS:
                    session = app[SESSIONS].create(names[who])
                    cookies = {"giaoban_session": str(session.token)}
                    headers = {"X-CSRF-Token": session.csrf_token}
                data = None
                if (method, path) == ("POST", "/login"):
                    data = {"username": user("official"), "password": PASSWORD,
                            "csrf_token": headers["X-CSRF-Token"]}
                http.cookie_jar.clear()
                async with http.request(method, url, headers=headers, cookies=cookies,
                                        data=data, allow_redirects=False) as response:
                    await response.read()
                    got = refusal(response.status, response.headers.get("Location", ""))
                context = f"{who} {method} {path} -> {response.status}"
                if who in allowed:
                    assert got is None, f"refused but allowed by the matrix: {context}"
                elif who == ANONYMOUS:
                    assert got == "sign-in", f"anonymous not sent to sign in: {context}"
                else:
                    assert got == "forbidden", f"not refused with 403: {context}"
                checked += 1
                app[ACCOUNTS].set_active(TARGET, True)  # some admin routes deactivate it
    assert checked == len(app_routes(app)) * len(PRINCIPALS)


async def socket_walk(site: Site, username: str, meeting: str) -> dict[str, str | None]:
    """Send every client message in turn; for each, the error code it got (or None)."""
    app = site.server.app
    session = app[SESSIONS].create(username)
    outcome: dict[str, str | None] = {}
    account = app[ACCOUNTS].get(username)
    allowed_to_leave = permissions.principal(account) in permissions.MESSAGES["leave"]
    async with aiohttp.ClientSession(cookies={"giaoban_session": str(session.token)}) as http:
        async with http.ws_connect(site.base_url + "/ws") as ws:
            for kind, body in MESSAGES.items():
                message = {"type": kind, **body}
                if kind == "join":
                    message["meeting_id"] = meeting
                await ws.send_str(json.dumps(message))
                if kind == "leave" and allowed_to_leave:
                    break  # the server closes the socket after a leave
                if kind == "end_meeting" and ended_by(account, meeting, app):
                    reply = json.loads(await ws.receive_str(timeout=10))
                    assert (reply["code"], reply["fatal"]) == ("meeting_ended", True), reply
                    outcome[kind] = None
                    outcome["leave"] = None  # walked in the pass as a participant
                    return outcome
                await ws.send_str(MARKER)
                outcome[kind] = None
                while True:
                    reply = json.loads(await ws.receive_str(timeout=10))
                    if reply["type"] == "error" and reply["request"] == kind:
                        # The matrix's refusal names its rule; a service may refuse
                        # on its own object rules (not the organizer, say) as well.
                        by_matrix = reply.get("extra", {}).get("rule") == "message_forbidden"
                        outcome[kind] = ("forbidden" if by_matrix
                                         else f"{reply['code']} (object rule)")
                    if reply["type"] == "error" and reply["code"] == "invalid_message" \
                            and reply["request"] is None:
                        break  # the marker: everything about `kind` has arrived
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


async def test_an_account_that_must_change_its_password_reaches_only_that_page(
    site: Site,
) -> None:
    app = site.server.app
    site.account("walk-reset", "official")
    app[ACCOUNTS].reset_password("walk-reset")
    session = app[SESSIONS].create("walk-reset")
    cookies = {"giaoban_session": str(session.token)}
    async with aiohttp.ClientSession(cookies=cookies) as http:
        async with http.get(site.base_url + "/meetings", allow_redirects=False) as response:
            assert response.status == 302
            assert response.headers["Location"] == "/account/password?next=/meetings"
        async with http.get(site.base_url + "/account/password") as response:
            assert response.status == 200
            assert 'data-testid="must-change-notice"' in await response.text()
        async with http.ws_connect(site.base_url + "/ws") as ws:
            await ws.send_str(json.dumps({"type": "hello", "version": 1}))
            reply = json.loads(await ws.receive_str(timeout=10))
            assert (reply["code"], reply["extra"]["rule"]) == ("forbidden", "must_change_password")


# ---------------------------------------------------------------- object rules, every route

OUTSIDERS = ("leader", "secretary", "official", permissions.ROOM)
"""Principals that see only their own meetings (the secretary has no leaders assigned)."""
SECRET = "Walk secret meeting"
UNSAFE = ("POST", "PATCH", "PUT", "DELETE")


def private_meeting(site: Site, start: datetime) -> str:
    """A leader's meeting inviting one official, booked in the second room by an
    administrator; nobody walking the routes is invited."""
    app = site.server.app
    for name, role in (("walk-minister", "leader"), ("walk-guest", "official")):
        if app[ACCOUNTS].find(name) is None:
            site.account(name, role)
    meeting = app[MEETINGS].create(SECRET, "walk-minister", start, start + timedelta(hours=1),
                                   invitees=["walk-guest"])
    app[BOOKINGS].book(app[ACCOUNTS].get(user("admin")), app[CONFIG].rooms[1].id,
                       meeting.start, meeting.end, SECRET, meeting_id=meeting.id)
    return str(meeting.id)


def bystander(site: Site) -> str:
    """The account the administration routes act on while walking: nobody else's."""
    if site.server.app[ACCOUNTS].find("walk-bystander") is None:
        site.account("walk-bystander", "official")
    return "walk-bystander"


def footprint(site: Site, meeting: str, full: bool = True) -> tuple[object, ...]:
    """Who reaches a meeting: its invitees and, unless `full` is false (someone who may
    still move or cancel it), its room, booking links and times, which decide who
    else joins and the record's audience."""
    app = site.server.app
    found = app[MEETINGS].get(meeting)
    if not full:
        return found.invitees,
    links = sorted((b.id, b.room_id) for b in app[BOOKINGS].for_meeting(meeting))
    return found.invitees, found.room_id, tuple(links), found.start, found.end


Check = Callable[[str, str, int, str], None]


async def walk_as(site: Site, who: str, names: dict[str, str], values: dict[str, str],
                  check: Check) -> None:
    """Every route as `who`, with `values` in the path and, for a write, a body that asks
    to link the meeting, add `who` to it and move it; `check` sees each answer
    (method, path, status, body) before the next request."""
    app = site.server.app
    tz = app[CONFIG].tz
    when = (datetime.now(UTC) + timedelta(days=9)).astimezone(tz)
    body = {"meeting_id": values["meeting_id"], "room_id": values["room_id"],
            "invitees": ["walk-guest", names[who]], "title": "Walk",
            "start": when.isoformat(), "end": (when + timedelta(hours=1)).isoformat()}
    async with aiohttp.ClientSession() as http:
        for method, path in sorted(app_routes(app)):
            if (method, path) in (("POST", "/logout"), ("GET", "/ws")):
                continue
            session = app[SESSIONS].create(names[who])
            async with http.request(
                    method, site.base_url + concrete(path, values),
                    json=body if method in UNSAFE else None,
                    headers={"X-CSRF-Token": session.csrf_token},
                    cookies={"giaoban_session": str(session.token)},
                    allow_redirects=False) as response:
                text = await response.text(errors="replace")
            check(method, path, response.status, text)


async def test_no_route_shows_or_changes_a_private_meeting_to_an_outsider(site: Site) -> None:
    app = site.server.app
    names, _ = principals_with_accounts(site)
    meeting = private_meeting(site, datetime.now(UTC) + timedelta(days=1))
    booking = app[BOOKINGS].for_meeting(meeting)[0]
    before = footprint(site, meeting)
    values = path_values(app, meeting, bystander(site), booking_id=str(booking.id))
    for who in OUTSIDERS:
        def check(method: str, path: str, status: int, text: str, who: str = who) -> None:
            context = f"{who} {method} {path} -> {status}"
            assert SECRET not in text, f"the private meeting's title shown: {context}"
            if "{meeting_id}" in path:
                assert status in (302, 303, 403, 404), f"reached the meeting: {context}"
            if path.startswith("/api/bookings"):
                assert meeting not in text, f"the booking's meeting link shown: {context}"
            assert footprint(site, meeting) == before, f"changed the meeting: {context}"
            assert not app[MEETINGS].may_attend(app[MEETINGS].get(meeting),
                                                app[ACCOUNTS].get(names[who])), context
        await walk_as(site, who, names, values, check)


async def test_no_route_changes_who_reaches_a_meeting_that_is_over(site: Site) -> None:
    """As every role, administrators included; and a clerk does not add people to a
    leader's meeting a clerk did not schedule."""
    app = site.server.app
    names, _ = principals_with_accounts(site)
    past = private_meeting(site, datetime.now(UTC) - timedelta(days=1))
    upcoming = private_meeting(site, datetime.now(UTC) + timedelta(days=2))
    walks = [(past, who) for who in names] + [(upcoming, "clerk")]
    for meeting, who in walks:
        full = meeting == past
        before = footprint(site, meeting, full)
        values = path_values(app, meeting, bystander(site))
        def check(method: str, path: str, status: int, _: str, who: str = who,
                  meeting: str = meeting, full: bool = full,
                  before: tuple[object, ...] = before) -> None:
            context = f"{who} {method} {path} -> {status} ({meeting})"
            assert footprint(site, meeting, full) == before, f"changed the meeting: {context}"

        await walk_as(site, who, names, values, check)
        found = app[MEETINGS].get(meeting)
        if who not in ("admin", "room"):
            assert not app[RECORD_ACCESS].may_view(found, app[ACCOUNTS].get(names[who])), who


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
                await ws.send_str(json.dumps({"type": kind, **MESSAGES[kind]}))
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


# ---------------------------------------------------------------- guests, every route


async def test_a_guest_reaches_no_route_but_what_anyone_may(site: Site) -> None:
    """With a valid pass (and a meeting of their own), a guest is refused every route
    anonymous people are, sees no private meeting, and changes nothing."""
    from tests.integration.room.helpers import give_name, guest_link

    app = site.server.app
    names, meeting = principals_with_accounts(site)
    secret_meeting = private_meeting(site, datetime.now(UTC) + timedelta(days=1))
    token = guest_link(site, meeting)
    status, _, guest_pass = await give_name(site, token, "Walk Guest")
    assert status == 200 and guest_pass
    before = footprint(site, secret_meeting)
    values = path_values(app, secret_meeting, bystander(site), token=token)
    checked = 0
    async with aiohttp.ClientSession() as http:
        for method, path in sorted(app_routes(app)):
            if (method, path) == ("GET", "/ws"):
                continue
            http.cookie_jar.clear()
            async with http.request(
                    method, site.base_url + concrete(path, values),
                    headers={"X-CSRF-Token": CSRF},
                    cookies={"giaoban_guest": guest_pass, "giaoban_csrf": CSRF},
                    data={"name": "Walk Guest"} if method == "POST" else None,
                    allow_redirects=False) as response:
                text = await response.text(errors="replace")
                got = refusal(response.status, response.headers.get("Location", ""))
            context = f"guest {method} {path} -> {response.status}"
            if ANONYMOUS in permissions.ROUTES[(method, path)]:
                assert got != "forbidden", context  # a wrong sign-in still answers 401
            else:
                assert got == "sign-in", f"a guest not sent to sign in: {context}"
            assert SECRET not in text, f"the private meeting shown to a guest: {context}"
            assert footprint(site, secret_meeting) == before, context
            checked += 1
    assert checked == len(app_routes(app)) - 1
    assert names  # every role's account exists, untouched by the guest


async def test_every_socket_message_as_a_guest(site: Site) -> None:
    from tests.integration.room.helpers import give_name, guest_link

    app = site.server.app
    _, meeting = principals_with_accounts(site)
    app[LOBBY].guests_wait = False  # the walk joins straight away
    _, _, guest_pass = await give_name(site, guest_link(site, meeting), "Walk Guest")
    assert guest_pass
    outcome: dict[str, str | None] = {}
    async with aiohttp.ClientSession(cookies={"giaoban_guest": guest_pass}) as http:
        async with http.ws_connect(site.base_url + "/ws") as ws:
            for kind, body in MESSAGES.items():
                message = {"type": kind, **body}
                if kind == "join":
                    message["meeting_id"] = meeting
                await ws.send_str(json.dumps(message))
                if kind == "leave":
                    break
                await ws.send_str(MARKER)
                outcome[kind] = None
                while True:
                    reply = json.loads(await ws.receive_str(timeout=10))
                    if reply["type"] == "error" and reply["request"] == kind:
                        by_matrix = reply.get("extra", {}).get("rule") == "message_forbidden"
                        outcome[kind] = ("forbidden" if by_matrix
                                         else f"{reply['code']} (object rule)")
                    if reply["type"] == "error" and reply["code"] == "invalid_message" \
                            and reply["request"] is None:
                        break
    for kind, code in outcome.items():
        if permissions.GUEST in permissions.MESSAGES[kind]:
            assert code != "forbidden", f"a guest refused {kind} though the matrix allows it"
        else:
            assert code == "forbidden", f"a guest sent {kind} against the matrix: {code}"
    assert {k for k, v in outcome.items() if v == "forbidden"} == {
        k for k in outcome if permissions.GUEST not in permissions.MESSAGES[k]} >= {
        "recording", "lock", "lobby_admit", "lobby_deny", "guest_link"}
