"""The live quality monitor: SFU samples and browser reports in, stream states out.

It listens to the SFU's events (never touching the forwarding path), maps each
producer and consumer to its meeting, participant and track through the read-only
snapshots of `LiveMeetings`, judges every participant stream (Good, Warning, Poor), keeps a
few minutes of figures for the dashboard's charts, writes every sample to the history,
raises an alert (on the dashboard, and to the webhook) when a stream stays Poor too
long, and tells each meeting's participants how everyone's network is doing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sfu.api import SfuClient, SfuEvent, StatsSample, StreamStats, WorkerLoad
from signaling.ids import MeetingId
from signaling.live import protocol as p
from signaling.live.meetings import LiveMeetings
from signaling.live.snapshot import LiveMeetingSnapshot, ParticipantSnapshot
from signaling.quality.classify import SEVERITY, Classifier, State, worst
from signaling.quality.client_reports import ClientSummary, ReportGate
from signaling.quality.history import QualityHistory, SampleRow
from signaling.quality.settings import QualitySettings
from signaling.quality.streams import SourceRecent, StreamReading, downstream, path_rtt, upstream
from signaling.quality.webhook import Webhook

log = logging.getLogger(__name__)

SERIES_POINTS = 100
"""Points kept per stream for the dashboard's charts (5 minutes at one sample per 3 s)."""
CLIENT_REPORT_TTL_S = 15.0
SOURCE_MEMORY = 3
"""Samples of a publisher's stream remembered when judging what subscribers receive."""
PRUNE_EVERY_S = 3600.0


@dataclass(slots=True)
class Alert:
    id: int
    meeting_id: str
    meeting_title: str
    participant_id: str
    username: str
    display_name: str
    stream: str
    reasons: tuple[str, ...]
    poor_since: float
    raised_at: float
    cleared_at: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "meeting_id": self.meeting_id, "meeting_title": self.meeting_title,
                "participant_id": self.participant_id, "username": self.username,
                "display_name": self.display_name, "stream": self.stream,
                "reasons": list(self.reasons), "poor_since": self.poor_since,
                "raised_at": self.raised_at, "cleared_at": self.cleared_at}


@dataclass(slots=True)
class StreamTrack:
    """One participant stream over time."""

    reading: StreamReading
    classifier: Classifier = field(default_factory=Classifier)
    series: deque[tuple[float | None, ...]] = field(
        default_factory=lambda: deque(maxlen=SERIES_POINTS))
    poor_since: float | None = None
    alert: Alert | None = None


@dataclass(slots=True)
class ParticipantTrack:
    meeting_id: MeetingId
    participant_id: str
    username: str
    display_name: str
    streams: dict[str, StreamTrack] = field(default_factory=dict)
    client: ClientSummary | None = None
    client_at: float = 0.0

    @property
    def state(self) -> State:
        return worst([s.classifier.state for s in self.streams.values()])


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


class QualityMonitor:
    def __init__(self, settings: QualitySettings, sfu: SfuClient, live_meetings: LiveMeetings,
                 history: QualityHistory, webhook: Webhook | None = None,
                 stats_interval_s: float = 3.0, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self._sfu = sfu
        self._live_meetings = live_meetings
        self.history = history
        self.webhook = webhook
        self._interval = stats_interval_s
        self._clock = clock
        self.gate = ReportGate(settings.report_max_bytes, settings.report_min_interval_ms / 1000)
        self.participants: dict[str, ParticipantTrack] = {}
        self.workers: dict[int, tuple[WorkerLoad, float]] = {}
        self.worker_series: dict[int, deque[tuple[float, float, float]]] = {}
        self.alerts: dict[int, Alert] = {}
        self.recent_alerts: deque[Alert] = deque(maxlen=50)
        self.alerts_raised = 0
        self.forwarded_packets = 0
        """Packets sent to subscribers since start: a monotonic sum of per-consumer deltas."""
        self._consumer_packets: dict[str, dict[str, int]] = {}
        self._last_sample_at: dict[str, float] = {}
        self._sources: dict[str, dict[str, deque[StreamStats]]] = {}
        """Per router, each producer's last few samples."""
        self._told: dict[str, tuple[tuple[str, str], ...]] = {}
        self._live: set[str] = set()
        self._pending_client: dict[str, tuple[ClientSummary, float]] = {}
        """Reports that came before the participant's first SFU sample."""
        self._remove_listener: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        merged = self.history.merge_ended(())
        pruned = self.history.prune()
        log.info("quality monitor started (%d old samples merged, %d pruned)", merged, pruned)
        self._remove_listener = self._sfu.add_listener(self.on_event)
        self._task = asyncio.create_task(self._housekeeping(), name="quality-housekeeping")

    async def close(self) -> None:
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        tasks = [t for t in (self._task, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None
        if self.webhook is not None:
            await self.webhook.close()

    async def _housekeeping(self) -> None:
        last_prune = time.monotonic()
        while True:
            await asyncio.sleep(self.settings.dashboard_interval_ms / 1000)
            try:
                self.sync(self._live_meetings.snapshot())
                if time.monotonic() - last_prune > PRUNE_EVERY_S:
                    last_prune = time.monotonic()
                    self.history.prune()
            except Exception:
                log.exception("quality housekeeping failed")

    def sync(self, meetings: list[LiveMeetingSnapshot]) -> None:
        """Forget participants who left; merge the history of meetings that ended."""
        present = {lp.participant_id for m in meetings for lp in m.participants}
        for pid in [pid for pid in self.participants if pid not in present]:
            track = self.participants.pop(pid)
            for stream in track.streams.values():
                self._clear_alert(stream)
            self.gate.forget(pid)
        for pid in [pid for pid in self._pending_client if pid not in present]:
            del self._pending_client[pid]
        live = {str(m.meeting_id) for m in meetings}
        routers = {str(m.router_id) for m in meetings}
        for gone in [r for r in self._sources if r not in routers]:
            self._sources.pop(gone, None)
            self._last_sample_at.pop(gone, None)
            self._consumer_packets.pop(gone, None)
        for ended in self._live - live:
            self._told.pop(ended, None)
            self.history.merge(ended)
        self._live = live
        for m in meetings:
            self._tell(m)

    # ------------------------------------------------------------ input

    def on_event(self, event: SfuEvent) -> None:
        if isinstance(event, StatsSample):
            self.on_sample(event)
        elif isinstance(event, WorkerLoad):
            self.workers[event.worker] = (event, self._clock())
            series = self.worker_series.setdefault(event.worker, deque(maxlen=SERIES_POINTS))
            series.append((self._clock(), event.cpu_percent, event.packets_per_s))

    def client_report(self, participant_id: str, report: p.QualityReport) -> bool:
        """Take a browser's report if its size and rate are within the caps."""
        track = self.participants.get(participant_id)
        if not self.gate.admit(participant_id, report.size, time.monotonic()):
            return False
        if track is not None:
            track.client, track.client_at = report.summary, self._clock()
        else:
            self._pending_client[participant_id] = (report.summary, self._clock())
        return True

    def on_sample(self, sample: StatsSample) -> None:
        meeting = self._live_meetings.snapshot_on_router(sample.router_id)
        self._count_forwarded(sample)
        if meeting is None:
            return
        now = self._clock()
        previous = self._last_sample_at.get(sample.router_id)
        self._last_sample_at[sample.router_id] = now
        seconds = min(60.0, max(0.5, now - previous)) if previous else self._interval
        inbound: dict[str, StreamStats] = {s.producer_id: s for s in sample.streams
                                           if s.direction == "inbound"}
        sources = self._remember_sources(sample.router_id, inbound)
        screens = {t.producer_id for lp in meeting.participants for t in lp.tracks
                   if t.source == "screen"}
        rows: list[SampleRow] = []
        for lp in meeting.participants:
            track = self._participant(meeting, lp)
            client = track.client if now - track.client_at < CLIENT_REPORT_TTL_S else None
            consumers = [s for s in sample.streams
                         if s.direction == "outbound" and s.transport_id == lp.subscribe_transport]
            rtt = path_rtt(consumers, client)
            readings: list[StreamReading] = []
            for info in lp.tracks:
                stats = inbound.get(info.producer_id)
                if stats is not None:
                    muted = lp.video_muted if info.kind == "video" else lp.audio_muted
                    readings.append(upstream(info.source, stats, rtt, client, muted))
            for kind in ("audio", "video"):
                reading = downstream(kind, consumers, sources, screens, client, self.settings)
                if reading is not None:
                    readings.append(reading)
            for reading in readings:
                rows.append(self._update(meeting, track, reading, now, seconds))
            for key in [k for k in track.streams if k not in {r.key for r in readings}]:
                self._clear_alert(track.streams.pop(key))
        try:
            self.history.record(rows)
        except Exception:
            log.exception("meeting %s: quality samples not stored", meeting.meeting_id)
        self._tell(meeting)

    def _remember_sources(self, router_id: str,
                          inbound: dict[str, StreamStats]) -> dict[str, SourceRecent]:
        before = self._sources.get(router_id, {})
        now = {pid: before.get(pid, deque(maxlen=SOURCE_MEMORY)) for pid in inbound}
        for pid, stats in inbound.items():
            now[pid].append(stats)
        self._sources[router_id] = now
        # A stream's first sample has no interval to measure loss over: it is not settled.
        return {pid: SourceRecent(loss_fraction=max(s.loss_fraction for s in recent),
                                  jitter_ms=max(s.jitter_ms for s in recent),
                                  kind=recent[-1].kind, settled=len(recent) >= 2)
                for pid, recent in now.items()}

    def _participant(self, meeting: LiveMeetingSnapshot,
                     lp: ParticipantSnapshot) -> ParticipantTrack:
        track = self.participants.get(lp.participant_id)
        if track is None:
            track = ParticipantTrack(meeting_id=meeting.meeting_id,
                                     participant_id=lp.participant_id, username=lp.username,
                                     display_name=lp.display_name)
            pending = self._pending_client.pop(lp.participant_id, None)
            if pending is not None:
                track.client, track.client_at = pending
            self.participants[lp.participant_id] = track
        return track

    def _count_forwarded(self, sample: StatsSample) -> None:
        before = self._consumer_packets.get(sample.router_id, {})
        now: dict[str, int] = {}
        for s in sample.streams:
            if s.direction == "outbound":
                self.forwarded_packets += max(0, s.packets - before.get(s.stream_id, 0))
                now[s.stream_id] = max(s.packets, before.get(s.stream_id, 0))
        self._consumer_packets[sample.router_id] = now

    def _update(self, meeting: LiveMeetingSnapshot, track: ParticipantTrack, reading: StreamReading,
                now: float, seconds: float) -> SampleRow:
        stream = track.streams.get(reading.key)
        if stream is None:
            stream = track.streams[reading.key] = StreamTrack(reading=reading)
        stream.reading = reading
        state = stream.classifier.update(reading.figures, self.settings)
        f = reading.figures
        stream.series.append((now, f.bitrate_bps / 1000, f.loss_percent, f.jitter_ms,
                              f.rtt_ms, f.mos, f.fps))
        if state == "poor":
            if stream.poor_since is None:
                stream.poor_since = now
            if (stream.alert is None
                    and now - stream.poor_since >= self.settings.alert_after_seconds):
                self._raise_alert(meeting, track, reading.key, stream, now)
        else:
            stream.poor_since = None
            self._clear_alert(stream)
        return SampleRow(
            meeting_id=str(meeting.meeting_id), participant_id=track.participant_id,
            username=track.username, stream=reading.key, kind=reading.kind,
            at=datetime.fromtimestamp(now, UTC), seconds=seconds, state=state,
            bitrate_kbps=_round(f.bitrate_bps / 1000), loss_percent=_round(f.loss_percent, 2),
            jitter_ms=_round(f.jitter_ms), rtt_ms=_round(f.rtt_ms), mos=_round(f.mos, 2),
            fps=_round(f.fps))

    # ------------------------------------------------------------ alerts

    def _raise_alert(self, meeting: LiveMeetingSnapshot, track: ParticipantTrack, key: str,
                     stream: StreamTrack, now: float) -> None:
        assert stream.poor_since is not None
        reasons = stream.classifier.reasons
        try:
            alert_id = self.history.alert_raised(
                str(meeting.meeting_id), track.participant_id, track.username, key, reasons,
                datetime.fromtimestamp(stream.poor_since, UTC), datetime.fromtimestamp(now, UTC))
        except Exception:
            log.exception("meeting %s: alert not stored", meeting.meeting_id)
            alert_id = -(self.alerts_raised + 1)
        alert = Alert(id=alert_id, meeting_id=str(meeting.meeting_id),
                      meeting_title=meeting.title, participant_id=track.participant_id,
                      username=track.username, display_name=track.display_name, stream=key,
                      reasons=reasons, poor_since=stream.poor_since, raised_at=now)
        stream.alert = alert
        self.alerts[alert.id] = alert
        self.alerts_raised += 1
        log.warning("meeting %s: %s's %s has been Poor for %.0f s (%s)", meeting.meeting_id,
                    track.username, key, now - stream.poor_since, ", ".join(reasons))
        if self.webhook is not None:
            f = stream.reading.figures
            self.webhook.send({
                "event": "quality_alert", **alert.as_json(),
                "state": "poor",
                "figures": {"bitrate_kbps": _round(f.bitrate_bps / 1000),
                            "loss_percent": _round(f.loss_percent, 2),
                            "jitter_ms": _round(f.jitter_ms), "rtt_ms": _round(f.rtt_ms),
                            "mos": _round(f.mos, 2), "fps": _round(f.fps)},
            })

    def _clear_alert(self, stream: StreamTrack) -> None:
        alert = stream.alert
        if alert is None:
            return
        stream.alert = None
        alert.cleared_at = self._clock()
        self.alerts.pop(alert.id, None)
        self.recent_alerts.appendleft(alert)
        if alert.id > 0:
            try:
                self.history.alert_cleared(alert.id, datetime.fromtimestamp(alert.cleared_at, UTC))
            except Exception:
                log.exception("alert %d: clearing not stored", alert.id)

    # ------------------------------------------------------------ telling the meeting

    def _tell(self, meeting: LiveMeetingSnapshot) -> None:
        """Send the meeting everyone's state when one changed (or someone came or went)."""
        states = tuple((str(lp.participant_id), self._state_of(str(lp.participant_id)))
                       for lp in meeting.participants)
        key = str(meeting.meeting_id)
        if self._told.get(key) == states:
            return
        self._told[key] = states
        names = {str(lp.participant_id): lp.username for lp in meeting.participants}
        message = p.Quality(participants=[
            p.ParticipantQuality(participant_id=pid, username=names[pid], state=state)
            for pid, state in states])
        self._spawn(self._live_meetings.notify(meeting.meeting_id, message))

    def _state_of(self, participant_id: str) -> State:
        track = self.participants.get(participant_id)
        return track.state if track is not None else "good"

    def _spawn(self, coro: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await coro
            except Exception:
                log.exception("quality notification failed")

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------ reading

    def counts(self) -> dict[str, int]:
        streams = [s for t in self.participants.values() for s in t.streams.values()]
        return {"participants": len(self.participants), "streams": len(streams),
                **{state: sum(1 for s in streams if s.classifier.state == state)
                   for state in SEVERITY}}
