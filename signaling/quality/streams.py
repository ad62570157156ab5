"""Pure rules: from one SFU sample (plus the browser's last report) to each participant's
stream figures.

A participant has up to five streams:
- up:camera, up:microphone, up:screen: what they send, measured by the SFU as it
  receives it (loss, jitter, bitrate), with the round trip of their connection and the
  frame rate their browser reports;
- down:audio, down:video: everything they receive, from the SFU's consumers on their
  subscribe connection (the subscriber's own receiver reports), with the frame rate,
  freezes and frame loss their browser reports.

Loss and jitter that a publisher's own path already caused reach every subscriber; a
subscriber is not blamed for them. So on the way down only the loss added after the
SFU counts (consumer loss minus the publisher's loss), and a consumer whose source was
lossy (or jittery) in any of its last few samples is left out of the subscriber's loss
(or jitter): receiver reports lag the SFU's own counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sfu.api import StreamStats
from signaling.quality.classify import Figures, Kind
from signaling.quality.client_reports import ClientPair, ClientStream, ClientSummary
from signaling.quality.emodel import audio_mos
from signaling.quality.settings import QualitySettings


@dataclass(frozen=True, slots=True)
class SourceRecent:
    """The worst a publisher's stream arrived at the SFU over its last few samples."""

    loss_fraction: float
    jitter_ms: float
    kind: Kind
    settled: bool = True
    """False until the SFU has measured the stream over a whole interval."""


@dataclass(frozen=True, slots=True)
class StreamReading:
    """One participant stream's figures in one sample, with what the dashboard shows."""

    key: str
    kind: Kind
    figures: Figures
    paused: bool = False
    nacks: int = 0
    plis: int = 0
    width: int | None = None
    height: int | None = None
    quality_limitation: str | None = None
    freezes: int | None = None
    concealed_percent: float | None = None


def _pair(summary: ClientSummary | None, transport: str) -> ClientPair | None:
    if summary is None:
        return None
    return next((p for p in summary.pairs if p.transport == transport), None)


def _with_mos(kind: Kind, f: Figures) -> Figures:
    if kind != "audio":
        return f
    mos = audio_mos(f.rtt_ms, f.jitter_ms or 0.0, f.loss_percent or 0.0)
    return Figures(kind=f.kind, screen=f.screen, bitrate_bps=f.bitrate_bps,
                   loss_percent=f.loss_percent, jitter_ms=f.jitter_ms, rtt_ms=f.rtt_ms,
                   mos=mos, fps=f.fps, frame_loss_percent=f.frame_loss_percent)


def source_loss_is_clean(source: SourceRecent, q: QualitySettings) -> bool:
    """Whether a publisher's stream reached the SFU recently without notable loss."""
    return source.settled and source.loss_fraction * 100 <= q.warning_loss_percent


def source_jitter_is_clean(source: SourceRecent, q: QualitySettings) -> bool:
    """Whether a publisher's stream reached the SFU recently without notable jitter."""
    return source.settled and (source.kind != "audio" or source.jitter_ms <= q.warning_jitter_ms)


def upstream(source: str, stats: StreamStats, rtt_ms: float | None,
             client: ClientSummary | None, muted: bool) -> StreamReading:
    """What a participant sends on one track, as the SFU receives it."""
    sent: ClientStream | None = None
    if client is not None:
        sent = next((s for s in client.streams
                     if s.direction == "outbound" and s.source == source), None)
    fps = sent.fps if sent is not None and stats.kind == "video" and not muted else None
    figures = Figures(kind=stats.kind, screen=source == "screen", bitrate_bps=stats.bitrate_bps,
                      loss_percent=stats.loss_fraction * 100, jitter_ms=stats.jitter_ms,
                      rtt_ms=rtt_ms, fps=fps)
    return StreamReading(
        key=f"up:{source}", kind=stats.kind, figures=_with_mos(stats.kind, figures),
        paused=stats.paused, nacks=stats.nacks, plis=stats.plis,
        width=sent.width if sent else None, height=sent.height if sent else None,
        quality_limitation=sent.quality_limitation if sent else None)


def downstream(kind: Kind, consumers: Sequence[StreamStats],
               sources: dict[str, SourceRecent], screens: set[str],
               client: ClientSummary | None, q: QualitySettings) -> StreamReading | None:
    """Everything of one kind a participant receives; None when nothing flows."""
    flowing = [c for c in consumers if c.kind == kind and not c.paused]
    if not flowing:
        return None
    loss: float | None = None
    jitter: float | None = None
    for c in flowing:
        source = sources.get(c.producer_id)
        if source is None:
            continue
        if source_loss_is_clean(source, q):
            added = max(0.0, c.loss_fraction - source.loss_fraction) * 100
            loss = added if loss is None else max(loss, added)
        if source_jitter_is_clean(source, q):
            jitter = c.jitter_ms if jitter is None else max(jitter, c.jitter_ms)
    rtts = [c.rtt_ms for c in flowing if c.rtt_ms is not None]
    rtt = max(rtts) if rtts else None
    if rtt is None:
        pair = _pair(client, "subscribe")
        rtt = pair.rtt_ms if pair is not None else None
    fps: float | None = None
    frame_loss: float | None = None
    freezes: int | None = None
    concealed: float | None = None
    if client is not None:
        received = [s for s in client.streams if s.direction == "inbound" and s.kind == kind]
        cameras = [s for s in received if s.producer_id not in screens]
        rates = [s.fps for s in cameras if s.fps is not None]
        fps = min(rates) if rates and kind == "video" else None
        losses = [s.frame_loss_percent for s in received if s.frame_loss_percent is not None]
        frame_loss = max(losses) if losses and kind == "video" else None
        counts = [s.freezes for s in received if s.freezes is not None]
        freezes = sum(counts) if counts else None
        hidden = [s.concealed_percent for s in received if s.concealed_percent is not None]
        concealed = max(hidden) if hidden else None
    figures = Figures(kind=kind, bitrate_bps=sum(c.bitrate_bps for c in flowing),
                      loss_percent=loss, jitter_ms=jitter, rtt_ms=rtt, fps=fps,
                      frame_loss_percent=frame_loss)
    return StreamReading(
        key=f"down:{kind}", kind=kind, figures=_with_mos(kind, figures),
        nacks=sum(c.nacks for c in flowing), plis=sum(c.plis for c in flowing),
        freezes=freezes, concealed_percent=concealed)


def path_rtt(consumers: Sequence[StreamStats], client: ClientSummary | None) -> float | None:
    """A participant's round trip: their browser's publish pair, else the SFU's RTCP figure
    on their subscribe connection (same network path)."""
    pair = _pair(client, "publish")
    if pair is not None and pair.rtt_ms is not None:
        return pair.rtt_ms
    rtts = [c.rtt_ms for c in consumers if c.rtt_ms is not None]
    return max(rtts) if rtts else None
