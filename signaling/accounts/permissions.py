"""The permission matrix: who may use each HTTP route and each socket message.

This is the one place that says which role reaches what. The web layer looks up the
matched route (method and path pattern, as registered with aiohttp) before any
handler runs, and the socket looks up every message type. A route or message missing
from here is refused to everyone, and the permission test fails.

Object-level rules (is this account invited to this meeting?) are not here; the
services check them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from signaling.accounts.accounts import Account
from signaling.accounts.fields import ROLES

ANONYMOUS: Final = "anonymous"
ROOM: Final = "room"
"""A dedicated room's kiosk device account: whatever its stored role, it only shows its
room's kiosk and joins the meetings booked in its room."""
GUEST: Final = "guest"
"""An outside guest who came by a guest link: no account and no session, so every route
sees them as anonymous; on the socket they may take part in their one meeting."""
PRINCIPALS: Final[tuple[str, ...]] = (*ROLES, ROOM, ANONYMOUS)
"""Every column of the route matrix: the six roles, room devices, then people not
signed in (guests among them)."""
MESSAGE_PRINCIPALS: Final[tuple[str, ...]] = (*ROLES, ROOM, GUEST, ANONYMOUS)
"""The columns of the socket message matrix, where guests have their own."""

EVERYONE: Final = frozenset(PRINCIPALS)
SIGNED_IN: Final = frozenset(ROLES)
"""Every staff account (room devices are listed separately)."""
ADMIN: Final = frozenset({"admin"})
MEETING_ROLES: Final = frozenset(ROLES) - {"it"}
"""Everyone who takes part in meetings; IT staff watch and list but do not join."""
SCHEDULERS: Final = frozenset({"admin", "secretary", "official", "clerk"})
BOOKERS: Final = frozenset({"admin", "secretary", "clerk"})
QUALITY_VIEWERS: Final = frozenset({"it", "admin"})
KIOSK: Final = frozenset({ROOM, "admin", "clerk", "it"})
"""The room's own device, and staff who manage rooms (to check what its screen shows)."""

ROUTES: Final[dict[tuple[str, str], frozenset[str]]] = {
    # Public: sign-in, health, static files. The socket checks the session itself on
    # connect, so that a page can tell an expired session from a refused message.
    ("GET", "/"): EVERYONE,
    ("GET", "/login"): EVERYONE,
    ("POST", "/login"): EVERYONE,
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/static"): EVERYONE,
    ("GET", "/ws"): EVERYONE,
    # The unguessable token in the address is the credential of a calendar feed.
    ("GET", "/feeds/{token}.ics"): EVERYONE,
    # A guest link's page, and giving a name there for a pass to its one meeting; the
    # link's token is the credential (signaling/live/guest_links.py).
    ("GET", "/g/{token}"): EVERYONE,
    ("POST", "/api/guests/{token}"): EVERYONE,
    # Guest links of a meeting: its hosts and those who may change it (the object rule
    # is in web/api/guest_links.py).
    ("GET", "/api/meetings/{meeting_id}/guest-links"): SIGNED_IN,
    ("POST", "/api/meetings/{meeting_id}/guest-links"): SIGNED_IN,
    ("POST", "/api/meetings/{meeting_id}/guest-links/{link_id}/revoke"): SIGNED_IN,
    # Every signed-in account.
    ("POST", "/logout"): SIGNED_IN | {ROOM},
    ("GET", "/meetings"): SIGNED_IN,
    # A room's device too: its one-time password must be changed on first sign-in.
    ("GET", "/account/password"): SIGNED_IN | {ROOM},
    ("POST", "/account/password"): SIGNED_IN | {ROOM},
    ("GET", "/docs/permissions"): SIGNED_IN,
    # Meetings: joining is for those who take part.
    ("GET", "/m/{meeting_id}"): MEETING_ROLES,
    # Schedule and rooms; which meetings and bookings one may see or change is
    # decided by signaling/schedule/access.py.
    ("GET", "/today"): SIGNED_IN,
    ("GET", "/schedule/new"): SCHEDULERS,
    ("POST", "/schedule/new"): SCHEDULERS,
    ("GET", "/calendar"): BOOKERS,
    ("GET", "/calendar-feed"): SIGNED_IN,
    ("POST", "/calendar-feed"): SIGNED_IN,
    ("GET", "/meetings/{meeting_id}.ics"): SIGNED_IN,
    ("GET", "/meetings/{meeting_id}/edit"): SCHEDULERS,
    ("POST", "/meetings/{meeting_id}/edit"): SCHEDULERS,
    ("POST", "/meetings/{meeting_id}/cancel"): SCHEDULERS,
    ("POST", "/meetings/{meeting_id}/guest-links"): SCHEDULERS,
    ("POST", "/meetings/{meeting_id}/guest-links/{link_id}/revoke"): SCHEDULERS,
    ("GET", "/api/directory"): SCHEDULERS,
    ("GET", "/groups"): BOOKERS,
    ("POST", "/groups"): BOOKERS,
    ("POST", "/groups/{group_id}/delete"): BOOKERS,
    ("GET", "/rooms/{room_id}/kiosk"): KIOSK,
    ("GET", "/api/rooms/{room_id}/kiosk"): KIOSK,
    ("GET", "/rooms/{room_id}/join/{meeting_id}"): KIOSK - {"it"},
    ("GET", "/api/meetings"): SIGNED_IN,
    ("POST", "/api/meetings"): SCHEDULERS,
    ("GET", "/api/meetings/{meeting_id}"): SIGNED_IN,
    ("PATCH", "/api/meetings/{meeting_id}"): SCHEDULERS,
    ("DELETE", "/api/meetings/{meeting_id}"): SCHEDULERS,
    ("GET", "/api/rooms"): SIGNED_IN,
    ("GET", "/api/bookings"): SIGNED_IN,
    ("POST", "/api/bookings"): BOOKERS,
    ("GET", "/api/bookings/{booking_id}"): SIGNED_IN,
    ("PATCH", "/api/bookings/{booking_id}"): BOOKERS,
    ("DELETE", "/api/bookings/{booking_id}"): BOOKERS,
    # The record of a meeting; who may see it (organizer, invitees, their
    # secretaries, admins) and change the minutes is decided by signaling/records/meeting_record.py.
    ("GET", "/m/{meeting_id}/record"): SIGNED_IN,
    ("POST", "/m/{meeting_id}/record/minutes"): SIGNED_IN,
    ("GET", "/m/{meeting_id}/record/attendance.csv"): SIGNED_IN,
    ("GET", "/m/{meeting_id}/record/chat.txt"): SIGNED_IN,
    ("GET", "/m/{meeting_id}/record/chat.csv"): SIGNED_IN,
    ("POST", "/m/{meeting_id}/record/jobs/{job_id}/retry"): SIGNED_IN,
    ("GET", "/api/meetings/{meeting_id}/compose-jobs"): SIGNED_IN,
    ("GET", "/recordings/{recording_id}"): SIGNED_IN,
    ("GET", "/admin/recordings"): ADMIN,
    # Media quality for IT staff. /metrics checks its own credential (loopback only, or
    # the configured bearer token) for Prometheus, which has no session.
    ("GET", "/it"): QUALITY_VIEWERS,
    ("GET", "/it/ws"): QUALITY_VIEWERS,
    ("GET", "/it/meetings"): QUALITY_VIEWERS,
    ("GET", "/it/meetings/{meeting_id}"): QUALITY_VIEWERS,
    ("GET", "/it/meetings/{meeting_id}/quality.csv"): QUALITY_VIEWERS,
    ("GET", "/metrics"): EVERYONE,
    # Administration pages.
    ("GET", "/admin/accounts"): ADMIN,
    ("POST", "/admin/accounts"): ADMIN,
    ("GET", "/admin/accounts/{username}"): ADMIN,
    ("POST", "/admin/accounts/{username}"): ADMIN,
    ("POST", "/admin/accounts/{username}/active"): ADMIN,
    ("POST", "/admin/accounts/{username}/password"): ADMIN,
    ("POST", "/admin/accounts/{username}/leaders"): ADMIN,
    ("POST", "/admin/accounts/{username}/tokens"): ADMIN,
    ("POST", "/admin/accounts/{username}/tokens/{token_id}/revoke"): ADMIN,
    ("GET", "/admin/import"): ADMIN,
    ("POST", "/admin/import"): ADMIN,
    ("POST", "/admin/import/apply"): ADMIN,
    ("GET", "/admin/audit"): ADMIN,
    ("GET", "/admin/audit.csv"): ADMIN,
    # The JSON API for accounts (bearer tokens or a session).
    ("GET", "/api/accounts"): ADMIN,
    ("POST", "/api/accounts"): ADMIN,
    ("GET", "/api/accounts/{username}"): ADMIN,
    ("PATCH", "/api/accounts/{username}"): ADMIN,
    ("POST", "/api/accounts/{username}/deactivate"): ADMIN,
    ("GET", "/api/licence"): ADMIN,
}

MESSAGES: Final[dict[str, frozenset[str]]] = {
    "hello": SIGNED_IN | {ROOM, GUEST},
    "join": MEETING_ROLES | {ROOM, GUEST},
    "publish": MEETING_ROLES | {ROOM, GUEST},
    "unpublish": MEETING_ROLES | {ROOM, GUEST},
    "answer": MEETING_ROLES | {ROOM, GUEST},
    "ice": MEETING_ROLES | {ROOM, GUEST},
    "mute": MEETING_ROLES | {ROOM, GUEST},
    "visible": MEETING_ROLES | {ROOM, GUEST},
    "leave": MEETING_ROLES | {ROOM, GUEST},
    "recording": MEETING_ROLES,
    "quality_report": MEETING_ROLES | {ROOM, GUEST},
    "chat": MEETING_ROLES | {ROOM, GUEST},
    # Hosts only: the object rule (signaling/accounts/hosts.py) decides who is one.
    "lock": MEETING_ROLES,
    "lobby_admit": MEETING_ROLES,
    "lobby_deny": MEETING_ROLES,
    "guest_link": MEETING_ROLES,
    "raise_hand": MEETING_ROLES | {ROOM, GUEST},
    "unmute_answer": MEETING_ROLES | {ROOM, GUEST},
    # Host controls: besides the role, the sender must chair the meeting
    # (signaling/accounts/hosts.py); a room's device never does.
    "mute_participant": MEETING_ROLES,
    "mute_all": MEETING_ROLES,
    "ask_unmute": MEETING_ROLES,
    "stop_video": MEETING_ROLES,
    "lower_hand": MEETING_ROLES,
    "lower_all_hands": MEETING_ROLES,
    "remove_participant": MEETING_ROLES,
    "spotlight": MEETING_ROLES,
    "end_meeting": MEETING_ROLES,
    "make_cohost": MEETING_ROLES,
}

HOST_MESSAGES: Final = frozenset({
    "mute_participant", "mute_all", "ask_unmute", "stop_video", "lower_hand",
    "lower_all_hands", "remove_participant", "spotlight", "end_meeting", "make_cohost",
})
"""Messages only a host of the meeting may send; `make_cohost` only an owner (a host
who is not a co-host)."""
OWNER_MESSAGES: Final = frozenset({"make_cohost"})

PASSWORD_CHANGE_ROUTES: Final = frozenset({
    ("GET", "/"), ("GET", "/login"), ("POST", "/login"), ("GET", "/healthz"),
    ("GET", "/static"), ("POST", "/logout"), ("GET", "/account/password"),
    ("POST", "/account/password"), ("GET", "/ws"),
})
"""All an account that must change its password may reach until it has done so. The
socket opens, so that the page hears why, but refuses every message (`may_send`)."""


def principal(account: Account | None) -> str:
    if account is None:
        return ANONYMOUS
    if account.kind == "guest":
        return GUEST
    return ROOM if account.kind == "room" else account.role


def route_key(method: str, path: str) -> tuple[str, str]:
    """HEAD is answered like GET."""
    return ("GET" if method.upper() == "HEAD" else method.upper(), path)


def known_route(method: str, path: str) -> bool:
    return route_key(method, path) in ROUTES


def may_use_route(account: Account | None, method: str, path: str) -> bool:
    allowed = ROUTES.get(route_key(method, path), frozenset())
    if principal(account) not in allowed:
        return False
    if account is not None and account.must_change_password:
        return route_key(method, path) in PASSWORD_CHANGE_ROUTES
    return True


def may_send(account: Account | None, message_type: str) -> bool:
    if account is None or account.must_change_password:
        return False
    return principal(account) in MESSAGES.get(message_type, frozenset())


def may_control(message_type: str, host: bool, owner: bool) -> bool:
    """The object rule of host controls: whether a participant who chairs (`host`), or
    chairs as more than a co-host (`owner`), may send this message in their meeting."""
    if message_type in OWNER_MESSAGES:
        return owner
    return host or message_type not in HOST_MESSAGES


def matrix_rows(entries: Iterable[tuple[str, frozenset[str]]],
                columns: tuple[str, ...] = PRINCIPALS) -> list[tuple[str, list[bool]]]:
    """Rows for the docs page: a label and one tick per principal."""
    return [(label, [who in allowed for who in columns]) for label, allowed in entries]


def route_rows() -> list[tuple[str, list[bool]]]:
    return matrix_rows((f"{method} {path}", allowed)
                       for (method, path), allowed in sorted(ROUTES.items(),
                                                             key=lambda kv: (kv[0][1], kv[0][0])))


def message_rows() -> list[tuple[str, list[bool]]]:
    return matrix_rows(MESSAGES.items(), MESSAGE_PRINCIPALS)
