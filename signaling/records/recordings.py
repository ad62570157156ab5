"""Recordings in the store: each meeting's policy, its recorded files, the alerts on
its record page, and the queue of composition jobs.

Paths are stored relative to the recording directory, so the directory can move.
"""

from __future__ import annotations

import builtins
import logging
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from signaling.errors import Conflict, NotFound
from signaling.ids import MeetingId
from signaling.records.policy import RecordingPolicy, check_recording_policy
from signaling.store import Store, from_db, to_db, utcnow

log = logging.getLogger(__name__)

RecordingKind = Literal["track", "composite"]
RecordingStatus = Literal["recording", "processing", "complete", "failed", "deleted"]
JobStatus = Literal["queued", "running", "complete", "failed"]
EventKind = Literal["started", "stopped", "refused_low_disk", "stopped_low_disk", "failed"]
COMPOSITE = "composite"


@dataclass(frozen=True, slots=True)
class Recording:
    id: str
    """Unguessable; the file's URL is /recordings/<id>."""
    meeting_id: MeetingId
    kind: RecordingKind
    track: str
    """The producer id of a track, 'composite' for the composed video."""
    media: str
    """audio, video, or both (the composite)."""
    username: str | None
    source: str | None
    """camera, microphone or screen, for a track."""
    path: Path
    """Absolute path of the file."""
    status: RecordingStatus
    bytes: int
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class ComposeJob:
    id: int
    meeting_id: MeetingId
    status: JobStatus
    percent: float
    remaining_s: float | None
    """Estimated seconds left while running."""
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class RecordingEvent:
    meeting_id: MeetingId
    at: datetime
    kind: EventKind
    detail: str


@dataclass(frozen=True, slots=True)
class MonthUsage:
    month: str
    """YYYY-MM of the recordings' start."""
    files: int
    bytes: int


def _opt(text: str | None) -> datetime | None:
    return None if text is None else from_db(text)


class RecordingService:
    def __init__(self, store: Store, root: Path) -> None:
        self._store = store
        self.root = root

    # ------------------------------------------------------------ policy

    def policy(self, meeting_id: str) -> RecordingPolicy:
        row = self._store.fetch_one("SELECT recording_policy FROM meetings WHERE id = ?",
                                    (meeting_id,))
        if row is None:
            raise NotFound(f"No meeting with id {meeting_id!r}.")
        policy: RecordingPolicy = row[0]
        return policy

    def set_policy(self, meeting_id: str, policy: str) -> None:
        check_recording_policy(policy)
        with self._store.transaction() as db:
            cursor = db.execute("UPDATE meetings SET recording_policy = ? WHERE id = ?",
                                (policy, meeting_id))
            if cursor.rowcount == 0:
                raise NotFound(f"No meeting with id {meeting_id!r}.")
        log.info("meeting %s: recording policy %s", meeting_id, policy)

    # ------------------------------------------------------------ files

    def meeting_directory(self, meeting_id: str) -> Path:
        return self.root / meeting_id

    def track_started(self, meeting_id: str, track: str, media: str, username: str,
                      source: str, file_name: str, at: datetime | None = None) -> None:
        """A track is being recorded (again, after a pause: then it is simply reopened)."""
        moment = to_db(at or utcnow())
        path = f"{meeting_id}/{file_name}"
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO recordings (id, meeting_id, kind, track, media, username, source,"
                " path, status, started_at) VALUES (?, ?, 'track', ?, ?, ?, ?, ?, 'recording', ?)"
                " ON CONFLICT (meeting_id, track) DO UPDATE SET status = 'recording',"
                " ended_at = NULL",
                (secrets.token_urlsafe(18), meeting_id, track, media, username, source, path,
                 moment))

    def tracks_stopped(self, meeting_id: str, at: datetime | None = None) -> int:
        """Every track still recording now waits to be joined into one file."""
        with self._store.transaction() as db:
            return db.execute(
                "UPDATE recordings SET status = 'processing', ended_at = ?"
                " WHERE meeting_id = ? AND kind = 'track' AND status = 'recording'",
                (to_db(at or utcnow()), meeting_id)).rowcount

    def file_ready(self, meeting_id: str, track: str, path: Path, size: int,
                   media: str = "both", started_at: datetime | None = None) -> None:
        """A joined track or the composite is complete on disk."""
        relative = path.relative_to(self.root).as_posix()
        now = utcnow()
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO recordings (id, meeting_id, kind, track, media, path, status, bytes,"
                " started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, 'complete', ?, ?, ?)"
                " ON CONFLICT (meeting_id, track) DO UPDATE SET status = 'complete',"
                " path = excluded.path, bytes = excluded.bytes,"
                " ended_at = COALESCE(recordings.ended_at, excluded.ended_at)",
                (secrets.token_urlsafe(18), meeting_id,
                 COMPOSITE if track == COMPOSITE else "track", track, media, relative, size,
                 to_db(started_at or now), to_db(now)))

    def mark_deleted(self, recording_id: str) -> None:
        with self._store.transaction() as db:
            db.execute("UPDATE recordings SET status = 'deleted', bytes = 0 WHERE id = ?",
                       (recording_id,))

    def _recording(self, row: sqlite3.Row) -> Recording:
        return Recording(
            id=row["id"], meeting_id=MeetingId(row["meeting_id"]), kind=row["kind"],
            track=row["track"], media=row["media"], username=row["username"],
            source=row["source"], path=self.root / row["path"], status=row["status"],
            bytes=row["bytes"], started_at=from_db(row["started_at"]),
            ended_at=_opt(row["ended_at"]))

    def list(self, meeting_id: str) -> builtins.list[Recording]:
        rows = self._store.fetch_all(
            "SELECT * FROM recordings WHERE meeting_id = ?"
            " ORDER BY kind = 'track', started_at, track", (meeting_id,))
        return [self._recording(row) for row in rows]

    def get(self, recording_id: str) -> Recording:
        row = self._store.fetch_one("SELECT * FROM recordings WHERE id = ?", (recording_id,))
        if row is None:
            raise NotFound("No such recording.")
        return self._recording(row)

    def older_than(self, moment: datetime) -> builtins.list[Recording]:
        rows = self._store.fetch_all(
            "SELECT * FROM recordings WHERE started_at < ? AND status <> 'deleted'"
            " AND status <> 'recording' ORDER BY started_at", (to_db(moment),))
        return [self._recording(row) for row in rows]

    def usage_by_month(self) -> builtins.list[MonthUsage]:
        rows = self._store.fetch_all(
            "SELECT substr(started_at, 1, 7) AS month, COUNT(*) AS files, SUM(bytes) AS bytes"
            " FROM recordings WHERE status <> 'deleted' GROUP BY month ORDER BY month DESC")
        return [MonthUsage(row["month"], row["files"], row["bytes"] or 0) for row in rows]

    def meetings_interrupted(self) -> builtins.list[MeetingId]:
        """Meetings with tracks still marked as recording (the server stopped abruptly)."""
        rows = self._store.fetch_all(
            "SELECT DISTINCT meeting_id FROM recordings WHERE status = 'recording'")
        return [MeetingId(row[0]) for row in rows]

    # ------------------------------------------------------------ events

    def event(self, meeting_id: str, kind: EventKind, detail: str = "") -> None:
        with self._store.transaction() as db:
            db.execute("INSERT INTO recording_events (meeting_id, at, kind, detail)"
                       " VALUES (?, ?, ?, ?)", (meeting_id, to_db(utcnow()), kind, detail))

    def events(self, meeting_id: str) -> builtins.list[RecordingEvent]:
        rows = self._store.fetch_all(
            "SELECT meeting_id, at, kind, detail FROM recording_events WHERE meeting_id = ?"
            " ORDER BY id", (meeting_id,))
        return [RecordingEvent(MeetingId(r["meeting_id"]), from_db(r["at"]), r["kind"],
                               r["detail"]) for r in rows]

    # ------------------------------------------------------------ compose jobs

    def queue_compose(self, meeting_id: str) -> ComposeJob:
        """Queue a composition of the meeting; a job already waiting is returned as is."""
        try:
            with self._store.transaction() as db:
                cursor = db.execute(
                    "INSERT INTO compose_jobs (meeting_id, created_at) VALUES (?, ?)",
                    (meeting_id, to_db(utcnow())))
                job_id = int(cursor.lastrowid or 0)
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" not in str(exc):
                raise NotFound(f"No meeting with id {meeting_id!r}.") from exc
            row = self._store.fetch_one(
                "SELECT id FROM compose_jobs WHERE meeting_id = ? AND status = 'queued'",
                (meeting_id,))
            if row is None:
                raise
            job_id = int(row[0])
        else:
            log.info("meeting %s: composition job %d queued", meeting_id, job_id)
        return self.job(job_id)

    @staticmethod
    def _job(row: sqlite3.Row) -> ComposeJob:
        return ComposeJob(
            id=row["id"], meeting_id=MeetingId(row["meeting_id"]), status=row["status"],
            percent=row["percent"], remaining_s=row["remaining_s"], error=row["error"],
            attempts=row["attempts"], created_at=from_db(row["created_at"]),
            started_at=_opt(row["started_at"]), finished_at=_opt(row["finished_at"]))

    def job(self, job_id: int) -> ComposeJob:
        row = self._store.fetch_one("SELECT * FROM compose_jobs WHERE id = ?", (job_id,))
        if row is None:
            raise NotFound(f"No composition job {job_id}.")
        return self._job(row)

    def jobs(self, meeting_id: str | None = None) -> builtins.list[ComposeJob]:
        if meeting_id is None:
            rows = self._store.fetch_all("SELECT * FROM compose_jobs ORDER BY id")
        else:
            rows = self._store.fetch_all(
                "SELECT * FROM compose_jobs WHERE meeting_id = ? ORDER BY id", (meeting_id,))
        return [self._job(row) for row in rows]

    def claim_job(self) -> ComposeJob | None:
        """Take the oldest queued job and mark it running (atomically)."""
        with self._store.transaction() as db:
            row = db.execute(
                "UPDATE compose_jobs SET status = 'running', started_at = ?, percent = 0,"
                " remaining_s = NULL, error = NULL, attempts = attempts + 1"
                " WHERE id = (SELECT id FROM compose_jobs WHERE status = 'queued'"
                " ORDER BY id LIMIT 1) RETURNING *", (to_db(utcnow()),)).fetchone()
        return None if row is None else self._job(row)

    def job_progress(self, job_id: int, percent: float, remaining_s: float | None) -> None:
        with self._store.transaction() as db:
            db.execute("UPDATE compose_jobs SET percent = ?, remaining_s = ?"
                       " WHERE id = ? AND status = 'running'",
                       (max(0.0, min(100.0, percent)), remaining_s, job_id))

    def job_finished(self, job_id: int, error: str | None = None) -> None:
        status = "failed" if error else "complete"
        with self._store.transaction() as db:
            db.execute(
                "UPDATE compose_jobs SET status = ?, error = ?, finished_at = ?,"
                " percent = CASE WHEN ? = 'complete' THEN 100 ELSE percent END,"
                " remaining_s = NULL WHERE id = ?",
                (status, error, to_db(utcnow()), status, job_id))
        if error:
            log.error("composition job %d failed: %s", job_id, error)
        else:
            log.info("composition job %d complete", job_id)

    def retry(self, job_id: int) -> ComposeJob:
        """Queue a failed job again."""
        job = self.job(job_id)
        if job.status != "failed":
            raise Conflict(f"Composition job {job_id} is {job.status}; only a failed job can "
                           "be retried.")
        try:
            with self._store.transaction() as db:
                db.execute("UPDATE compose_jobs SET status = 'queued', error = NULL, percent = 0,"
                           " finished_at = NULL WHERE id = ? AND status = 'failed'", (job_id,))
        except sqlite3.IntegrityError:
            raise Conflict(f"A composition of meeting {job.meeting_id} is already queued.") \
                from None
        log.info("composition job %d queued again", job_id)
        return self.job(job_id)

    def requeue_running(self) -> int:
        """Jobs left running by a previous run of the server go back to the queue."""
        with self._store.transaction() as db:
            rows = db.execute("SELECT id, meeting_id FROM compose_jobs WHERE status = 'running'"
                              ).fetchall()
            count = 0
            for row in rows:
                waiting = db.execute("SELECT 1 FROM compose_jobs WHERE meeting_id = ? AND"
                                     " status = 'queued'", (row["meeting_id"],)).fetchone()
                new_status = "failed" if waiting else "queued"
                db.execute("UPDATE compose_jobs SET status = ?, error = ? WHERE id = ?",
                           (new_status, "interrupted" if waiting else None, row["id"]))
                count += 1
        return count
