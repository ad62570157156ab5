"""The JSON API of scheduling: /api/meetings, /api/bookings and /api/rooms.

Errors are application/problem+json (web/auth.py error_middleware). A room conflict
is a 409 whose `clashes` name each clashing booking (id, title, times) and whose
`free` lists the wanted times that are free. Writes need the session's CSRF token in
the X-CSRF-Token header, like every other unsafe request.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from rooms.calendar import change_booking
from signaling.accounts.accounts import Account
from signaling.errors import BadRequest, Forbidden
from signaling.ids import row_id
from signaling.schedule.access import may_manage, may_view_all
from signaling.schedule.meetings import Meeting
from signaling.schedule.recurrence import expand
from signaling.schedule.service import ENDED, Outcome
from signaling.spans import Span
from web.api.guest_links import create_scheduled_links, guest_link_wish
from web.api.private import (
    may_see,
    private_clashes_hidden,
    shown_booking,
    shown_clashes,
    shown_warnings,
)
from web.api.schedule_json import (
    booking_json,
    changes_from,
    clash_json,
    draft_from,
    json_body,
    meeting_json,
    outcome_json,
    recurrence_field,
    text_field,
    time_field,
    warning_json,
)
from web.auth import require_account
from web.keys import BOOKINGS, CONFIG, MEETINGS, SCHEDULE

MAY_NOT_LINK = "You may link a booking only to a meeting you may change"
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def _range(request: web.Request) -> tuple[datetime | None, datetime | None]:
    tz = request.app[CONFIG].tz
    query = dict(request.query)
    return time_field(query, "from", tz), time_field(query, "to", tz)


def shown_outcome(request: web.Request, account: Account, outcome: Outcome) -> Outcome:
    return dataclasses.replace(
        outcome, warnings=tuple(shown_warnings(request, account, outcome.warnings)),
        room_skipped=tuple(shown_clashes(request, account, outcome.room_skipped)))


def visible_meeting(request: web.Request, account: Account, meeting_id: str) -> Meeting:
    """The meeting, if this account may see it."""
    meeting = request.app[MEETINGS].get(meeting_id)
    if not may_see(request, account, meeting):
        raise Forbidden("You are not invited to this meeting")
    return meeting


# ---------------------------------------------------------------- meetings


async def list_meetings(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    tz = request.app[CONFIG].tz
    start, end = _range(request)
    meetings = request.app[MEETINGS]
    if may_view_all(account) and request.query.get("mine") != "1":
        found = meetings.list_between(start or EARLIEST, end or LATEST)
    else:
        found = [m for m in meetings.list_for(account.username)
                 if (start is None or m.end > start) and (end is None or m.start < end)]
    return web.json_response({"meetings": [meeting_json(m, tz) for m in found]})


async def create_meeting(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    tz = request.app[CONFIG].tz
    data = await json_body(request)
    draft = draft_from(data, tz)
    wish = guest_link_wish(data, draft, tz, datetime.now(UTC))
    schedule = request.app[SCHEDULE]
    if data.get("dry_run"):
        preview = schedule.preview(account, draft)
        return web.json_response({
            "starts": [s.astimezone(tz).isoformat() for s in preview.starts],
            "warnings": [warning_json(w, tz)
                         for w in shown_warnings(request, account, preview.warnings)],
            "room_clashes": [clash_json(c, tz)
                             for c in shown_clashes(request, account, preview.room_clashes)],
        })
    policy = text_field(data, "room_policy") or "all"
    with private_clashes_hidden(request, account):
        outcome = schedule.schedule(account, draft, room_policy=policy)
    links = create_scheduled_links(request, outcome.meetings, wish, account)
    body = outcome_json(shown_outcome(request, account, outcome), tz)
    if links:
        body["guest_links"] = list(links.values())
    return web.json_response(body, status=201)


async def get_meeting(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    meeting = visible_meeting(request, account, request.match_info["meeting_id"])
    return web.json_response(meeting_json(meeting, request.app[CONFIG].tz))


async def update_meeting(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    tz = request.app[CONFIG].tz
    data = await json_body(request)
    with private_clashes_hidden(request, account):
        outcome = request.app[SCHEDULE].update(
            account, request.match_info["meeting_id"], changes_from(data, tz),
            scope=text_field(data, "scope") or "this")
    return web.json_response(outcome_json(shown_outcome(request, account, outcome), tz))


async def cancel_meeting(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    tz = request.app[CONFIG].tz
    scope = request.query.get("scope") or "this"
    cancelled = request.app[SCHEDULE].cancel(account, request.match_info["meeting_id"], scope)
    return web.json_response({"meetings": [meeting_json(m, tz) for m in cancelled]})


# ---------------------------------------------------------------- bookings


async def list_rooms(request: web.Request) -> web.StreamResponse:
    require_account(request)
    return web.json_response({"rooms": [
        {"id": r.id, "name": r.name, "location": r.location, "capacity": r.capacity}
        for r in request.app[BOOKINGS].rooms]})


async def list_bookings(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    if account.kind != "staff":
        raise Forbidden("A room's device account sees its own kiosk only.")
    tz = request.app[CONFIG].tz
    start, end = _range(request)
    room = request.query.get("room") or None
    bookings = request.app[BOOKINGS].list(room, start, end)
    return web.json_response({"bookings": [booking_json(shown_booking(request, account, b), tz)
                                           for b in bookings]})


async def create_booking(request: web.Request) -> web.StreamResponse:
    """One booking, or a recurring one: {"recurrence": {...}, "policy": "all" | "free_only"}.

    With policy "all" (the default) a clash refuses everything with a 409 listing each
    clash and the free times; the clerk then confirms with "free_only" or gives up.
    """
    account = require_account(request)
    tz = request.app[CONFIG].tz
    data = await json_body(request)
    room_id = text_field(data, "room_id", required=True) or ""
    start = time_field(data, "start", tz, required=True)
    end = time_field(data, "end", tz, required=True)
    assert start is not None and end is not None
    if end <= start:
        raise BadRequest("A booking must end after it starts.")
    title = text_field(data, "title", required=True) or ""
    rule = recurrence_field(data)
    starts = expand(rule, start, tz) if rule is not None else [start]
    spans = [Span(s, s + (end - start)) for s in starts]
    meeting_id = text_field(data, "meeting_id")
    if meeting_id is not None:
        meeting = request.app[MEETINGS].get(meeting_id)
        if not may_manage(account, meeting, request.app[SCHEDULE].accounts.leaders_of):
            raise Forbidden(MAY_NOT_LINK)
        if request.app[MEETINGS].has_ended(meeting):
            raise Forbidden(ENDED)
        if rule is not None:
            raise BadRequest("A booking for a meeting is made for that one meeting; "
                             "leave out the recurrence.")
        if meeting.state == "cancelled":
            raise BadRequest("This meeting was cancelled.")
    # The write runs in a worker thread: the loop keeps serving while SQLite waits for
    # its lock, and concurrent requests really do meet at the database, whose trigger
    # inside one BEGIN IMMEDIATE transaction is what refuses the overlap.
    with private_clashes_hidden(request, account):
        result = await asyncio.to_thread(
            request.app[BOOKINGS].book_many,
            account, room_id, spans, title, text_field(data, "policy") or "all",
            meeting_ids=[meeting_id] * len(spans))
    return web.json_response({
        "booked": [booking_json(b, tz) for b in result.booked],
        "skipped": [clash_json(c, tz) for c in shown_clashes(request, account, result.skipped)],
    }, status=201)


async def get_booking(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    booking = request.app[BOOKINGS].get(_booking_id(request))
    return web.json_response(booking_json(shown_booking(request, account, booking),
                                          request.app[CONFIG].tz))


async def update_booking(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    tz = request.app[CONFIG].tz
    data = await json_body(request)
    with private_clashes_hidden(request, account):
        booking = change_booking(
            request.app[BOOKINGS], account, _booking_id(request),
            start=time_field(data, "start", tz), end=time_field(data, "end", tz),
            title=text_field(data, "title"), room_id=text_field(data, "room_id"),
            revised=request.app[MEETINGS].revised)
    return web.json_response(booking_json(booking, tz))


async def cancel_booking(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    booking = request.app[BOOKINGS].cancel(account, _booking_id(request))
    return web.json_response(booking_json(booking, request.app[CONFIG].tz))


def _booking_id(request: web.Request) -> int:
    text = request.match_info["booking_id"]
    found = row_id(text)
    if found is None:
        raise BadRequest(f"{text[:40]!r} is not a booking id.")
    return found


def setup_schedule_api(app: web.Application) -> None:
    routes: list[tuple[str, str, Any]] = [
        ("GET", "/api/meetings", list_meetings),
        ("POST", "/api/meetings", create_meeting),
        ("GET", "/api/meetings/{meeting_id}", get_meeting),
        ("PATCH", "/api/meetings/{meeting_id}", update_meeting),
        ("DELETE", "/api/meetings/{meeting_id}", cancel_meeting),
        ("GET", "/api/rooms", list_rooms),
        ("GET", "/api/bookings", list_bookings),
        ("POST", "/api/bookings", create_booking),
        ("GET", "/api/bookings/{booking_id}", get_booking),
        ("PATCH", "/api/bookings/{booking_id}", update_booking),
        ("DELETE", "/api/bookings/{booking_id}", cancel_booking),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, handler)
