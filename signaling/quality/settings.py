"""The `[quality]` settings: thresholds, alerts, the webhook, history and /metrics access."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from signaling.errors import ConfigError


@dataclass(frozen=True, slots=True)
class QualitySettings:
    # Poor: any one of these in a sample makes the stream Poor at once.
    poor_audio_rtt_ms: float = 500.0
    poor_audio_loss_percent: float = 10.0
    poor_audio_jitter_ms: float = 30.0
    poor_video_frame_loss_percent: float = 50.0
    """Frames the receiving browser lost or dropped, of the frames it should have shown."""
    poor_video_fps: float = 7.0
    poor_screen_fps: float = 2.0
    poor_video_loss_percent: float = 15.0
    """Packet loss left after retransmission."""
    # Warning: any one of these, in `warning_samples` samples in a row.
    warning_rtt_ms: float = 400.0
    warning_loss_percent: float = 3.0
    warning_jitter_ms: float = 20.0
    warning_mos: float = 3.5
    warning_video_fps: float = 15.0
    warning_screen_fps: float = 4.0
    warning_samples: int = 3
    # Alerts.
    alert_after_seconds: int = 30
    """A stream Poor for longer than this raises an alert."""
    webhook_url: str = ""
    """Alerts are also POSTed here as JSON when set (http:// or https://)."""
    webhook_retries: int = 3
    """Further attempts after a failed POST, waiting 1 s, 2 s, 4 s ... between them."""
    webhook_timeout_seconds: int = 5
    # Browser reports.
    report_max_bytes: int = 8192
    report_min_interval_ms: int = 2000
    """Reports from one participant closer together than this are dropped."""
    # Dashboard and history.
    dashboard_interval_ms: int = 2000
    history_bucket_seconds: int = 30
    """After a meeting ends its samples are merged into buckets of this length."""
    retention_days: int = 90
    # /metrics.
    metrics_token: str = ""
    """Empty: /metrics answers loopback clients only. Set: any client with this bearer token."""


def validate_quality(q: QualitySettings) -> None:
    for name in ("poor_audio_rtt_ms", "poor_audio_jitter_ms", "poor_video_fps",
                 "poor_screen_fps", "warning_rtt_ms", "warning_jitter_ms",
                 "warning_video_fps", "warning_screen_fps"):
        if getattr(q, name) < 0:
            raise ConfigError(f"'quality.{name}' must not be negative")
    for name in ("poor_audio_loss_percent", "poor_video_frame_loss_percent",
                 "poor_video_loss_percent", "warning_loss_percent"):
        if not 0 <= getattr(q, name) <= 100:
            raise ConfigError(f"'quality.{name}' must be a percentage between 0 and 100")
    if not 1.0 <= q.warning_mos <= 4.5:
        raise ConfigError("'quality.warning_mos' must be between 1.0 and 4.5")
    if q.warning_rtt_ms > q.poor_audio_rtt_ms:
        raise ConfigError("'quality.warning_rtt_ms' must not be above 'quality.poor_audio_rtt_ms'")
    if not 1 <= q.warning_samples <= 100:
        raise ConfigError("'quality.warning_samples' must be between 1 and 100")
    if not 0 <= q.alert_after_seconds <= 86_400:
        raise ConfigError("'quality.alert_after_seconds' must be between 0 and 86400")
    if q.webhook_url:
        parts = urlsplit(q.webhook_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"'quality.webhook_url' must be an http:// or https:// URL, not {q.webhook_url!r}"
            )
    if not 0 <= q.webhook_retries <= 10:
        raise ConfigError("'quality.webhook_retries' must be between 0 and 10")
    if not 1 <= q.webhook_timeout_seconds <= 60:
        raise ConfigError("'quality.webhook_timeout_seconds' must be between 1 and 60")
    if not 512 <= q.report_max_bytes <= 65_536:
        raise ConfigError("'quality.report_max_bytes' must be between 512 and 65536")
    if not 0 <= q.report_min_interval_ms <= 60_000:
        raise ConfigError("'quality.report_min_interval_ms' must be between 0 and 60000")
    if not 500 <= q.dashboard_interval_ms <= 60_000:
        raise ConfigError("'quality.dashboard_interval_ms' must be between 500 and 60000")
    if not 1 <= q.history_bucket_seconds <= 3600:
        raise ConfigError("'quality.history_bucket_seconds' must be between 1 and 3600")
    if not 1 <= q.retention_days <= 3650:
        raise ConfigError("'quality.retention_days' must be between 1 and 3650")
    if q.metrics_token and len(q.metrics_token) < 16:
        raise ConfigError("'quality.metrics_token' must be empty or at least 16 characters")
