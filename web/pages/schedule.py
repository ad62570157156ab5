"""Scheduling pages: a leader's today, the scheduling form, the clerk's week of rooms,
invitations (.ics) and the private calendar feed."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from rooms.access import may_book_rooms
from signaling.errors import BadRequest, Forbidden, GiaobanError, NotFound
from signaling.records.policy import RECORDING_POLICIES
from signaling.schedule.access import may_schedule
from signaling.schedule.invitations import (
    CalendarContext,
    SeriesRule,
    build_calendar,
    meeting_invitation,
)
from signaling.schedule.meetings import EARLIEST_YEAR, LATEST_YEAR, Meeting
from signaling.schedule.service import Outcome, Preview
from web import i18n
from web.api.guest_links import create_scheduled_links, guest_link_wish
from web.api.private import private_clashes_hidden, shown_clashes, shown_warnings
from web.api.schedule import shown_outcome, visible_meeting
from web.api.schedule_json import draft_from
from web.auth import request_language, require_account
from web.keys import ACCOUNTS, BOOKINGS, CONFIG, FEEDS, MEETINGS, SCHEDULE
from web.origin import public_base
from web.pages.meeting_edit import done_context, invitee_chips
from web.pages.views import local_time, render

ICS_TYPE = "text/calendar"


# ---------------------------------------------------------------- invitations


def calendar_context(request: web.Request) -> CalendarContext:
    app = request.app
    rooms = {r.id: r for r in app[BOOKINGS].rooms}

    def name_of(username: str) -> str:
        account = app[ACCOUNTS].find(username)
        return account.display_name if account is not None else username

    def room_label(room_id: str) -> str:
        room = rooms.get(room_id)
        if room is None:
            return room_id
        return f"{room.name}, {room.location}" if room.location else room.name

    return CalendarContext(tz=app[CONFIG].tz, base_url=public_base(request),
                           name_of=name_of, room_label=room_label,
                           now=dt.datetime.now(dt.UTC))


def series_rules(request: web.Request, meetings: list[Meeting]) -> dict[str, SeriesRule]:
    rules: dict[str, SeriesRule] = {}
    for series_id in {m.series_id for m in meetings if m.series_id}:
        _, first, text = request.app[SCHEDULE].series_rule(series_id)
        rules[series_id] = SeriesRule(text, first)
    return rules


async def meeting_ics(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    meeting = visible_meeting(request, account, request.match_info["meeting_id"])
    series: list[Meeting] = []
    rule = None
    if meeting.series_id:
        series = request.app[MEETINGS].list_series(meeting.series_id)
        rule = series_rules(request, series)[meeting.series_id]
    body = meeting_invitation(meeting, series, rule, calendar_context(request))
    return web.Response(body=body, content_type=ICS_TYPE, charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="giaoban-{meeting.id}.ics"'})


async def feed_ics(request: web.Request) -> web.StreamResponse:
    """The private feed; the token in the URL stands in for a session."""
    username = request.app[FEEDS].owner(request.match_info["token"])
    account = request.app[ACCOUNTS].find(username) if username else None
    if account is None or not account.active:
        raise NotFound("This calendar link does not exist or was revoked")
    meetings = request.app[MEETINGS].list_for(account.username)
    body = build_calendar(meetings, series_rules(request, meetings), calendar_context(request),
                          "PUBLISH", name=f"Giao Ban · {account.display_name}")
    return web.Response(body=body, content_type=ICS_TYPE, charset="utf-8",
                        headers={"Cache-Control": "private, max-age=300"})


async def feed_page(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    return render(request, "calendar_feed.html", feed_url="",
                  has_feed=request.app[FEEDS].has_feed(account.username))


async def feed_submit(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    if account.kind != "staff":
        raise Forbidden("A room's device account has no calendar feed.")
    form = await request.post()
    feeds = request.app[FEEDS]
    if form.get("action") == "revoke":
        feeds.revoke(account.username)
        return render(request, "calendar_feed.html", feed_url="", has_feed=False)
    token = feeds.issue(account.username)
    url = f"{public_base(request)}/feeds/{token}.ics"
    return render(request, "calendar_feed.html", feed_url=url, has_feed=True)


# ---------------------------------------------------------------- today


@dataclass(frozen=True, slots=True)
class TodayRow:
    meeting: Meeting
    room_name: str
    opens_in_ms: int
    """Milliseconds until the join window opens; 0 when already open."""
    open: bool
    ended: bool


async def today_page(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    app = request.app
    tz = app[CONFIG].tz
    now = dt.datetime.now(dt.UTC)
    midnight = local_time(now, tz).replace(hour=0, minute=0, second=0, microsecond=0)
    tomorrow = midnight + dt.timedelta(days=1)
    meetings = app[MEETINGS]
    rooms = {r.id: r.name for r in app[BOOKINGS].rooms}
    rows = []
    for meeting in app[MEETINGS].list_for(account.username):
        if meeting.state == "cancelled" or not (midnight <= meeting.start < tomorrow
                                                or meeting.start < midnight < meeting.end):
            continue
        opens = meetings.join_opens_at(meeting)
        rows.append(TodayRow(
            meeting=meeting, room_name=rooms.get(meeting.room_id or "", ""),
            opens_in_ms=max(0, int((opens - now).total_seconds() * 1000)),
            open=meetings.may_join(meeting, account),
            ended=meeting.end <= now or meeting.state == "ended"))
    return render(request, "today.html", rows=rows, today_date=local_time(now, tz),
                  window_minutes=int(meetings.join_window.total_seconds() // 60))


# ---------------------------------------------------------------- scheduling form


def form_values(form: Any) -> dict[str, Any]:
    """The scheduling form as the API's JSON shape (times are local, without offset)."""
    def get(key: str) -> str:
        return str(form.get(key, "")).strip()

    day = get("date")
    data: dict[str, Any] = {
        "title": get("title"), "agenda": get("agenda"),
        "start": f"{day}T{get('start_time')}" if day and get("start_time") else "",
        "end": f"{day}T{get('end_time')}" if day and get("end_time") else "",
        "invitees": get("invitees"), "cohosts": get("cohosts"),
        "on_behalf_of": get("on_behalf_of"), "chair": get("chair"),
        "recording_policy": get("recording_policy"), "room_id": get("room_id"),
        "guest_link": get("guest_link") == "1", "guest_link_expires": get("guest_link_expires"),
    }
    if get("repeat") in ("daily", "weekly", "monthly"):
        data["recurrence"] = {
            "frequency": get("repeat"),
            "weekdays": [int(d) for d in form.getall("weekdays", []) if str(d).isdigit()],
            "count": get("count") if get("repeat_end") != "until" else "",
            "until": get("until") if get("repeat_end") == "until" else "",
        }
    return data


def form_context(request: web.Request, values: dict[str, str]) -> dict[str, Any]:
    account = require_account(request)
    app = request.app
    if account.role in ("admin", "clerk"):
        leaders = [a for a in app[ACCOUNTS].list() if a.role == "leader" and a.active]
    else:
        leaders = [a for name in app[ACCOUNTS].leaders_of(account.username)
                   if (a := app[ACCOUNTS].find(name)) is not None]
    chairs = sorted((a for a in app[ACCOUNTS].list()
                     if a.active and a.kind == "staff" and a.role in ("leader", "official",
                                                                       "secretary")),
                    key=lambda a: (a.role != "leader", a.display_name))
    return {
        "values": values, "leaders": leaders, "chairs": chairs, "policies": RECORDING_POLICIES,
        "default_policy": app[MEETINGS].default_recording_policy,
        "rooms": app[BOOKINGS].rooms if may_book_rooms(account) else (),
        "preview": None, "outcome": None, "error": "", "weekdays_checked": [], "past": False,
        "chips": invitee_chips(request, values.get("invitees", "").split(",")),
        **done_context(request),
    }


async def schedule_form(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    if not may_schedule(account):
        raise Forbidden("You may not schedule meetings")
    values = {"date": request.query.get("date", ""), "start_time": "08:00",
              "end_time": "09:00", "repeat": "none", "repeat_end": "count", "count": "4"}
    return render(request, "schedule_form.html", **form_context(request, values))


async def schedule_submit(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    form = await request.post()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    context = form_context(request, values)
    context["weekdays_checked"] = [str(d) for d in form.getall("weekdays", [])]
    tz = request.app[CONFIG].tz
    schedule = request.app[SCHEDULE]
    confirm = str(form.get("confirm", ""))
    try:
        data = form_values(form)
        draft = draft_from(data, tz)
        wish = guest_link_wish(data, draft, tz, dt.datetime.now(dt.UTC))
        if draft.start < dt.datetime.now(dt.UTC) and form.get("confirm_past") != "yes":
            # A meeting in the past is scheduled only when the clerk says so.
            context["past"] = True
            return render(request, "schedule_form.html", status=200, **context)
        if confirm not in ("all", "free_only"):
            preview: Preview = schedule.preview(account, draft)
            if preview.warnings or preview.room_clashes:
                context["preview"] = dataclasses.replace(
                    preview, warnings=tuple(shown_warnings(request, account, preview.warnings)),
                    room_clashes=tuple(shown_clashes(request, account, preview.room_clashes)))
                return render(request, "schedule_form.html", status=200, **context)
        with private_clashes_hidden(request, account):
            outcome: Outcome = schedule.schedule(account, draft, room_policy=confirm or "all")
    except GiaobanError as exc:
        context["error"] = i18n.describe_error(request_language(request), exc)
        return render(request, "schedule_form.html", status=exc.status, **context)
    context["outcome"] = shown_outcome(request, account, outcome)
    context["guest_links"] = create_scheduled_links(request, outcome.meetings, wish, account)
    return render(request, "schedule_done.html", **context)


# ---------------------------------------------------------------- week of rooms


async def calendar_page(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    if not may_book_rooms(account):
        raise Forbidden("Only clerks, secretaries and administrators book rooms")
    tz = request.app[CONFIG].tz
    wanted = request.query.get("week")
    try:
        day = (dt.date.fromisoformat(wanted) if wanted
               else dt.datetime.now(dt.UTC).astimezone(tz).date())
    except ValueError:
        raise BadRequest(f"{str(wanted)[:40]!r} is not a date (YYYY-MM-DD).") from None
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise BadRequest(f"Dates must fall between the years {EARLIEST_YEAR} and "
                         f"{LATEST_YEAR}.", rule="year_range")
    monday = day - dt.timedelta(days=day.weekday())
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    lang = request_language(request)
    labels = [i18n.translate(lang, f"date.weekday.{d.weekday()}") for d in days]
    return render(
        request, "calendar.html", rooms=request.app[BOOKINGS].rooms,
        days=[(d.isoformat(), label, f"{d.day:02d}/{d.month:02d}")
              for d, label in zip(days, labels, strict=True)],
        prev_week=(monday - dt.timedelta(days=7)).isoformat(),
        next_week=(monday + dt.timedelta(days=7)).isoformat(),
        calendar_strings=i18n.strings_with_prefix(lang, "calendar.js."),
    )


def setup_schedule_pages(app: web.Application) -> None:
    app.router.add_get("/today", today_page, name="today")
    app.router.add_get("/schedule/new", schedule_form, name="schedule")
    app.router.add_post("/schedule/new", schedule_submit)
    app.router.add_get("/calendar", calendar_page, name="calendar")
    app.router.add_get("/calendar-feed", feed_page, name="calendar_feed")
    app.router.add_post("/calendar-feed", feed_submit)
    app.router.add_get("/feeds/{token}.ics", feed_ics)
    app.router.add_get("/meetings/{meeting_id}.ics", meeting_ics)
