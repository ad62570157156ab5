"""The composition root: `create_app(config)` wires every part together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web

from sfu.engine import Engine
from signaling.accounts import AccountService
from signaling.conference import Conferences
from signaling.config import Config
from signaling.meetings import MeetingService
from signaling.records import AttendanceService
from signaling.sessions import SessionService
from signaling.store import Store

from .auth import auth_middleware, error_middleware
from .keys import ACCOUNTS, ATTENDANCE, CONFERENCES, CONFIG, MEETINGS, SESSIONS, SFU, STORE
from .quality_views import setup_quality
from .views import setup_pages, setup_templates
from .ws import setup_ws

logger = logging.getLogger(__name__)


def create_app(config: Config) -> web.Application:
    app = web.Application(middlewares=[error_middleware, auth_middleware])
    app[CONFIG] = config
    config.data_path.mkdir(parents=True, exist_ok=True)
    store = Store.open(config.database_path)
    app[STORE] = store
    app[ACCOUNTS] = AccountService(store, config.licence.seats)
    app[SESSIONS] = SessionService(store, idle=timedelta(minutes=config.http.session_idle_minutes),
                                   absolute=timedelta(hours=config.http.session_max_hours))
    app[MEETINGS] = MeetingService(store, config.tz)
    app[ATTENDANCE] = AttendanceService(store)
    engine = Engine(config.sfu)
    app[SFU] = engine
    app[CONFERENCES] = Conferences(engine, app[ATTENDANCE], config.sfu.ice_servers)
    setup_templates(app)
    setup_pages(app)
    setup_ws(app)
    setup_quality(app)
    app.cleanup_ctx.append(_lifecycle)
    return app


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    # A previous run that stopped abruptly leaves no phantom participants behind.
    closed = app[ATTENDANCE].close_open()
    if closed:
        logger.info("closed %d attendance records left open by the previous run", closed)
    await app[SFU].start()
    yield
    await app[CONFERENCES].close()
    await app[SFU].close()
    app[STORE].close()


def _event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def serve(config: Config) -> None:
    app = create_app(config)
    host, port = config.http.host, config.http.port
    print(f"Giao Ban is serving on http://{host}:{port}/", flush=True)
    web.run_app(app, host=host, port=port, print=None, loop=_event_loop(),
                handler_cancellation=True)
