"""Changing a scheduled meeting in the browser: edit or move it (this occurrence or this
and the following ones of its series), add or remove invitees, or cancel it. Each
result page links the updated invitations; the room booking follows the meeting. The
page also lists the meeting's guest links, withdraws one or creates a new one (whose
address it shows that once)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from signaling.errors import BadRequest, GiaobanError
from signaling.live.guest_links import GuestLink
from signaling.schedule.access import check_may_manage
from signaling.schedule.meetings import Meeting, parse_when
from signaling.schedule.service import MeetingChanges, Outcome
from web import i18n
from web.api.guest_links import new_link, revoke_meeting_link
from web.auth import request_language, require_account
from web.keys import ACCOUNTS, BOOKINGS, CONFIG, GUESTS, MEETINGS, SCHEDULE
from web.origin import public_base
from web.pages.forms import form_fields
from web.pages.views import local_time, render


def invitee_chips(request: web.Request, usernames: list[str]) -> list[dict[str, str]]:
    """What the invitee picker shows at first: each invited account with its name."""
    accounts = request.app[ACCOUNTS]
    chips = []
    for name in dict.fromkeys(u.strip().lower() for u in usernames if u.strip()):
        account = accounts.find(name)
        chips.append({"username": name,
                      "display_name": account.display_name if account else name})
    return chips


def done_context(request: web.Request) -> dict[str, Any]:
    """What the result pages need to name rooms and give each meeting's join link."""
    return {"room_names": {r.id: r.name for r in request.app[BOOKINGS].rooms},
            "base_url": public_base(request)}


def _managed(request: web.Request) -> Meeting:
    account = require_account(request)
    meeting = request.app[MEETINGS].get(request.match_info["meeting_id"])
    check_may_manage(account, meeting, request.app[ACCOUNTS].leaders_of)
    return meeting


def _values(request: web.Request, meeting: Meeting) -> dict[str, str]:
    tz = request.app[CONFIG].tz
    start, end = local_time(meeting.start, tz), local_time(meeting.end, tz)
    return {"title": meeting.title, "agenda": meeting.agenda,
            "date": start.date().isoformat(), "start_time": f"{start:%H:%M}",
            "end_time": f"{end:%H:%M}", "invitees": ",".join(meeting.invitees),
            "scope": "this"}


def link_rows(request: web.Request, meeting: Meeting) -> list[tuple[GuestLink, str]]:
    """The meeting's guest links, each with its state: active, revoked or expired."""
    now = dt.datetime.now(dt.UTC)
    return [(link, "revoked" if link.revoked_at else
             "expired" if link.expires_at <= now else "active")
            for link in request.app[GUESTS].for_meeting(meeting.id)]


def _page(request: web.Request, meeting: Meeting, values: dict[str, str],
          status: int = 200, error: str = "", past: bool = False, new_link_url: str = "",
          notice: str = "") -> web.Response:
    series = (request.app[MEETINGS].list_series(meeting.series_id)
              if meeting.series_id else [])
    return render(request, "meeting_edit.html", status=status, meeting=meeting,
                  values=values, error=error, series=series, past=past,
                  guest_links=link_rows(request, meeting), new_link_url=new_link_url,
                  notice=notice,
                  chips=invitee_chips(request, values.get("invitees", "").split(",")),
                  room_names=done_context(request)["room_names"])


async def edit_page(request: web.Request) -> web.StreamResponse:
    meeting = _managed(request)
    return _page(request, meeting, _values(request, meeting))


def changes_from(form: dict[str, str], meeting: Meeting, tz: Any) -> MeetingChanges:
    """Only what differs from the meeting, so an unchanged field asks for no right."""
    day = form.get("date", "").strip()
    start = parse_when(f"{day}T{form.get('start_time', '').strip()}", tz)
    end = parse_when(f"{day}T{form.get('end_time', '').strip()}", tz)
    invitees = tuple(dict.fromkeys(
        u.strip().lower() for u in form.get("invitees", "").split(",") if u.strip()))
    title, agenda = form.get("title", "").strip(), form.get("agenda", "").strip()
    return MeetingChanges(
        title=title if title != meeting.title else None,
        agenda=agenda if agenda != meeting.agenda else None,
        start=start if start != meeting.start else None,
        end=end if end != meeting.end else None,
        invitees=invitees if invitees != tuple(meeting.invitees) else None,
        past_confirmed=form.get("confirm_past") == "yes")


async def edit_submit(request: web.Request) -> web.StreamResponse:
    meeting = _managed(request)
    account = require_account(request)
    form = await form_fields(request)
    lang = request_language(request)
    try:
        changes = changes_from(form, meeting, request.app[CONFIG].tz)
        outcome = request.app[SCHEDULE].update(account, meeting.id, changes,
                                               scope=form.get("scope", "this"))
    except GiaobanError as exc:
        if exc.extra.get("rule") == "meeting_moved_past":
            return _page(request, meeting, form, past=True)
        return _page(request, meeting, form, exc.status, i18n.describe_error(lang, exc))
    return render(request, "schedule_done.html", outcome=outcome,
                  heading=i18n.translate(lang, "edit.changed_title"), **done_context(request))


async def cancel_submit(request: web.Request) -> web.StreamResponse:
    meeting = _managed(request)
    account = require_account(request)
    form = await form_fields(request)
    lang = request_language(request)
    if form.get("confirm_cancel") != "yes":
        raise BadRequest("Confirm the cancellation with its button.")
    try:
        cancelled = request.app[SCHEDULE].cancel(account, meeting.id,
                                                 scope=form.get("scope", "this"))
    except GiaobanError as exc:
        return _page(request, meeting, _values(request, meeting), exc.status,
                     i18n.describe_error(lang, exc))
    return render(request, "schedule_done.html", outcome=Outcome(tuple(cancelled)),
                  heading=i18n.translate(lang, "edit.cancelled_title"),
                  **done_context(request))


async def guest_link_submit(request: web.Request) -> web.StreamResponse:
    """A new guest link, its address shown on the page this once."""
    meeting = _managed(request)
    form = await form_fields(request)
    try:
        _, url = new_link(request, meeting, require_account(request),
                          form.get("expires", "").strip() or None)
    except GiaobanError as exc:
        return _page(request, meeting, _values(request, meeting), exc.status,
                     i18n.describe_error(request_language(request), exc))
    return _page(request, meeting, _values(request, meeting), new_link_url=url)


async def guest_link_revoke(request: web.Request) -> web.StreamResponse:
    meeting = _managed(request)
    revoke_meeting_link(request, meeting, request.match_info["link_id"])
    return _page(request, meeting, _values(request, meeting), notice=i18n.translate(
        request_language(request), "guest_links.revoked_notice"))


def setup_meeting_edit_pages(app: web.Application) -> None:
    app.router.add_get("/meetings/{meeting_id}/edit", edit_page, name="meeting_edit")
    app.router.add_post("/meetings/{meeting_id}/edit", edit_submit)
    app.router.add_post("/meetings/{meeting_id}/cancel", cancel_submit)
    app.router.add_post("/meetings/{meeting_id}/guest-links", guest_link_submit)
    app.router.add_post("/meetings/{meeting_id}/guest-links/{link_id}/revoke",
                        guest_link_revoke)
