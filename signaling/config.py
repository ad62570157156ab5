"""Configuration: defaults in code, then the TOML file, then GIAOBAN_* overrides, then validation.

Every key is documented in configs/example.toml. An unknown key, a wrong type or an
invalid value raises ConfigError with a message naming the key.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sfu.config import VIDEO_CODECS, IceServer, RecorderSettings, SfuSettings, port_range
from signaling.config_loading import apply_env, build, env_name
from signaling.errors import ConfigError
from signaling.forwarded import trusted_networks
from signaling.quality.settings import QualitySettings, validate_quality
from signaling.records.policy import RECORDING_POLICIES

LANGUAGES = ("vi", "en")


@dataclass(frozen=True, slots=True)
class HttpSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    secure_cookies: bool = False
    """Mark cookies Secure; turn on when served over HTTPS (automatic with TLS)."""
    session_idle_minutes: int = 120
    """A session unused this long expires."""
    session_max_hours: int = 12
    """A session expires this long after sign-in, used or not."""
    tls_certificate: str = ""
    """PEM certificate (a chain allowed); with `tls_private_key`, serve HTTPS on `port`."""
    tls_private_key: str = ""
    """PEM private key of `tls_certificate`."""
    redirect_port: int = 0
    """With TLS, plain HTTP on this port redirects every request to HTTPS; 0 = off."""
    public_url: str = ""
    """The address people reach the server at (e.g. https://giaoban.bo.gov.vn); links in
    invitations and feeds are built from it, and pages from it may open the sockets.
    Empty: http://host:port from this section."""
    trusted_proxies: list[str] = field(default_factory=list)
    """Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For and
    X-Forwarded-Proto are believed; empty: those headers are ignored from everyone."""

    @property
    def tls(self) -> bool:
        """True when the server itself serves HTTPS."""
        return bool(self.tls_certificate and self.tls_private_key)

    @property
    def cookies_secure(self) -> bool:
        """Cookies are Secure when configured so, and always with TLS."""
        return self.secure_cookies or self.tls


@dataclass(frozen=True, slots=True)
class LicenceSettings:
    seats: int = 150
    """How many accounts may be active at once."""


@dataclass(frozen=True, slots=True)
class LoginSettings:
    account_max_failures: int = 5
    """Failed sign-ins to one account name from one address within the window before that
    name is locked for that address."""
    account_total_max_failures: int = 50
    """Failed sign-ins to one account name from any addresses within the window before the
    name is locked for everyone."""
    address_max_failures: int = 20
    """Failed sign-ins from one source address within the window before it is locked."""
    window_minutes: int = 15
    lockout_minutes: int = 15
    max_sessions_per_account: int = 10
    """Signed-in browsers one account may hold; a new sign-in beyond it ends the account's
    oldest sessions."""


@dataclass(frozen=True, slots=True)
class RoomSettings:
    """One dedicated conference room."""

    id: str
    name: str
    location: str = ""
    capacity: int = 20


@dataclass(frozen=True, slots=True)
class MeetingSettings:
    join_window_minutes: int = 15
    """Invitees may join this many minutes before a meeting starts."""
    mute_on_entry_above: int = 8
    """From this many participants on, each newcomer joins with the microphone off."""
    guests_wait_in_lobby: bool = True
    chat_retention_days: int = 365
    """Chat messages older than this are deleted by the daily job; 0 keeps them forever."""
    tiles_per_page: int = 9
    """Video tiles a meeting page shows at a time (one page; the others by paging)."""


COMPOSE_LAYOUTS = ("grid", "speaker")
_RECORDER = RecorderSettings()


@dataclass(frozen=True, slots=True)
class RecordingSettings:
    """The [recording] section. `segment_seconds` and `min_free_mb` are the SFU recorder's
    settings (sfu.config.RecorderSettings), with its defaults; `recorder` hands them over."""

    default_policy: str = "automatic"
    """Policy of new meetings: automatic, on_demand or off."""
    directory: str = ""
    """Where recordings are written; empty means <data_dir>/recordings."""
    segment_seconds: int = _RECORDER.segment_seconds
    min_free_mb: int = _RECORDER.min_free_mb
    retention_days: int = 365
    """Recordings older than this are deleted by the daily job; 0 keeps them forever."""
    compose_layout: str = "grid"
    """Layout of the composed video: grid, or speaker (the active speaker large)."""

    @property
    def recorder(self) -> RecorderSettings:
        """The settings the SFU records with."""
        return RecorderSettings(segment_seconds=self.segment_seconds,
                                min_free_mb=self.min_free_mb)


def _default_rooms() -> list[RoomSettings]:
    return [
        RoomSettings(id="room-1", name="Phòng họp 1", location="", capacity=40),
        RoomSettings(id="room-2", name="Phòng họp 2", location="", capacity=20),
        RoomSettings(id="room-3", name="Phòng họp 3", location="", capacity=12),
    ]


@dataclass(frozen=True, slots=True)
class Config:
    data_dir: str = "data"
    """Where the database and every file the server writes live."""
    timezone: str = "Asia/Ho_Chi_Minh"
    language: str = "vi"
    """Default UI language: vi or en."""
    log_level: str = "info"
    http: HttpSettings = field(default_factory=HttpSettings)
    sfu: SfuSettings = field(default_factory=SfuSettings)
    licence: LicenceSettings = field(default_factory=LicenceSettings)
    login: LoginSettings = field(default_factory=LoginSettings)
    rooms: list[RoomSettings] = field(default_factory=_default_rooms)
    meetings: MeetingSettings = field(default_factory=MeetingSettings)
    recording: RecordingSettings = field(default_factory=RecordingSettings)
    quality: QualitySettings = field(default_factory=QualitySettings)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def recording_path(self) -> Path:
        """The directory holding every meeting's recording, as an absolute path."""
        folder = self.recording.directory or str(self.data_path / "recordings")
        return Path(folder).absolute()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def database_path(self) -> Path:
        return self.data_path / "giaoban.sqlite3"


# ---------------------------------------------------------------- loading


def load_config(path: str | os.PathLike[str] | None = None,
                env: Mapping[str, str] | None = None) -> Config:
    """Build the configuration in the documented order and validate it."""
    raw: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {p}: {exc.strerror}") from exc
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {p} is not valid TOML: {exc}") from exc
    config: Config = build(Config, raw, prefix="")
    config = apply_env(config, os.environ if env is None else env)
    validate(config)
    return config


# ---------------------------------------------------------------- validation


def validate(config: Config) -> None:
    if not config.data_dir.strip():
        raise ConfigError("'data_dir' must not be empty")
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"'timezone': unknown time zone {config.timezone!r}") from None
    if config.language not in LANGUAGES:
        raise ConfigError(
            f"'language' must be one of {', '.join(LANGUAGES)}, not {config.language!r}"
        )
    if config.log_level.lower() not in ("debug", "info", "warning", "error"):
        raise ConfigError(
            f"'log_level' must be debug, info, warning or error, not {config.log_level!r}"
        )
    http = config.http
    if not 1 <= http.port <= 65535:
        raise ConfigError(f"'http.port' must be between 1 and 65535, not {http.port}")
    if not http.host:
        raise ConfigError("'http.host' must not be empty")
    if http.public_url and not (http.public_url.startswith(("http://", "https://"))
                                and len(http.public_url.split("://", 1)[1].strip("/")) > 0):
        raise ConfigError("'http.public_url' must be an http:// or https:// address, "
                          f"not {http.public_url!r}")
    if http.session_idle_minutes < 1:
        raise ConfigError("'http.session_idle_minutes' must be at least 1")
    if http.session_max_hours < 1:
        raise ConfigError("'http.session_max_hours' must be at least 1")
    _validate_tls(http)
    try:
        trusted_networks(http.trusted_proxies)
    except ValueError as exc:
        raise ConfigError(f"'http.trusted_proxies': {exc}") from None
    _validate_sfu(config.sfu)
    validate_quality(config.quality)
    if config.licence.seats < 1:
        raise ConfigError(f"'licence.seats' must be at least 1, not {config.licence.seats}")
    for key in ("account_max_failures", "account_total_max_failures", "address_max_failures",
                "window_minutes", "lockout_minutes", "max_sessions_per_account"):
        value = getattr(config.login, key)
        if value < 1:
            raise ConfigError(f"'login.{key}' must be at least 1, not {value}")
    _validate_recording(config.recording)
    seen: set[str] = set()
    for i, room in enumerate(config.rooms):
        key = f"rooms[{i}]"
        if not room.id or not room.id.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(f"'{key}.id' must be letters, digits, '-' or '_', not {room.id!r}")
        if room.id in seen:
            raise ConfigError(f"'{key}.id': room id {room.id!r} is used twice")
        seen.add(room.id)
        if not room.name.strip():
            raise ConfigError(f"'{key}.name' must not be empty")
        if room.capacity < 1:
            raise ConfigError(f"'{key}.capacity' must be at least 1")
    _validate_schedule(config)


def _validate_tls(http: HttpSettings) -> None:
    """The TLS keys go together; the files themselves are checked when serving starts."""
    if http.tls_certificate and not http.tls_private_key:
        raise ConfigError("'http.tls_private_key' must be set when 'http.tls_certificate' is")
    if http.tls_private_key and not http.tls_certificate:
        raise ConfigError("'http.tls_certificate' must be set when 'http.tls_private_key' is")
    if http.redirect_port:
        if not 1 <= http.redirect_port <= 65535:
            raise ConfigError(f"'http.redirect_port' must be 0 (off) or between 1 and 65535, "
                              f"not {http.redirect_port}")
        if not http.tls:
            raise ConfigError("'http.redirect_port' redirects to HTTPS: set "
                              "'http.tls_certificate' and 'http.tls_private_key' too")
        if http.redirect_port == http.port:
            raise ConfigError("'http.redirect_port' must differ from 'http.port'")


def _validate_schedule(config: Config) -> None:
    meetings = config.meetings
    for key, value, top in (("join_window_minutes", meetings.join_window_minutes, 24 * 60),
                            ("mute_on_entry_above", meetings.mute_on_entry_above, 10_000)):
        if not 0 <= value <= top:
            raise ConfigError(f"'meetings.{key}' must be between 0 and {top}, not {value}")
    if meetings.chat_retention_days < 0:
        raise ConfigError("'meetings.chat_retention_days' must be 0 (keep forever) or more")
    per_page = meetings.tiles_per_page
    if not 1 <= per_page <= 49:
        raise ConfigError(f"'meetings.tiles_per_page' must be between 1 and 49, not {per_page}")


def _validate_recording(recording: RecordingSettings) -> None:
    if recording.default_policy not in RECORDING_POLICIES:
        raise ConfigError(f"'recording.default_policy' must be one of "
                          f"{', '.join(RECORDING_POLICIES)}, not {recording.default_policy!r}")
    if not 2 <= recording.segment_seconds <= 300:
        raise ConfigError("'recording.segment_seconds' must be between 2 and 300")
    if recording.min_free_mb < 0:
        raise ConfigError("'recording.min_free_mb' must not be negative")
    if recording.retention_days < 0:
        raise ConfigError("'recording.retention_days' must be 0 (keep forever) or more")
    if recording.compose_layout not in COMPOSE_LAYOUTS:
        raise ConfigError(f"'recording.compose_layout' must be one of "
                          f"{', '.join(COMPOSE_LAYOUTS)}, not {recording.compose_layout!r}")


def _validate_sfu(sfu: SfuSettings) -> None:
    for i, address in enumerate(sfu.announced_addresses):
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise ConfigError(
                f"'sfu.announced_addresses[{i}]': {address!r} is not an IP address"
            ) from None
    for i, server in enumerate(sfu.ice_servers):
        if not server.urls:
            raise ConfigError(f"'sfu.ice_servers[{i}].urls' must list at least one URL")
        for url in server.urls:
            if not url.startswith(("stun:", "turn:", "turns:")):
                raise ConfigError(
                    f"'sfu.ice_servers[{i}].urls': {url!r} must start with stun:, turn: or turns:"
                )
        static = bool(server.username) + bool(server.credential)
        if server.is_turn and static < 2 and (static or not sfu.turn_secret):
            # Browsers refuse a TURN server without both (and so every join).
            raise ConfigError(f"'sfu.ice_servers[{i}]': a TURN server needs both username and "
                              "credential, or neither with 'sfu.turn_secret' set")
    if sfu.turn_secret and not any(s.is_turn for s in sfu.ice_servers):
        raise ConfigError("'sfu.turn_secret' is set but no server in 'sfu.ice_servers' "
                          "has a turn: or turns: URL to use it with")
    if not 60 <= sfu.turn_credential_seconds <= 7 * 86400:
        raise ConfigError("'sfu.turn_credential_seconds' must be between 60 and 604800")
    if sfu.workers < 0:
        raise ConfigError("'sfu.workers' must be 0 (one per core) or more")
    if sfu.keyframe_retry_ms < 100:
        raise ConfigError("'sfu.keyframe_retry_ms' must be at least 100")
    if sfu.pli_min_interval_ms < 0:
        raise ConfigError("'sfu.pli_min_interval_ms' must not be negative")
    if not 500 <= sfu.stats_interval_ms <= 60_000:
        raise ConfigError("'sfu.stats_interval_ms' must be between 500 and 60000")
    try:
        port_range(sfu.udp_ports)
    except ValueError as exc:
        raise ConfigError(f"'sfu.udp_ports': {exc}") from None
    if not 5 <= sfu.consent_timeout_seconds <= 300:
        raise ConfigError("'sfu.consent_timeout_seconds' must be between 5 and 300")
    if not 0 <= sfu.worker_wait_seconds <= 120:
        raise ConfigError("'sfu.worker_wait_seconds' must be between 0 and 120")
    if sfu.worker_consumer_limit < 1:
        raise ConfigError("'sfu.worker_consumer_limit' must be at least 1")
    known = ", ".join(VIDEO_CODECS)
    if not sfu.video_codecs or len(set(sfu.video_codecs)) != len(sfu.video_codecs) \
            or any(name not in VIDEO_CODECS for name in sfu.video_codecs):
        raise ConfigError(f"'sfu.video_codecs' must list {known}, or one of them, each once, "
                          f"not {sfu.video_codecs!r}")


__all__ = [
    "Config", "HttpSettings", "IceServer", "LicenceSettings", "LoginSettings",
    "MeetingSettings", "QualitySettings", "RecordingSettings", "RoomSettings", "SfuSettings",
    "load_config", "validate", "env_name",
]
