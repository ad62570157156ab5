"""The HTML pages: sign-in, my meetings, the meeting page, plus /healthz and /static."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from aiohttp import web

from signaling.errors import Forbidden, GiaobanError, TooManyRequests, Unauthorized
from signaling.schedule.access import may_manage
from signaling.schedule.meetings import MeetingEnded
from web import i18n
from web.auth import (
    clear_session_cookie,
    csrf_token,
    other_language,
    redirect,
    request_account,
    request_language,
    request_session,
    require_account,
    set_session_cookie,
)
from web.client_address import client_address
from web.keys import ACCOUNTS, CONFIG, MEETINGS, SESSIONS, TEMPLATES, THROTTLE

if TYPE_CHECKING:
    from signaling.schedule.meetings import Meeting

WEB_DIR = Path(__file__).parent.parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
NOT_INVITED = "You are not invited to this meeting"
WS_PATH = "/ws"


# ---------------------------------------------------------------- setup


def setup_templates(app: web.Application) -> None:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    app[TEMPLATES] = env


def setup_pages(app: web.Application) -> None:
    app.router.add_get("/", index, name="index")
    app.router.add_get("/login", login_form, name="login")
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout, name="logout")
    app.router.add_get("/meetings", my_meetings, name="meetings")
    app.router.add_get("/m/{meeting_id}", meeting_page, name="meeting")
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_static("/static/", STATIC_DIR, name="static")


# ---------------------------------------------------------------- rendering


def local_time(value: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """`value` in the configured zone; naive datetimes are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(tz)


def format_date(lang: str, value: dt.datetime) -> str:
    weekday = i18n.translate(lang, f"date.weekday.{value.weekday()}")
    return i18n.translate(
        lang, "date.long", weekday=weekday, day=f"{value.day:02d}",
        month=f"{value.month:02d}", year=str(value.year),
    )


def format_time(value: dt.datetime) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def render(
    request: web.Request, template: str, status: int = 200, **context: Any
) -> web.Response:
    """Render a page with what every layout needs: language, strings, account, CSRF token."""
    lang = request_language(request)
    tz = request.app[CONFIG].tz

    def t(key: str, **params: Any) -> str:
        return i18n.translate(lang, key, **params)

    def date(value: dt.datetime) -> str:
        return format_date(lang, local_time(value, tz))

    def time(value: dt.datetime) -> str:
        return format_time(local_time(value, tz))

    body = request.app[TEMPLATES].get_template(template).render(
        lang=lang, t=t, date=date, time=time,
        account=request_account(request),
        csrf_token=csrf_token(request),
        other_lang=other_language(lang),
        switch_url=str(request.rel_url.update_query(lang=other_language(lang))),
        **context,
    )
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def safe_next(value: str | None) -> str:
    """A local path to go to after sign-in; anything else becomes /meetings."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/meetings"
    if any(ch in value for ch in ("\\", "\r", "\n", "\t")) or value.startswith("/login"):
        return "/meetings"
    return value


# ---------------------------------------------------------------- handlers


async def index(request: web.Request) -> web.StreamResponse:
    target = "/meetings" if request_account(request) else "/login"
    raise web.HTTPFound(target)


async def healthz(request: web.Request) -> web.StreamResponse:
    return web.json_response({"status": "ok"})


async def login_form(request: web.Request) -> web.StreamResponse:
    next_path = safe_next(request.query.get("next"))
    if request_account(request) is not None:
        raise web.HTTPFound(next_path)
    return render(request, "login.html", next_path=next_path, username="", error="",
                  kept=request.query.get("kept") == "1")


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    next_path = safe_next(str(form.get("next", "")))
    lang = request_language(request)
    throttle, address = request.app[THROTTLE], client_address(request)
    try:
        if not username or not password:
            raise Unauthorized("Missing username or password")
        throttle.check(username, address)
        try:
            account = await asyncio.to_thread(
                request.app[ACCOUNTS].authenticate, username, password)
        except Unauthorized:
            throttle.failed(username, address)
            raise
        throttle.succeeded(username, address)
    except TooManyRequests as exc:
        response = render(
            request, "login.html", status=429, next_path=next_path, username=username,
            error=i18n.translate(lang, "login.throttled", minutes=exc.extra["minutes"]),
        )
        response.headers["Retry-After"] = str(exc.extra["retry_after"])
        return response
    except Unauthorized:
        return render(
            request, "login.html", status=401, next_path=next_path, username=username,
            error=i18n.translate(lang, "login.failed"),
        )
    except GiaobanError as exc:
        return render(
            request, "login.html", status=exc.status, next_path=next_path, username=username,
            error=i18n.describe_error(lang, exc),
        )
    old = request_session(request)
    if old is not None:
        request.app[SESSIONS].revoke(old.token)
    session = request.app[SESSIONS].create(account.username)
    response = redirect(next_path)
    set_session_cookie(request, response, session.token)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    session = request_session(request)
    if session is not None:
        request.app[SESSIONS].revoke(session.token)
    response = redirect("/login")
    clear_session_cookie(response)
    return response


@dataclass(frozen=True, slots=True)
class MeetingRow:
    """One line of "my meetings", with times already in the configured zone."""

    meeting: Meeting
    start: dt.datetime
    end: dt.datetime
    organizer_name: str
    live: bool
    ended: bool
    opens_at: dt.datetime | None = None
    """When its join window opens, if that is still to come."""
    opens_in_ms: int = 0
    may_change: bool = False
    """Whether the reader may change or cancel it (a link to its edit page)."""


async def my_meetings(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    tz = request.app[CONFIG].tz
    now = dt.datetime.now(dt.UTC)
    service = request.app[MEETINGS]
    meetings = service.list_for(account.username)
    today, upcoming = split_by_day(meetings, now, tz, lambda m: organizer_name(request, m),
                                   service.join_opens_at)
    leaders_of = request.app[ACCOUNTS].leaders_of
    today, upcoming = ([dataclasses.replace(r, may_change=not r.ended and may_manage(
        account, r.meeting, leaders_of)) for r in rows] for rows in (today, upcoming))
    return render(request, "meetings.html", today=today, upcoming=upcoming,
                  today_date=local_time(now, tz))


def organizer_name(request: web.Request, meeting: Meeting) -> str:
    """The name shown after "Chủ trì" (chair): the meeting's chair, not whoever typed it."""
    chair = request.app[ACCOUNTS].find(meeting.chair)
    return str(chair.display_name) if chair is not None else str(meeting.chair)


def split_by_day(
    meetings: Iterable[Meeting], now: dt.datetime, tz: dt.tzinfo,
    name_of: Any, opens_at: Any = None,
) -> tuple[list[MeetingRow], list[MeetingRow]]:
    """Today's meetings (ended ones too) and the ones after today, each by start time."""
    local_now = local_time(now, tz)
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    tomorrow = midnight + dt.timedelta(days=1)
    today: list[MeetingRow] = []
    upcoming: list[MeetingRow] = []
    for meeting in sorted(meetings, key=lambda m: local_time(m.start, tz)):
        if meeting.state == "cancelled":
            continue
        start, end = local_time(meeting.start, tz), local_time(meeting.end, tz)
        if end <= midnight:
            continue
        opens = opens_at(meeting) if opens_at is not None else None
        waiting = opens is not None and now < opens
        row = MeetingRow(
            meeting=meeting, start=start, end=end, organizer_name=name_of(meeting),
            live=start <= local_now < end and meeting.state != "ended",
            ended=end <= local_now or meeting.state == "ended",
            opens_at=local_time(opens, tz) if waiting and opens else None,
            opens_in_ms=int((opens - now).total_seconds() * 1000) if waiting and opens else 0,
        )
        (today if start < tomorrow else upcoming).append(row)
    return today, upcoming


async def meeting_page(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    meeting_id = request.match_info["meeting_id"]
    try:
        meeting = request.app[MEETINGS].open_for(meeting_id, account)
    except MeetingEnded:
        raise
    except Forbidden:
        raise Forbidden(NOT_INVITED) from None
    lang = request_language(request)
    tz = request.app[CONFIG].tz
    return render(
        request, "meeting.html",
        meeting=meeting,
        start=local_time(meeting.start, tz),
        end=local_time(meeting.end, tz),
        organizer_name=organizer_name(request, meeting),
        ws_path=WS_PATH,
        js_strings=page_strings(lang),
    )


def page_strings(lang: str) -> dict[str, Any]:
    """The strings meeting.js shows, handed over in a JSON data block."""
    return {
        "lang": lang,
        "text": i18n.strings_with_prefix(lang, "js."),
        "errors": {
            code.removesuffix(".title"): text
            for code, text in i18n.strings_with_prefix(lang, "error.").items()
            if code.endswith(".title")
        },
    }
