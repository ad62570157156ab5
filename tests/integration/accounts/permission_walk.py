"""What the permission walks share: a sample of every socket message, an account for
every role, every route of the application with sample values for its placeholders,
and a private meeting nobody walking is invited to.

The walks (test_permission_routes.py, test_permission_messages.py,
test_permission_objects.py, test_permission_guests.py) check each answer against
signaling/accounts/permissions.py. The routes come from the application's own router
and the messages from the protocol, so a route or message missing from the matrix
fails there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web

from signaling.accounts import permissions
from tests.integration.conftest import Site
from web.keys import ACCOUNTS, BOOKINGS, CONFIG, MEETINGS, ROOM_DEVICES, SESSIONS

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
"""Walked in this order: end_meeting ends the meeting for whoever chairs it, so it comes
last but for leave, which closes the socket."""
MARKER = json.dumps({"type": "walk-marker"})


def sample(kind: str, meeting: str) -> str:
    """The sample `kind` message as sent, a join naming `meeting`."""
    message = {"type": kind, **MESSAGES[kind]}
    if kind == "join":
        message["meeting_id"] = meeting
    return json.dumps(message)


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


async def message_outcome(ws: aiohttp.ClientWebSocketResponse, kind: str) -> str | None:
    """After sending a `kind` message: send the marker and read up to its answer. None
    when `kind` was not refused; "forbidden" when the matrix refused it; "<code> (object
    rule)" when a service refused it on its own object rules (not the organizer, say)."""
    await ws.send_str(MARKER)
    outcome: str | None = None
    while True:
        reply = json.loads(await ws.receive_str(timeout=10))
        if reply["type"] == "error" and reply["request"] == kind:
            by_matrix = reply.get("extra", {}).get("rule") == "message_forbidden"
            outcome = "forbidden" if by_matrix else f"{reply['code']} (object rule)"
        if reply["type"] == "error" and reply["code"] == "invalid_message" \
                and reply["request"] is None:
            return outcome  # the marker: everything about `kind` has arrived


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
