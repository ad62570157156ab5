"""Guest links of a meeting over the JSON API: list, create (when scheduling or live)
and revoke. Only the meeting's hosts (signaling/accounts/hosts.py) and those who may
change the meeting (signaling/schedule/access.py) may; anyone else gets a 403, and a
link is shown (its address) only once, when it is created."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from signaling.accounts.accounts import Account
from signaling.errors import BadRequest, Forbidden, NotFound
from signaling.live.guest_links import GuestLink
from signaling.schedule.access import may_manage
from signaling.schedule.meetings import Meeting, parse_when
from web.api.schedule_json import json_body
from web.auth import require_account
from web.keys import CONFIG, GUESTS, MEETINGS, SCHEDULE
from web.origin import public_base
from web.ws_room import host_of

NOT_HOST = "Only the meeting's hosts may manage its guest links"
MEETING_OVER = "This meeting has ended; a guest link for it would lead nowhere"


def link_json(link: GuestLink, url: str | None = None) -> dict[str, Any]:
    return {"id": link.id, "meeting_id": link.meeting_id, "created_by": link.created_by,
            "created_at": link.created_at.isoformat(), "expires_at": link.expires_at.isoformat(),
            "revoked_at": link.revoked_at.isoformat() if link.revoked_at else None,
            **({"url": url} if url else {})}


def guest_link_url(request: web.Request, token: str) -> str:
    return f"{public_base(request)}/g/{token}"


def _managed(request: web.Request) -> tuple[Meeting, Account]:
    account = require_account(request)
    meeting = request.app[MEETINGS].get(request.match_info["meeting_id"])
    leaders = request.app[SCHEDULE].accounts.leaders_of
    if not (host_of(request.app, meeting, account) or may_manage(account, meeting, leaders)):
        raise Forbidden(NOT_HOST, rule="host_only")
    return meeting, account


async def list_links(request: web.Request) -> web.StreamResponse:
    meeting, _ = _managed(request)
    return web.json_response([link_json(x) for x in request.app[GUESTS].for_meeting(meeting.id)])


async def create_link(request: web.Request) -> web.StreamResponse:
    meeting, account = _managed(request)
    if meeting.state == "cancelled" or request.app[MEETINGS].has_ended(meeting):
        raise BadRequest(MEETING_OVER, rule="meeting_over")
    data = await json_body(request)
    expires = data.get("expires_at")
    if expires is not None and not isinstance(expires, str):
        raise BadRequest("'expires_at' must be a date and time, e.g. 2025-03-14T09:00.")
    when = parse_when(expires, request.app[CONFIG].tz) if expires else meeting.end
    link, token = request.app[GUESTS].create(meeting.id, when, account.username)
    return web.json_response(link_json(link, guest_link_url(request, token)), status=201)


async def revoke_link(request: web.Request) -> web.StreamResponse:
    meeting, _ = _managed(request)
    guests = request.app[GUESTS]
    link_id = request.match_info["link_id"]
    if all(x.id != link_id for x in guests.for_meeting(meeting.id)):
        raise NotFound(f"No guest link {link_id!r} for this meeting")
    guests.revoke(link_id)
    return web.json_response(link_json(guests.get(link_id)))


def setup_guest_links_api(app: web.Application) -> None:
    app.router.add_get("/api/meetings/{meeting_id}/guest-links", list_links)
    app.router.add_post("/api/meetings/{meeting_id}/guest-links", create_link)
    app.router.add_post("/api/meetings/{meeting_id}/guest-links/{link_id}/revoke", revoke_link)
