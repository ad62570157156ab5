"""Application state lives under these keys, never in module globals."""

from __future__ import annotations

import jinja2
from aiohttp import web
from prometheus_client import CollectorRegistry

from sfu.engine import Engine
from signaling.accounts import AccountService
from signaling.conference import Conferences
from signaling.config import Config
from signaling.meetings import MeetingService
from signaling.quality.monitor import QualityMonitor
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
QUALITY = web.AppKey("quality", QualityMonitor)
"""The media quality monitor behind /it, the tiles' indicators and /metrics."""
METRICS_REGISTRY = web.AppKey("metrics_registry", CollectorRegistry)
