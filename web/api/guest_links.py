"""Guest links of a meeting over the JSON API: list, create (when scheduling or live)
and revoke. Only the meeting's hosts (signaling/accounts/hosts.py) and those who may
change the meeting (signaling/schedule/access.py) may; anyone else gets a 403, and a
link is shown (its address) only once, when it is created.

Scheduling a meeting (the form and POST /api/meetings) may ask for a link at once:
`guest_link: true`, with an optional `guest_link_expires` (local time; by default the
meeting's planned end). The wish is checked before anything is scheduled, so a bad
expiry schedules nothing; each meeting scheduled then gets its own link."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from signaling.accounts.accounts import Account
from signaling.errors import BadRequest, Forbidden, NotFound
from signaling.live.guest_links import EXPIRY_PAST, GuestLink
from signaling.schedule.access import may_manage
from signaling.schedule.meetings import Meeting, parse_when
from signaling.schedule.service import MeetingDraft
from web.api.schedule_json import json_body, time_field
from web.auth import require_account
from web.keys import CONFIG, GUESTS, MEETINGS, SCHEDULE
from web.origin import public_base
from web.ws_room import host_of

NOT_HOST = "Only the meeting's hosts may manage its guest links"
MEETING_OVER = "This meeting has ended; a guest link for it would lead nowhere"
FLAG = "'guest_link' must be true or false"
EXPIRY_WITHOUT_LINK = "An expiry is given for a guest link, but no guest link is asked for"
EXPIRY_IN_SERIES = ("A guest link's expiry can be chosen only for a single meeting; in a "
                    "series each link expires when its own meeting ends")
EXPIRY_BEFORE_START = "A guest link must stay valid until the meeting starts"


@dataclass(frozen=True, slots=True)
class GuestLinkWish:
    """What a scheduler asked for: a guest link for each meeting scheduled, or none."""

    wanted: bool = False
    expires: datetime | None = None
    """When the link stops working; None: at its meeting's planned end."""


def guest_link_wish(data: Mapping[str, Any], draft: MeetingDraft, tz: Any,
                    now: datetime) -> GuestLinkWish:
    """The wish in a scheduling request, checked against the meeting(s) it schedules."""
    wanted = data.get("guest_link", False)
    if not isinstance(wanted, bool):
        raise BadRequest(FLAG, rule="guest_link")
    expires = time_field(data, "guest_link_expires", tz)
    if wanted and draft.end <= now:
        raise BadRequest(MEETING_OVER, rule="meeting_over")
    if expires is None:
        return GuestLinkWish(wanted)
    if not wanted:
        raise BadRequest(EXPIRY_WITHOUT_LINK, rule="guest_link_expiry")
    if draft.recurrence is not None:
        raise BadRequest(EXPIRY_IN_SERIES, rule="guest_link_expiry")
    if expires <= now:
        raise BadRequest(EXPIRY_PAST, rule="guest_link_expiry")
    if expires <= draft.start:
        raise BadRequest(EXPIRY_BEFORE_START, rule="guest_link_expiry")
    return GuestLinkWish(True, expires)


def create_scheduled_links(request: web.Request, meetings: Sequence[Meeting],
                           wish: GuestLinkWish, actor: Account) -> dict[str, dict[str, Any]]:
    """A link for each meeting just scheduled, as the API shows it (with its url), by
    meeting id; none when not asked for."""
    if not wish.wanted:
        return {}
    guests = request.app[GUESTS]
    made: dict[str, dict[str, Any]] = {}
    for meeting in meetings:
        if meeting.state == "cancelled":
            continue
        link, token = guests.create(meeting.id, wish.expires or meeting.end, actor.username)
        made[meeting.id] = link_json(link, guest_link_url(request, token))
    return made


def link_json(link: GuestLink, url: str | None = None) -> dict[str, Any]:
    return {"id": link.id, "meeting_id": link.meeting_id, "created_by": link.created_by,
            "created_at": link.created_at.isoformat(), "expires_at": link.expires_at.isoformat(),
            "revoked_at": link.revoked_at.isoformat() if link.revoked_at else None,
            **({"url": url} if url else {})}


def guest_link_url(request: web.Request, token: str) -> str:
    return f"{public_base(request)}/g/{token}"


def managed_meeting(request: web.Request) -> tuple[Meeting, Account]:
    """The meeting of the request's path, if this account may manage its guest links."""
    account = require_account(request)
    meeting = request.app[MEETINGS].get(request.match_info["meeting_id"])
    leaders = request.app[SCHEDULE].accounts.leaders_of
    if not (host_of(request.app, meeting, account) or may_manage(account, meeting, leaders)):
        raise Forbidden(NOT_HOST, rule="host_only")
    return meeting, account


async def list_links(request: web.Request) -> web.StreamResponse:
    meeting, _ = managed_meeting(request)
    return web.json_response([link_json(x) for x in request.app[GUESTS].for_meeting(meeting.id)])


def new_link(request: web.Request, meeting: Meeting, account: Account,
             expires: str | None) -> tuple[GuestLink, str]:
    """A new link for a meeting that is not over, and its url (shown once); `expires`
    is a local time, by default the meeting's planned end."""
    if meeting.state == "cancelled" or request.app[MEETINGS].has_ended(meeting):
        raise BadRequest(MEETING_OVER, rule="meeting_over")
    when = parse_when(expires, request.app[CONFIG].tz) if expires else meeting.end
    link, token = request.app[GUESTS].create(meeting.id, when, account.username)
    return link, guest_link_url(request, token)


def revoke_meeting_link(request: web.Request, meeting: Meeting, link_id: str) -> GuestLink:
    guests = request.app[GUESTS]
    if all(x.id != link_id for x in guests.for_meeting(meeting.id)):
        raise NotFound(f"No guest link {link_id!r} for this meeting")
    guests.revoke(link_id)
    return guests.get(link_id)


async def create_link(request: web.Request) -> web.StreamResponse:
    meeting, account = managed_meeting(request)
    data = await json_body(request)
    expires = data.get("expires_at")
    if expires is not None and not isinstance(expires, str):
        raise BadRequest("'expires_at' must be a date and time, e.g. 2025-03-14T09:00.")
    link, url = new_link(request, meeting, account, expires)
    return web.json_response(link_json(link, url), status=201)


async def revoke_link(request: web.Request) -> web.StreamResponse:
    meeting, _ = managed_meeting(request)
    link = revoke_meeting_link(request, meeting, request.match_info["link_id"])
    return web.json_response(link_json(link))


def setup_guest_links_api(app: web.Application) -> None:
    app.router.add_get("/api/meetings/{meeting_id}/guest-links", list_links)
    app.router.add_post("/api/meetings/{meeting_id}/guest-links", create_link)
    app.router.add_post("/api/meetings/{meeting_id}/guest-links/{link_id}/revoke", revoke_link)
