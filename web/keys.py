"""Application state lives under these keys, never in module globals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jinja2
from aiohttp import web

from signaling.config import Config

if TYPE_CHECKING:
    from sfu.api import SfuClient
    from signaling.accounts import AccountService
    from signaling.conference import Conferences
    from signaling.meetings import MeetingService
    from signaling.records import AttendanceService
    from signaling.sessions import SessionService
    from signaling.store import Store

CONFIG = web.AppKey("config", Config)
STORE = web.AppKey("store", "Store")
ACCOUNTS = web.AppKey("accounts", "AccountService")
SESSIONS = web.AppKey("sessions", "SessionService")
MEETINGS = web.AppKey("meetings", "MeetingService")
ATTENDANCE = web.AppKey("attendance", "AttendanceService")
SFU = web.AppKey("sfu", "SfuClient")
CONFERENCES = web.AppKey("conferences", "Conferences")
TEMPLATES = web.AppKey("templates", jinja2.Environment)
