"""The browsers' getStats() summaries: validation, size and rate caps, and counting.

Every 5 s each browser sends one `quality_report` over /ws. A report is only ever
information: one that is malformed, too large or too frequent is dropped and counted
by reason, and nothing is sent back, so it can never disturb the meeting.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from signaling.errors import InvalidMessage

MAX_STREAMS = 32
MAX_REPORT_BYTES = 65_536
"""Absolute cap checked while parsing; the configured `report_max_bytes` is at most this."""

Direction = Literal["inbound", "outbound"]
DropReason = Literal["malformed", "oversized", "too_frequent", "not_joined"]
DROP_REASONS: tuple[DropReason, ...] = ("malformed", "oversized", "too_frequent", "not_joined")
QUALITY_LIMITATIONS = ("none", "cpu", "bandwidth", "other")
CANDIDATE_TYPES = ("host", "srflx", "prflx", "relay")


class InvalidQualityReport(InvalidMessage):
    """A report to drop silently; `reason` is 'malformed' or 'oversized'."""

    def __init__(self, reason: DropReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ClientStream:
    """One inbound or outbound RTP stream as the browser sees it."""

    direction: Direction
    kind: Literal["audio", "video"]
    source: Literal["camera", "microphone", "screen"] | None = None
    """Outbound: which of our own tracks."""
    producer_id: str | None = None
    """Inbound: the producer it carries (from the subscribe offer's consumer list)."""
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    freezes: int | None = None
    """Inbound video: freezes since the previous report."""
    frame_loss_percent: float | None = None
    """Inbound video: frames lost or dropped since the previous report, of those expected."""
    concealed_percent: float | None = None
    """Inbound audio: concealed samples since the previous report, in percent."""
    quality_limitation: str | None = None
    """Outbound video: none, cpu, bandwidth or other."""
    jitter_buffer_ms: float | None = None
    jitter_ms: float | None = None
    loss_percent: float | None = None


@dataclass(frozen=True, slots=True)
class ClientPair:
    """The selected ICE candidate pair of one of the two peer connections."""

    transport: Literal["publish", "subscribe"]
    rtt_ms: float | None = None
    available_outgoing_bps: float | None = None
    local_type: str | None = None
    remote_type: str | None = None


@dataclass(frozen=True, slots=True)
class ClientSummary:
    streams: tuple[ClientStream, ...] = ()
    pairs: tuple[ClientPair, ...] = ()


# ---------------------------------------------------------------- parsing


def _bad(detail: str) -> InvalidQualityReport:
    return InvalidQualityReport("malformed", detail)


def _number(d: Mapping[str, Any], key: str, high: float) -> float | None:
    value = d.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad(f"'{key}' must be a number")
    if not 0 <= value <= high:
        raise _bad(f"'{key}' must be between 0 and {high:g}")
    return float(value)


def _whole(d: Mapping[str, Any], key: str, high: int) -> int | None:
    value = _number(d, key, high)
    if value is None:
        return None
    if value != int(value):
        raise _bad(f"'{key}' must be a whole number")
    return int(value)


def _choice(d: Mapping[str, Any], key: str, choices: tuple[str, ...],
            optional: bool = True) -> Any:
    value = d.get(key)
    if value is None and optional:
        return None
    if value not in choices:
        raise _bad(f"'{key}' must be one of {', '.join(choices)}")
    return value


def _text(d: Mapping[str, Any], key: str, max_len: int) -> str | None:
    value = d.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= max_len:
        raise _bad(f"'{key}' must be a string of at most {max_len} characters")
    return value


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _bad(f"each entry of '{what}' must be an object")
    return value


def parse_stream(raw: Any) -> ClientStream:
    d = _object(raw, "streams")
    direction = _choice(d, "direction", ("inbound", "outbound"), optional=False)
    return ClientStream(
        direction=direction,
        kind=_choice(d, "kind", ("audio", "video"), optional=False),
        source=_choice(d, "source", ("camera", "microphone", "screen")),
        producer_id=_text(d, "producer_id", 64),
        fps=_number(d, "fps", 240),
        width=_whole(d, "width", 16_384),
        height=_whole(d, "height", 16_384),
        freezes=_whole(d, "freezes", 10_000),
        frame_loss_percent=_number(d, "frame_loss_percent", 100),
        concealed_percent=_number(d, "concealed_percent", 100),
        quality_limitation=_choice(d, "quality_limitation", QUALITY_LIMITATIONS),
        jitter_buffer_ms=_number(d, "jitter_buffer_ms", 60_000),
        jitter_ms=_number(d, "jitter_ms", 60_000),
        loss_percent=_number(d, "loss_percent", 100),
    )


def parse_pair(raw: Any) -> ClientPair:
    d = _object(raw, "pairs")
    return ClientPair(
        transport=_choice(d, "transport", ("publish", "subscribe"), optional=False),
        rtt_ms=_number(d, "rtt_ms", 60_000),
        available_outgoing_bps=_number(d, "available_outgoing_bps", 1e10),
        local_type=_choice(d, "local_type", CANDIDATE_TYPES),
        remote_type=_choice(d, "remote_type", CANDIDATE_TYPES),
    )


def parse_summary(d: Mapping[str, Any]) -> ClientSummary:
    """Validate one report's body; raise InvalidQualityReport('malformed', why)."""
    streams = d.get("streams", [])
    pairs = d.get("pairs", [])
    if not isinstance(streams, list) or len(streams) > MAX_STREAMS:
        raise _bad(f"'streams' must be a list of at most {MAX_STREAMS}")
    if not isinstance(pairs, list) or len(pairs) > 2:
        raise _bad("'pairs' must be a list of at most 2")
    unknown = set(d) - {"type", "streams", "pairs"}
    if unknown:
        raise _bad(f"unknown fields {', '.join(sorted(unknown))}")
    return ClientSummary(streams=tuple(parse_stream(s) for s in streams),
                         pairs=tuple(parse_pair(p) for p in pairs))


# ---------------------------------------------------------------- caps and counts


@dataclass(slots=True)
class ReportGate:
    """Caps the size and rate of the reports of every participant, and counts the result."""

    max_bytes: int
    min_interval_s: float
    accepted: int = 0
    dropped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DROP_REASONS, 0))
    _last: dict[str, float] = field(default_factory=dict)

    def admit(self, participant_id: str, size: int, now: float) -> bool:
        """Whether a well-formed report of `size` bytes, received `now`, is taken."""
        if size > self.max_bytes:
            self.drop("oversized")
            return False
        last = self._last.get(participant_id)
        if last is not None and now - last < self.min_interval_s:
            self.drop("too_frequent")
            return False
        self._last[participant_id] = now
        self.accepted += 1
        return True

    def drop(self, reason: DropReason) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1

    def forget(self, participant_id: str) -> None:
        self._last.pop(participant_id, None)
