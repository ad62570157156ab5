"""The IT pages: the live quality dashboard (/it and its socket /it/ws), past meetings'
quality reports with CSV export, and the browsers' quality reports arriving on /ws.

Only the roles `it` and `admin` see these pages (`require_quality_viewer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from datetime import datetime
from typing import Any

from aiohttp import WSMsgType, web

from signaling.accounts.accounts import Account
from signaling.errors import Forbidden
from signaling.live import protocol as p
from signaling.quality import dashboard
from signaling.quality.client_reports import InvalidQualityReport
from signaling.quality.history import QualityHistory
from signaling.quality.meeting_report import build_report, to_csv
from signaling.quality.monitor import QualityMonitor
from signaling.quality.webhook import Webhook
from web.auth import request_account, request_language, require_account
from web.keys import CONFIG, LIVE_MEETINGS, MEETINGS, QUALITY, SFU, STORE
from web.metrics import setup_metrics
from web.origin import CROSS_ORIGIN, same_origin
from web.pages.views import local_time, page_strings, render

log = logging.getLogger(__name__)

QUALITY_ROLES = frozenset({"it", "admin"})
NOT_IT = "Only IT staff and administrators can see media quality"
WATCH_HELP = 'send {"type": "watch", "participant_id": "<id or null>"}'


def chart_strings(request: web.Request) -> dict[str, Any]:
    """The page's strings, with the time zone its charts write times in."""
    return {**page_strings(request_language(request)), "tz": request.app[CONFIG].tz.key}



def require_quality_viewer(request: web.Request) -> Account:
    """The signed-in account if it may see media quality; Forbidden otherwise."""
    account = require_account(request)
    if account.role not in QUALITY_ROLES:
        raise Forbidden(NOT_IT)
    return account


# ---------------------------------------------------------------- /ws reports


def take_report(app: web.Application, participant_id: str | None,
                report: p.QualityReport) -> None:
    """A browser's quality report; dropped (and counted) unless it can be used."""
    monitor = app[QUALITY]
    if participant_id is None:
        monitor.gate.drop("not_joined")
        return
    monitor.client_report(participant_id, report)


def drop_report(app: web.Application, exc: InvalidQualityReport) -> None:
    app[QUALITY].gate.drop(exc.reason)
    log.debug("quality report dropped (%s): %s", exc.reason, exc.detail)


# ---------------------------------------------------------------- dashboard


async def it_page(request: web.Request) -> web.StreamResponse:
    require_quality_viewer(request)
    return render(request, "it.html", js_strings=chart_strings(request),
                  ws_path="/it/ws")


async def it_socket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=15.0, max_msg_size=4096)
    await ws.prepare(request)
    account = request_account(request)
    refusal = None
    if account is None:
        refusal = ("unauthorized", "Sign in to continue")
    elif account.role not in QUALITY_ROLES:
        refusal = ("forbidden", NOT_IT)
    elif not same_origin(request):
        refusal = ("forbidden", CROSS_ORIGIN)
    if refusal is not None:
        await ws.send_json({"type": "error", "code": refusal[0], "detail": refusal[1],
                            "fatal": True})
        await ws.close()
        return ws
    app = request.app
    watch: list[str | None] = [None]
    interval = app[CONFIG].quality.dashboard_interval_ms / 1000
    stats_interval = app[CONFIG].sfu.stats_interval_ms / 1000

    async def push() -> None:
        while not ws.closed:
            data = dashboard.snapshot(app[QUALITY], app[LIVE_MEETINGS].snapshot(), time.time(),
                                      stats_interval, watch[0])
            await ws.send_str(json.dumps(data))
            await asyncio.sleep(interval)

    pusher = asyncio.create_task(push(), name="it-dashboard")
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                data = json.loads(msg.data)
            except ValueError:
                data = None
            target = data.get("participant_id") if isinstance(data, dict) else ""
            if (not isinstance(data, dict) or data.get("type") != "watch"
                    or not (target is None or (isinstance(target, str) and len(target) <= 64))):
                await ws.send_json({"type": "error", "code": "invalid_message",
                                    "detail": WATCH_HELP})
                continue
            watch[0] = target
            await ws.send_str(json.dumps({"type": "detail", "detail": dashboard.detail(
                app[QUALITY], target) if target else None}))
    finally:
        pusher.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, RuntimeError):
            await pusher
    return ws


# ---------------------------------------------------------------- history


async def history_page(request: web.Request) -> web.StreamResponse:
    require_quality_viewer(request)
    meetings = request.app[QUALITY].history.meetings()
    return render(request, "it_history.html", meetings=meetings)


async def report_page(request: web.Request) -> web.StreamResponse:
    require_quality_viewer(request)
    meeting = request.app[MEETINGS].get(request.match_info["meeting_id"])
    history = request.app[QUALITY].history
    report = build_report(meeting.id, history.samples(meeting.id), history.alerts(meeting.id))
    data = {"charts": report.chart_data(), "lang": request_language(request)}
    tz = request.app[CONFIG].tz

    def clock(value: datetime) -> str:
        return local_time(value, tz).strftime("%H:%M:%S")

    def figure(value: float | None, digits: int = 1) -> str:
        return "–" if value is None else f"{value:.{digits}f}"

    return render(request, "it_report.html", meeting=meeting, report=report, chart_data=data,
                  js_strings=chart_strings(request), clock=clock,
                  figure=figure)


async def report_csv(request: web.Request) -> web.StreamResponse:
    require_quality_viewer(request)
    meeting = request.app[MEETINGS].get(request.match_info["meeting_id"])
    body = to_csv(request.app[QUALITY].history.samples(meeting.id), request.app[CONFIG].tz)
    return web.Response(
        body=("\ufeff" + body).encode("utf-8"), content_type="text/csv", charset="utf-8",
        headers={"Content-Disposition":
                 f'attachment; filename="giaoban-quality-{meeting.id}.csv"'})


# ---------------------------------------------------------------- wiring


def create_monitor(app: web.Application) -> QualityMonitor:
    config = app[CONFIG]
    q = config.quality
    webhook = (Webhook(q.webhook_url, q.webhook_retries, q.webhook_timeout_seconds)
               if q.webhook_url else None)
    history = QualityHistory(app[STORE], q.history_bucket_seconds, q.retention_days)
    return QualityMonitor(q, app[SFU], app[LIVE_MEETINGS], history, webhook,
                          stats_interval_s=config.sfu.stats_interval_ms / 1000)


async def _start(app: web.Application) -> None:
    await app[QUALITY].start()


async def _stop(app: web.Application) -> None:
    await app[QUALITY].close()


def setup_quality(app: web.Application) -> None:
    """Routes, the monitor (started after the SFU, stopped before it) and /metrics."""
    app[QUALITY] = create_monitor(app)
    app.on_startup.append(_start)
    app.on_shutdown.append(_stop)
    app.router.add_get("/it", it_page, name="it")
    app.router.add_get("/it/ws", it_socket)
    app.router.add_get("/it/meetings", history_page, name="it_history")
    app.router.add_get("/it/meetings/{meeting_id}", report_page, name="it_report")
    app.router.add_get("/it/meetings/{meeting_id}/quality.csv", report_csv)
    setup_metrics(app)

