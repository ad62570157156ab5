"""A past meeting's quality report: each participant's timeline and worst moments, and CSV.

Pure functions over the rows kept by `QualityHistory`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from signaling.quality.classify import SEVERITY, State, worst
from signaling.quality.history import AlertRow, SampleRow

WORST_MOMENTS = 10
CSV_COLUMNS = ("time", "participant", "participant_id", "stream", "kind", "seconds", "state",
               "bitrate_kbps", "loss_percent", "jitter_ms", "rtt_ms", "mos", "fps")


@dataclass(slots=True)
class ParticipantReport:
    username: str
    participant_ids: list[str] = field(default_factory=list)
    """One per connection: a participant who rejoined has several."""
    state: State = "good"
    """The worst state any of their streams reached."""
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SEVERITY, 0.0))
    """Stream-seconds spent in each state."""
    streams: dict[str, list[SampleRow]] = field(default_factory=dict)
    worst: list[SampleRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MeetingReport:
    meeting_id: str
    participants: list[ParticipantReport]
    alerts: list[AlertRow]

    def chart_data(self) -> dict[str, Any]:
        """Each participant's series, for the report page's charts (times in Unix seconds)."""
        out: dict[str, Any] = {}
        for p in self.participants:
            out[p.username] = {
                stream: {
                    "t": [r.at.timestamp() for r in rows],
                    "loss": [r.loss_percent for r in rows],
                    "jitter": [r.jitter_ms for r in rows],
                    "rtt": [r.rtt_ms for r in rows],
                    "mos": [r.mos for r in rows],
                    "bitrate": [r.bitrate_kbps for r in rows],
                    "state": [SEVERITY[r.state] for r in rows],
                }
                for stream, rows in sorted(p.streams.items())
            }
        return out


def badness(row: SampleRow) -> tuple[float, ...]:
    """Sort key: worse state first, then more loss, more jitter, longer round trip, lower MOS."""
    return (-SEVERITY[row.state], -(row.loss_percent or 0), -(row.jitter_ms or 0),
            -(row.rtt_ms or 0), row.mos if row.mos is not None else 5.0)


def build_report(meeting_id: str, rows: Sequence[SampleRow],
                 alerts: Sequence[AlertRow]) -> MeetingReport:
    people: dict[str, ParticipantReport] = {}
    for row in sorted(rows, key=lambda r: r.at):
        person = people.setdefault(row.username, ParticipantReport(username=row.username))
        if row.participant_id not in person.participant_ids:
            person.participant_ids.append(row.participant_id)
        person.streams.setdefault(row.stream, []).append(row)
        person.seconds[row.state] += row.seconds
        person.state = worst([person.state, row.state])
    for person in people.values():
        bad = [r for s in person.streams.values() for r in s if r.state != "good"]
        person.worst = sorted(bad, key=badness)[:WORST_MOMENTS]
    ordered = sorted(people.values(),
                     key=lambda p: (-SEVERITY[p.state], -p.seconds["poor"], p.username))
    return MeetingReport(meeting_id=meeting_id, participants=ordered, alerts=list(alerts))


def _figure(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def to_csv(rows: Sequence[SampleRow], tz: tzinfo) -> str:
    """Every row, in time order, with local ISO times (the configured zone)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in sorted(rows, key=lambda r: (r.at, r.username, r.stream)):
        writer.writerow([
            r.at.astimezone(tz).isoformat(timespec="seconds"), r.username, r.participant_id,
            r.stream, r.kind, f"{r.seconds:g}", r.state, _figure(r.bitrate_kbps),
            _figure(r.loss_percent), _figure(r.jitter_ms), _figure(r.rtt_ms),
            "" if r.mos is None else f"{r.mos:.2f}", _figure(r.fps)])
    return out.getvalue()
