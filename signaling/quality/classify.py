"""Good, Warning or Poor for one stream, from one sample of its figures.

Poor: any Poor limit broken in the current sample. Warning: any Warning limit (or a
Poor one) broken in `warning_samples` samples in a row. Otherwise Good. A new stream
is judged from its third sample on: its first has no interval to measure rates over,
and its second still holds the burst of packets with which a stream starts. The limits
come from the `[quality]` settings. Figures that are unknown (None) break nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from signaling.quality.settings import QualitySettings

State = Literal["good", "warning", "poor"]
STATES: tuple[State, ...] = ("good", "warning", "poor")
SEVERITY: dict[str, int] = {"good": 0, "warning": 1, "poor": 2}
WARMUP_SAMPLES = 2
"""Samples of a new stream that are shown but not judged."""
Kind = Literal["audio", "video"]


@dataclass(frozen=True, slots=True)
class Figures:
    """What is known of one stream at one moment."""

    kind: Kind
    screen: bool = False
    """A shared screen (video judged by its own, lower, frame-rate limits)."""
    bitrate_bps: float = 0.0
    loss_percent: float | None = None
    """Packet loss left after retransmission, in percent."""
    jitter_ms: float | None = None
    rtt_ms: float | None = None
    mos: float | None = None
    """E-model MOS, audio only."""
    fps: float | None = None
    frame_loss_percent: float | None = None


def worst(states: list[State]) -> State:
    return max(states, key=lambda s: SEVERITY[s], default="good")


def problems(f: Figures, q: QualitySettings) -> tuple[list[str], list[str]]:
    """(Poor reasons, Warning reasons) of one sample; reasons name the figure broken."""
    poor: list[str] = []
    warn: list[str] = []

    def above(value: float | None, limit: float, reason: str, out: list[str]) -> None:
        if value is not None and value > limit:
            out.append(reason)

    def below(value: float | None, limit: float, reason: str, out: list[str]) -> None:
        if value is not None and value < limit:
            out.append(reason)

    if f.kind == "audio":
        above(f.rtt_ms, q.poor_audio_rtt_ms, "rtt", poor)
        above(f.loss_percent, q.poor_audio_loss_percent, "loss", poor)
        above(f.jitter_ms, q.poor_audio_jitter_ms, "jitter", poor)
        above(f.jitter_ms, q.warning_jitter_ms, "jitter", warn)
        below(f.mos, q.warning_mos, "mos", warn)
    else:
        above(f.frame_loss_percent, q.poor_video_frame_loss_percent, "frame_loss", poor)
        above(f.loss_percent, q.poor_video_loss_percent, "loss", poor)
        below(f.fps, q.poor_screen_fps if f.screen else q.poor_video_fps, "fps", poor)
        below(f.fps, q.warning_screen_fps if f.screen else q.warning_video_fps, "fps", warn)
    above(f.rtt_ms, q.warning_rtt_ms, "rtt", warn)
    above(f.loss_percent, q.warning_loss_percent, "loss", warn)
    return poor, warn


@dataclass(slots=True)
class Classifier:
    """The state of one stream over time: holds the run of Warning samples."""

    warning_run: int = 0
    state: State = "good"
    reasons: tuple[str, ...] = ()
    samples: int = 0

    def update(self, figures: Figures, q: QualitySettings) -> State:
        self.samples += 1
        if self.samples <= WARMUP_SAMPLES:
            return self.state
        poor, warn = problems(figures, q)
        if poor or warn:
            self.warning_run += 1
        else:
            self.warning_run = 0
        if poor:
            self.state, self.reasons = "poor", tuple(dict.fromkeys(poor))
        elif self.warning_run >= q.warning_samples:
            self.state, self.reasons = "warning", tuple(dict.fromkeys(warn))
        else:
            self.state, self.reasons = "good", ()
        return self.state
