"""The room kiosk: the room's own endpoint shows its current and next booking, joins the
booked meeting at its start with the room's camera and microphone, and leaves at the end.

The page /rooms/<id>/kiosk polls /api/rooms/<id>/kiosk (times are given as "in N ms"
from the server's clock, so a device with a wrong clock still joins on time). When the
current booking has a meeting, the kiosk opens /rooms/<id>/join/<meeting>, the usual
meeting page in kiosk mode.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from rooms.bookings import Booking
from signaling.accounts.accounts import Account
from signaling.errors import Forbidden, NotFound
from web import i18n
from web.auth import request_language, require_account
from web.keys import BOOKINGS, CONFIG, MEETINGS, ROOM_DEVICES
from web.pages.views import WS_PATH, local_time, organizer_name, page_strings, render

POLL_MS = 5000


def _check_viewer(request: web.Request, account: Account, room_id: str) -> None:
    """The room's own device account, or staff who manage rooms (to check the screen)."""
    request.app[BOOKINGS].room(room_id)
    if account.kind == "room":
        if request.app[ROOM_DEVICES].room_of(account.username) != room_id:
            raise Forbidden("This device belongs to another room")
        return
    if account.role not in ("admin", "clerk", "it"):
        raise Forbidden("Only the room's own device shows its kiosk")


def _booking_json(request: web.Request, booking: Booking | None,
                  now: dt.datetime) -> dict[str, Any] | None:
    if booking is None:
        return None
    tz = request.app[CONFIG].tz
    meeting = request.app[MEETINGS].find(booking.meeting_id) if booking.meeting_id else None
    joinable = meeting is not None and meeting.state != "cancelled"
    return {
        "id": booking.id, "title": booking.title,
        "start": f"{local_time(booking.start, tz):%H:%M}",
        "end": f"{local_time(booking.end, tz):%H:%M}",
        "date": f"{local_time(booking.start, tz):%d/%m/%Y}",
        "starts_in_ms": int((booking.start - now).total_seconds() * 1000),
        "ends_in_ms": int((booking.end - now).total_seconds() * 1000),
        "meeting_id": meeting.id if joinable and meeting else None,
        "join_url": (f"/rooms/{booking.room_id}/join/{meeting.id}"
                     if joinable and meeting else None),
    }


def kiosk_state(request: web.Request, room_id: str) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    current, upcoming = request.app[BOOKINGS].current_and_next(room_id, now)
    return {"room_id": room_id, "current": _booking_json(request, current, now),
            "next": _booking_json(request, upcoming, now), "poll_ms": POLL_MS}


async def kiosk_page(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    room_id = request.match_info["room_id"]
    _check_viewer(request, account, room_id)
    lang = request_language(request)
    return render(request, "kiosk.html", room=request.app[BOOKINGS].room(room_id),
                  state=kiosk_state(request, room_id),
                  auto_join=account.kind == "room",
                  kiosk_strings=i18n.strings_with_prefix(lang, "kiosk.js."))


async def kiosk_json(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    room_id = request.match_info["room_id"]
    _check_viewer(request, account, room_id)
    return web.json_response(kiosk_state(request, room_id))


async def kiosk_join(request: web.Request) -> web.StreamResponse:
    """The meeting page in kiosk mode: it joins by itself and leaves at the booking's end."""
    account = require_account(request)
    room_id = request.match_info["room_id"]
    _check_viewer(request, account, room_id)
    meeting = request.app[MEETINGS].open_for(request.match_info["meeting_id"], account)
    bookings = [b for b in request.app[BOOKINGS].for_meeting(meeting.id)
                if b.room_id == room_id]
    if not bookings:
        raise NotFound("This meeting is not booked in this room")
    now = dt.datetime.now(dt.UTC)
    end = max(b.end for b in bookings)
    tz = request.app[CONFIG].tz
    return render(
        request, "meeting.html", meeting=meeting, start=local_time(meeting.start, tz),
        end=local_time(meeting.end, tz), organizer_name=organizer_name(request, meeting),
        ws_path=WS_PATH, js_strings=page_strings(request_language(request)),
        kiosk={"leave_in_ms": max(0, int((end - now).total_seconds() * 1000)),
               "return_to": f"/rooms/{room_id}/kiosk"},
    )


def setup_kiosk_pages(app: web.Application) -> None:
    app.router.add_get("/rooms/{room_id}/kiosk", kiosk_page, name="kiosk")
    app.router.add_get("/api/rooms/{room_id}/kiosk", kiosk_json)
    app.router.add_get("/rooms/{room_id}/join/{meeting_id}", kiosk_join)
