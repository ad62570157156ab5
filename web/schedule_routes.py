"""Wiring of scheduling: the JSON API, the pages and the room kiosk."""

from __future__ import annotations

from aiohttp import web

from web.api.directory import setup_directory_api
from web.api.schedule import setup_schedule_api
from web.pages.groups import setup_group_pages
from web.pages.kiosk import setup_kiosk_pages
from web.pages.meeting_edit import setup_meeting_edit_pages
from web.pages.schedule import setup_schedule_pages


def setup_schedule(app: web.Application) -> None:
    setup_schedule_api(app)
    setup_schedule_pages(app)
    setup_kiosk_pages(app)
    setup_meeting_edit_pages(app)
    setup_directory_api(app)
    setup_group_pages(app)
