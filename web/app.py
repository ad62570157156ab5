"""The composition root: `create_app(config)` wires every part together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web

from rooms.bookings import BookingService
from rooms.calendar import MeetingRooms
from rooms.devices import RoomDevices
from sfu.api import SfuClient, SfuEvent, WorkerLoad
from sfu.config import worker_count
from sfu.engine import Engine
from sfu.pool import WorkerPool
from sfu.status import STATUS_FILE, WorkerStatus
from signaling.accounts.accounts import AccountService
from signaling.accounts.audit import AuditLog
from signaling.accounts.csv_import import MAX_BYTES as CSV_MAX_BYTES
from signaling.accounts.csv_import import AccountImport
from signaling.accounts.groups import GroupService
from signaling.accounts.sessions import SessionService
from signaling.accounts.throttle import LoginThrottle, rules_from
from signaling.accounts.tokens import ApiTokenService
from signaling.config import Config
from signaling.live.chat import ChatStore, LiveChat
from signaling.live.guest_links import GuestLinks
from signaling.live.ice_servers import IceServers
from signaling.live.lobby import Lobby
from signaling.live.meetings import LiveMeetings
from signaling.records.attendance import AttendanceService
from signaling.schedule.feeds import FeedService
from signaling.schedule.meetings import MeetingService
from signaling.schedule.service import ScheduleService
from signaling.store import Store
from web.access_log import ACCESS_LOGGER
from web.accounts_web import setup_accounts
from web.api.guest_links import setup_guest_links_api
from web.auth import auth_middleware, error_middleware, name_the_server
from web.client_address import client_middleware
from web.keys import (
    ACCOUNTS,
    API_TOKENS,
    ATTENDANCE,
    AUDIT,
    BOOKINGS,
    CHAT,
    CONFIG,
    FEEDS,
    GROUPS,
    GUESTS,
    IMPORTS,
    LIVE_MEETINGS,
    LOBBY,
    MEETINGS,
    ROOM_DEVICES,
    SCHEDULE,
    SESSIONS,
    SFU,
    SFU_STATUS,
    STORE,
    THROTTLE,
)
from web.pages.guest import setup_guest_pages
from web.pages.quality import setup_quality
from web.pages.record_chat import setup_record_chat
from web.pages.records import create_recording_services, setup_recordings
from web.pages.views import setup_pages, setup_templates
from web.schedule_routes import setup_schedule
from web.tls import base_url, redirect_site, server_tls, strict_transport_security
from web.ws import setup_ws

logger = logging.getLogger(__name__)

MAX_FORM_BYTES = 4 * CSV_MAX_BYTES
"""The largest request body: a CSV import of the largest size the import takes, even
sent back form-encoded (each non-ASCII byte takes three) when it is applied."""


def create_app(config: Config) -> web.Application:
    app = web.Application(middlewares=[client_middleware, error_middleware, auth_middleware],
                          client_max_size=MAX_FORM_BYTES)
    app.on_response_prepare.append(name_the_server)
    app[CONFIG] = config
    config.data_path.mkdir(parents=True, exist_ok=True)
    store = Store.open(config.database_path)
    app[STORE] = store
    app[ACCOUNTS] = AccountService(store, config.licence.seats)
    app[SESSIONS] = SessionService(store, idle=timedelta(minutes=config.http.session_idle_minutes),
                                   absolute=timedelta(hours=config.http.session_max_hours),
                                   max_per_account=config.login.max_sessions_per_account)
    app[AUDIT] = AuditLog(store)
    app[API_TOKENS] = ApiTokenService(store, app[ACCOUNTS])
    app[THROTTLE] = LoginThrottle(store, rules_from(config.login))
    app[IMPORTS] = AccountImport(store, app[ACCOUNTS])
    app[BOOKINGS] = BookingService(store, config.rooms, config.tz)
    app[ROOM_DEVICES] = RoomDevices(store)
    rooms = MeetingRooms(app[BOOKINGS], app[ROOM_DEVICES])
    app[MEETINGS] = MeetingService(
        store, config.tz, join_window=timedelta(minutes=config.meetings.join_window_minutes),
        default_recording_policy=config.recording.default_policy, rooms=rooms)
    app[SCHEDULE] = ScheduleService(store, app[MEETINGS], app[ACCOUNTS], rooms)
    app[GROUPS] = GroupService(store, app[ACCOUNTS])
    app[FEEDS] = FeedService(store)
    app[ATTENDANCE] = AttendanceService(store)
    sfu = create_sfu(config)
    app[SFU] = sfu
    status = WorkerStatus(config.data_path / "run" / STATUS_FILE)
    app[SFU_STATUS] = status

    def on_load(event: SfuEvent) -> None:
        if isinstance(event, WorkerLoad):
            try:
                status.update(event)
            except OSError as exc:
                logger.warning("cannot write the SFU status file: %s", exc)

    sfu.add_listener(on_load)
    recording = create_recording_services(app, sfu)
    ice_servers = IceServers(config.sfu.ice_servers, config.sfu.turn_secret,
                             config.sfu.turn_credential_seconds)
    app[LIVE_MEETINGS] = LiveMeetings(
        sfu, app[ATTENDANCE], ice_servers, recording=recording,
        secretaries_of=app[ACCOUNTS].secretaries_of,
        mute_on_entry_above=config.meetings.mute_on_entry_above,
        tiles_per_page=config.meetings.tiles_per_page, ended=app[SCHEDULE].end_now)
    live = app[LIVE_MEETINGS].live
    app[LOBBY] = Lobby(lambda meeting_id: meeting_id in live,
                       guests_wait=config.meetings.guests_wait_in_lobby)
    app[CHAT] = LiveChat(ChatStore(store), app[LOBBY].is_host)
    app[GUESTS] = GuestLinks(store)
    setup_templates(app)
    setup_pages(app)
    setup_ws(app)
    setup_accounts(app)
    setup_schedule(app)
    setup_recordings(app)
    setup_quality(app)
    setup_guest_pages(app)
    setup_record_chat(app)
    setup_guest_links_api(app)
    app.cleanup_ctx.append(_lifecycle)
    if config.http.tls:
        app.on_response_prepare.append(strict_transport_security)
    if config.http.redirect_port:
        app.cleanup_ctx.append(redirect_site(config.http))
    return app


def create_sfu(config: Config) -> SfuClient:
    """The media plane: worker processes, or the in-process engine when configured."""
    recording = config.recording.recorder
    if config.sfu.in_process:
        return Engine(config.sfu, recording=recording)
    return WorkerPool(config.sfu, worker_count(config.sfu), config.data_path / "run",
                      log_level=config.log_level, recording=recording)


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    # A previous run that stopped abruptly leaves no phantom participants behind.
    closed = app[ATTENDANCE].close_open()
    if closed:
        logger.info("closed %d attendance records left open by the previous run", closed)
    await app[SFU].start()
    yield
    await app[LOBBY].close()
    await app[LIVE_MEETINGS].close()
    await app[SFU].close()
    app[STORE].close()


def _event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def serve(config: Config) -> None:
    ssl_context = server_tls(config.http)  # refuses a bad certificate before anything starts
    app = create_app(config)
    host, port = config.http.host, config.http.port
    print(f"Giao Ban is serving on {base_url(config.http)}/", flush=True)
    web.run_app(app, host=host, port=port, ssl_context=ssl_context, print=None,
                loop=_event_loop(), handler_cancellation=True, access_log_class=ACCESS_LOGGER)
