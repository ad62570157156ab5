"""The guest page: an outside guest opens a guest link, gives a name (and unit), sees
their camera and microphone, and asks to enter; then the meeting page's call runs with
the guest's pass. A guest reaches nothing else: every other route sees them as not
signed in, and the pass opens only this link's meeting on the socket."""

from __future__ import annotations

import logging

from aiohttp import web

from signaling.errors import BadRequest, GuestLinkInvalid
from signaling.live.guest_links import Guest
from web.auth import request_language
from web.guest_pass import GUEST_COOKIE
from web.keys import CONFIG, GUESTS, MEETINGS
from web.pages.views import WS_PATH, organizer_name, page_strings, render

logger = logging.getLogger(__name__)

PASS_MAX_AGE_S = 24 * 3600


def _held_guest(request: web.Request, link_id: str) -> Guest | None:
    """The guest this browser already is for this link (after a reload), if any."""
    secret = request.cookies.get(GUEST_COOKIE)
    if not secret:
        return None
    try:
        guest = request.app[GUESTS].authenticate(secret)
    except GuestLinkInvalid:
        return None
    return guest if guest.link_id == link_id else None


async def guest_page(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    link = request.app[GUESTS].open(token)
    meeting = request.app[MEETINGS].get(link.meeting_id)
    held = _held_guest(request, link.id)
    return render(
        request, "meeting.html",
        meeting=meeting,
        organizer_name=organizer_name(request, meeting),
        ws_path=WS_PATH,
        js_strings=page_strings(request_language(request)),
        guest={"name": held.name if held else "", "unit": held.unit if held else "",
               "username": held.username if held else "", "ready": held is not None,
               "enter_path": f"/api/guests/{token}"},
    )


async def guest_enter(request: web.Request) -> web.StreamResponse:
    """The guest gave their name: a pass for this link's meeting, in a cookie."""
    data = await request.post()
    name, unit = data.get("name", ""), data.get("unit", "")
    if not isinstance(name, str) or not isinstance(unit, str):
        raise BadRequest("Type your name to ask to enter", rule="guest_name")
    guest, secret = request.app[GUESTS].enter(request.match_info["token"], name, unit)
    response = web.json_response({"username": guest.username, "name": guest.name,
                                  "display_name": guest.label})
    response.set_cookie(GUEST_COOKIE, secret, path="/", httponly=True, samesite="Strict",
                        secure=request.app[CONFIG].http.cookies_secure,
                        max_age=PASS_MAX_AGE_S)
    return response


def setup_guest_pages(app: web.Application) -> None:
    app.router.add_get("/g/{token}", guest_page)
    app.router.add_post("/api/guests/{token}", guest_enter)
