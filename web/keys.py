"""Application state lives under these keys, never in module globals."""

from __future__ import annotations

import jinja2
from aiohttp import web
from prometheus_client import CollectorRegistry

from rooms.bookings import BookingService
from rooms.devices import RoomDevices
from sfu.api import SfuClient
from sfu.status import WorkerStatus
from signaling.accounts.accounts import AccountService
from signaling.accounts.audit import AuditLog
from signaling.accounts.csv_import import AccountImport
from signaling.accounts.groups import GroupService
from signaling.accounts.sessions import SessionService
from signaling.accounts.throttle import LoginThrottle
from signaling.accounts.tokens import ApiTokenService
from signaling.config import Config
from signaling.live.chat import LiveChat
from signaling.live.guest_links import GuestLinks
from signaling.live.lobby import Lobby
from signaling.live.meetings import LiveMeetings
from signaling.quality.monitor import QualityMonitor
from signaling.records.attendance import AttendanceService
from signaling.records.compose_jobs import ComposeQueue
from signaling.records.meeting_record import MinutesService, RecordAccess
from signaling.records.recordings import RecordingService
from signaling.schedule.feeds import FeedService
from signaling.schedule.meetings import MeetingService
from signaling.schedule.service import ScheduleService
from signaling.store import Store

CONFIG = web.AppKey("config", Config)
STORE = web.AppKey("store", Store)
ACCOUNTS = web.AppKey("accounts", AccountService)
SESSIONS = web.AppKey("sessions", SessionService)
MEETINGS = web.AppKey("meetings", MeetingService)
ATTENDANCE = web.AppKey("attendance", AttendanceService)
SFU = web.AppKey("sfu", SfuClient)
"""The media plane; signaling uses it only through the `sfu.api.SfuClient` interface."""
SFU_STATUS = web.AppKey("sfu_status", WorkerStatus)
"""The SFU workers' latest load figures (also written to a file for the CLI)."""
LIVE_MEETINGS = web.AppKey("live_meetings", LiveMeetings)
"""Every live meeting on this node: who is in, what they publish and receive."""
TEMPLATES = web.AppKey("templates", jinja2.Environment)
AUDIT = web.AppKey("audit", AuditLog)
API_TOKENS = web.AppKey("api_tokens", ApiTokenService)
THROTTLE = web.AppKey("login_throttle", LoginThrottle)
IMPORTS = web.AppKey("account_import", AccountImport)
BOOKINGS = web.AppKey("bookings", BookingService)
SCHEDULE = web.AppKey("schedule", ScheduleService)
FEEDS = web.AppKey("feeds", FeedService)
GROUPS = web.AppKey("invitee_groups", GroupService)
ROOM_DEVICES = web.AppKey("room_devices", RoomDevices)
RECORDINGS = web.AppKey("recordings", RecordingService)
RECORD_ACCESS = web.AppKey("record_access", RecordAccess)
MINUTES = web.AppKey("minutes", MinutesService)
COMPOSE_QUEUE = web.AppKey("compose_queue", ComposeQueue)
QUALITY = web.AppKey("quality", QualityMonitor)
"""The media quality monitor behind /it, the tiles' indicators and /metrics."""
METRICS_REGISTRY = web.AppKey("metrics_registry", CollectorRegistry)
CHAT = web.AppKey("chat", LiveChat)
"""Chat in live meetings, kept with the meeting record."""
LOBBY = web.AppKey("lobby", Lobby)
"""Who waits to be let into each meeting, and which meetings are locked."""
GUESTS = web.AppKey("guests", GuestLinks)
"""Guest links and the guests who came by them."""
