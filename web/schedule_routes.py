"""Wiring of scheduling: the JSON API, the pages and the room kiosk."""

from __future__ import annotations

from aiohttp import web

from .kiosk_pages import setup_kiosk_pages
from .schedule_api import setup_schedule_api
from .schedule_pages import setup_schedule_pages


def setup_schedule(app: web.Application) -> None:
    setup_schedule_api(app)
    setup_schedule_pages(app)
    setup_kiosk_pages(app)
