"""Application state lives under these keys, never in module globals."""

from __future__ import annotations

import jinja2
from aiohttp import web

from sfu.engine import Engine
from signaling.accounts import AccountService
from signaling.compose_jobs import ComposeQueue
from signaling.conference import Conferences
from signaling.config import Config
from signaling.meeting_record import MinutesService, RecordAccess
from signaling.meetings import MeetingService
from signaling.recordings import RecordingService
from signaling.records import AttendanceService
from signaling.sessions import SessionService
from signaling.store import Store

CONFIG = web.AppKey("config", Config)
STORE = web.AppKey("store", Store)
ACCOUNTS = web.AppKey("accounts", AccountService)
SESSIONS = web.AppKey("sessions", SessionService)
MEETINGS = web.AppKey("meetings", MeetingService)
ATTENDANCE = web.AppKey("attendance", AttendanceService)
SFU = web.AppKey("sfu", Engine)
"""The media plane; signaling uses it only through the `sfu.api.SfuClient` interface."""
CONFERENCES = web.AppKey("conferences", Conferences)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
RECORDINGS = web.AppKey("recordings", RecordingService)
RECORD_ACCESS = web.AppKey("record_access", RecordAccess)
MINUTES = web.AppKey("minutes", MinutesService)
COMPOSE_QUEUE = web.AppKey("compose_queue", ComposeQueue)
