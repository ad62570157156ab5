"""Quality history in SQLite: samples while a meeting is live, merged after it ends.

While a meeting is live every sample of every participant's stream is one row. When
the meeting ends its rows are merged into buckets of `bucket_seconds`, in one
transaction: a bucket keeps the worst figures it saw (highest loss, jitter and round
trip, lowest MOS and frame rate, worst state) and the mean bitrate, so a bad moment is
never averaged away. Rows and alerts older than `retention_days` are deleted.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from signaling.quality.classify import SEVERITY, State
from signaling.store import Store, from_db, to_db, utcnow

log = logging.getLogger(__name__)

STREAMS: tuple[str, ...] = ("up:camera", "up:microphone", "up:screen", "down:audio",
                            "down:video")


@dataclass(frozen=True, slots=True)
class SampleRow:
    meeting_id: str
    participant_id: str
    username: str
    stream: str
    """One of STREAMS."""
    kind: str
    at: datetime
    seconds: float
    """How long this row covers: a sampling interval, or a bucket once merged."""
    state: State
    bitrate_kbps: float | None = None
    loss_percent: float | None = None
    jitter_ms: float | None = None
    rtt_ms: float | None = None
    mos: float | None = None
    fps: float | None = None


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    meeting_id: str
    participant_id: str
    username: str
    stream: str
    reasons: tuple[str, ...]
    poor_since: datetime
    raised_at: datetime
    cleared_at: datetime | None


@dataclass(frozen=True, slots=True)
class MeetingWithHistory:
    meeting_id: str
    title: str
    start: datetime
    first_at: datetime
    last_at: datetime
    poor_seconds: float
    alerts: int


_FIGURES = ("bitrate_kbps", "loss_percent", "jitter_ms", "rtt_ms", "mos", "fps")
_COLUMNS = ("meeting_id, participant_id, username, stream, kind, at, seconds, state, "
            + ", ".join(_FIGURES))


def _row(r: sqlite3.Row) -> SampleRow:
    return SampleRow(
        meeting_id=r["meeting_id"], participant_id=r["participant_id"], username=r["username"],
        stream=r["stream"], kind=r["kind"], at=from_db(r["at"]), seconds=r["seconds"],
        state=r["state"], **{name: r[name] for name in _FIGURES})


def _alert(r: sqlite3.Row) -> AlertRow:
    return AlertRow(
        id=r["id"], meeting_id=r["meeting_id"], participant_id=r["participant_id"],
        username=r["username"], stream=r["stream"],
        reasons=tuple(x for x in r["reasons"].split(",") if x),
        poor_since=from_db(r["poor_since"]), raised_at=from_db(r["raised_at"]),
        cleared_at=None if r["cleared_at"] is None else from_db(r["cleared_at"]))


def _values(row: SampleRow, merged: int) -> tuple[object, ...]:
    return (row.meeting_id, row.participant_id, row.username, row.stream, row.kind,
            to_db(row.at), row.seconds, row.state,
            *(getattr(row, name) for name in _FIGURES), merged)


def _pick(rows: list[SampleRow], name: str, highest: bool) -> float | None:
    values: list[float] = [v for v in (getattr(r, name) for r in rows) if v is not None]
    if not values:
        return None
    return max(values) if highest else min(values)


def merge_rows(rows: Iterable[SampleRow], bucket_seconds: int) -> list[SampleRow]:
    """Pure: rows grouped per participant stream and time bucket, worst figures kept."""
    groups: dict[tuple[str, str, int], list[SampleRow]] = {}
    for row in rows:
        bucket = int(row.at.timestamp() // bucket_seconds)
        groups.setdefault((row.participant_id, row.stream, bucket), []).append(row)
    merged: list[SampleRow] = []
    for (_, _, bucket), group in sorted(groups.items(), key=lambda g: (g[0][2], g[0][:2])):
        first = group[0]
        bitrates = [r.bitrate_kbps for r in group if r.bitrate_kbps is not None]
        merged.append(SampleRow(
            meeting_id=first.meeting_id, participant_id=first.participant_id,
            username=first.username, stream=first.stream, kind=first.kind,
            at=datetime.fromtimestamp(bucket * bucket_seconds, UTC),
            seconds=sum(r.seconds for r in group),
            state=max((r.state for r in group), key=lambda s: SEVERITY[s]),
            bitrate_kbps=sum(bitrates) / len(bitrates) if bitrates else None,
            loss_percent=_pick(group, "loss_percent", highest=True),
            jitter_ms=_pick(group, "jitter_ms", highest=True),
            rtt_ms=_pick(group, "rtt_ms", highest=True),
            mos=_pick(group, "mos", highest=False), fps=_pick(group, "fps", highest=False)))
    return merged


class QualityHistory:
    def __init__(self, store: Store, bucket_seconds: int, retention_days: int) -> None:
        self._store = store
        self.bucket_seconds = bucket_seconds
        self.retention = timedelta(days=retention_days)

    # ------------------------------------------------------------ writing

    def record(self, rows: Sequence[SampleRow]) -> None:
        if not rows:
            return
        with self._store.transaction() as db:
            db.executemany(
                f"INSERT INTO quality_samples ({_COLUMNS}, merged)"
                f" VALUES ({', '.join('?' * (len(_FIGURES) + 9))})",
                [_values(row, 0) for row in rows])

    def merge(self, meeting_id: str) -> int:
        """Merge a meeting's unmerged rows into buckets; returns the rows merged away."""
        with self._store.transaction() as db:
            raw = [_row(r) for r in db.execute(
                f"SELECT {_COLUMNS} FROM quality_samples WHERE meeting_id = ? AND merged = 0",
                (meeting_id,))]
            if not raw:
                return 0
            db.execute("DELETE FROM quality_samples WHERE meeting_id = ? AND merged = 0",
                       (meeting_id,))
            db.executemany(
                f"INSERT INTO quality_samples ({_COLUMNS}, merged)"
                f" VALUES ({', '.join('?' * (len(_FIGURES) + 9))})",
                [_values(row, 1) for row in merge_rows(raw, self.bucket_seconds)])
        log.info("meeting %s: %d quality samples merged into %d s buckets", meeting_id,
                 len(raw), self.bucket_seconds)
        return len(raw)

    def merge_ended(self, live: Iterable[str]) -> int:
        """Merge every meeting with unmerged rows that is not live (after a restart too)."""
        live_ids = set(live)
        pending = [r[0] for r in self._store.fetch_all(
            "SELECT DISTINCT meeting_id FROM quality_samples WHERE merged = 0")]
        return sum(self.merge(m) for m in pending if m not in live_ids)

    def prune(self, now: datetime | None = None) -> int:
        """Delete samples and alerts older than the retention; returns the rows deleted."""
        cutoff = to_db((now or utcnow()) - self.retention)
        with self._store.transaction() as db:
            samples = db.execute("DELETE FROM quality_samples WHERE at < ?", (cutoff,)).rowcount
            alerts = db.execute("DELETE FROM quality_alerts WHERE raised_at < ?",
                                (cutoff,)).rowcount
        if samples or alerts:
            log.info("quality history: deleted %d samples and %d alerts older than %d days",
                     samples, alerts, self.retention.days)
        return int(samples + alerts)

    def alert_raised(self, meeting_id: str, participant_id: str, username: str, stream: str,
                     reasons: Sequence[str], poor_since: datetime, raised_at: datetime) -> int:
        with self._store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO quality_alerts (meeting_id, participant_id, username, stream,"
                " reasons, poor_since, raised_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (meeting_id, participant_id, username, stream, ",".join(reasons),
                 to_db(poor_since), to_db(raised_at)))
            return int(cursor.lastrowid or 0)

    def alert_cleared(self, alert_id: int, at: datetime) -> None:
        with self._store.transaction() as db:
            db.execute("UPDATE quality_alerts SET cleared_at = MAX(raised_at, ?)"
                       " WHERE id = ? AND cleared_at IS NULL", (to_db(at), alert_id))

    # ------------------------------------------------------------ reading

    def samples(self, meeting_id: str) -> list[SampleRow]:
        return [_row(r) for r in self._store.fetch_all(
            f"SELECT {_COLUMNS} FROM quality_samples WHERE meeting_id = ?"
            " ORDER BY at, participant_id, stream", (meeting_id,))]

    def alerts(self, meeting_id: str) -> list[AlertRow]:
        return [_alert(r) for r in self._store.fetch_all(
            "SELECT * FROM quality_alerts WHERE meeting_id = ? ORDER BY raised_at, id",
            (meeting_id,))]

    def meetings(self, limit: int = 100) -> list[MeetingWithHistory]:
        """Meetings that have quality history, most recent first."""
        rows = self._store.fetch_all(
            "SELECT m.id, m.title, m.start_at, MIN(s.at) AS first_at, MAX(s.at) AS last_at,"
            " SUM(CASE WHEN s.state = 'poor' THEN s.seconds ELSE 0 END) AS poor_seconds,"
            " (SELECT COUNT(*) FROM quality_alerts a WHERE a.meeting_id = m.id) AS alerts"
            " FROM quality_samples s JOIN meetings m ON m.id = s.meeting_id"
            " GROUP BY m.id ORDER BY last_at DESC LIMIT ?", (limit,))
        return [MeetingWithHistory(
            meeting_id=r["id"], title=r["title"], start=from_db(r["start_at"]),
            first_at=from_db(r["first_at"]), last_at=from_db(r["last_at"]),
            poor_seconds=float(r["poor_seconds"] or 0), alerts=int(r["alerts"]))
            for r in rows]
