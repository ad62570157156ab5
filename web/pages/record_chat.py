"""The chat on a meeting's record page, its exports, and its retention.

Same access rules as the record (signaling/records/meeting_record.py); messages sent
privately to the hosts show only to the meeting's hosts and to their author."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web

from signaling.accounts.accounts import Account
from signaling.live.chat import ChatMessage, visible_to
from signaling.records.chat_export import chat_csv, chat_text
from signaling.schedule.meetings import Meeting
from signaling.store import utcnow
from web.auth import require_account
from web.keys import CHAT, CONFIG, MEETINGS, RECORD_ACCESS
from web.ws_room import host_of

logger = logging.getLogger(__name__)

DAY_S = 24 * 3600.0


def record_chat(app: web.Application, meeting: Meeting, account: Account) -> list[ChatMessage]:
    """The meeting's chat as this record viewer may read it."""
    host = host_of(app, meeting, account)
    return [m for m in app[CHAT].store.for_meeting(meeting.id)
            if visible_to(m, account.username, host)]


def _meeting(request: web.Request) -> tuple[Meeting, Account]:
    account = require_account(request)
    meeting = request.app[MEETINGS].get(request.match_info["meeting_id"])
    request.app[RECORD_ACCESS].check_view(meeting, account)
    return meeting, account


async def chat_export_text(request: web.Request) -> web.StreamResponse:
    meeting, account = _meeting(request)
    body = chat_text(record_chat(request.app, meeting, account), request.app[CONFIG].tz)
    return web.Response(text=body, content_type="text/plain", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="chat-{meeting.id}.txt"'})


async def chat_export_csv(request: web.Request) -> web.StreamResponse:
    meeting, account = _meeting(request)
    body = "\ufeff" + chat_csv(record_chat(request.app, meeting, account),
                               request.app[CONFIG].tz)
    return web.Response(text=body, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="chat-{meeting.id}.csv"'})


def purge_chat(app: web.Application) -> int:
    """Delete chat older than `[meetings] chat_retention_days` (0 keeps it all)."""
    days = app[CONFIG].meetings.chat_retention_days
    if days <= 0:
        return 0
    return app[CHAT].store.purge(utcnow() - timedelta(days=days))


async def _retention(app: web.Application) -> None:
    while True:
        try:
            await asyncio.to_thread(purge_chat, app)
        except Exception:
            logger.exception("retention: the daily chat purge failed")
        await asyncio.sleep(DAY_S)


async def _chat_lifecycle(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_retention(app), name="chat-retention")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def setup_record_chat(app: web.Application) -> None:
    app.router.add_get("/m/{meeting_id}/record/chat.txt", chat_export_text)
    app.router.add_get("/m/{meeting_id}/record/chat.csv", chat_export_csv)
    app.cleanup_ctx.append(_chat_lifecycle)
