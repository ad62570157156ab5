"""Meeting records: who attended which meeting, from when to when."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from signaling.errors import Conflict, NotFound
from signaling.ids import MeetingId, ParticipantId, Username
from signaling.store import Store, from_db, to_db, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Attendance:
    meeting_id: MeetingId
    username: Username
    participant_id: ParticipantId
    """One browser connection; a person who rejoins gets a new one."""
    joined_at: datetime
    left_at: datetime | None
    """None while the participant is still in the meeting."""


def _attendance(row: sqlite3.Row) -> Attendance:
    return Attendance(
        meeting_id=MeetingId(row["meeting_id"]),
        username=Username(row["username"]),
        participant_id=ParticipantId(row["participant_id"]),
        joined_at=from_db(row["joined_at"]),
        left_at=None if row["left_at"] is None else from_db(row["left_at"]),
    )


class AttendanceService:
    def __init__(self, store: Store) -> None:
        self._store = store

    def joined(
        self,
        meeting_id: str,
        username: str,
        participant_id: str,
        at: datetime | None = None,
    ) -> Attendance:
        """Record that a participant entered a meeting."""
        moment = at if at is not None else utcnow()
        try:
            with self._store.transaction() as db:
                db.execute(
                    "INSERT INTO attendance (participant_id, meeting_id, username, joined_at)"
                    " VALUES (?, ?, ?, ?)",
                    (participant_id, meeting_id, username, to_db(moment)),
                )
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" in str(exc):
                raise Conflict(f"Participant {participant_id!r} is already recorded.") from exc
            raise NotFound(
                f"No meeting {meeting_id!r} or no account {username!r} to record attendance for."
            ) from exc
        return Attendance(
            MeetingId(meeting_id), Username(username), ParticipantId(participant_id),
            from_db(to_db(moment)), None,
        )

    def left(self, participant_id: str, at: datetime | None = None) -> None:
        """Record that a participant left; a second call changes nothing."""
        moment = at if at is not None else utcnow()
        with self._store.transaction() as db:
            db.execute(
                "UPDATE attendance SET left_at = MAX(joined_at, ?)"
                " WHERE participant_id = ? AND left_at IS NULL",
                (to_db(moment), participant_id),
            )

    def close_open(self, at: datetime | None = None) -> int:
        """Mark every attendance still open as left; run at start-up after a crash."""
        moment = at if at is not None else utcnow()
        with self._store.transaction() as db:
            count = db.execute(
                "UPDATE attendance SET left_at = MAX(joined_at, ?) WHERE left_at IS NULL",
                (to_db(moment),),
            ).rowcount
        if count:
            log.info("closed %d attendance records left open by a previous run", count)
        return count

    def for_meeting(self, meeting_id: str) -> list[Attendance]:
        rows = self._store.fetch_all(
            "SELECT participant_id, meeting_id, username, joined_at, left_at"
            " FROM attendance WHERE meeting_id = ? ORDER BY joined_at, participant_id",
            (meeting_id,),
        )
        return [_attendance(row) for row in rows]

    def open_for(self, meeting_id: str) -> list[Attendance]:
        """Participants still in the meeting."""
        return [a for a in self.for_meeting(meeting_id) if a.left_at is None]
