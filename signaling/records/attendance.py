"""Meeting records: who attended which meeting, from when to when.

Staff stays are in `attendance` (by account); a guest's in `guest_attendance`, by the
guest, under the username `guest:<id>` (signaling/live/guest_links.py), with the name
they gave."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from signaling.errors import Conflict, NotFound
from signaling.ids import GUEST_PREFIX, MeetingId, ParticipantId, Username, is_guest_username
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
        guest = is_guest_username(username)
        try:
            with self._store.transaction() as db:
                db.execute(
                    "INSERT INTO guest_attendance (participant_id, meeting_id, guest_id,"
                    " joined_at) VALUES (?, ?, ?, ?)" if guest else
                    "INSERT INTO attendance (participant_id, meeting_id, username, joined_at)"
                    " VALUES (?, ?, ?, ?)",
                    (participant_id, meeting_id, username.removeprefix(GUEST_PREFIX),
                     to_db(moment)) if guest else
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
            for table in ("attendance", "guest_attendance"):
                db.execute(
                    f"UPDATE {table} SET left_at = MAX(joined_at, ?)"
                    " WHERE participant_id = ? AND left_at IS NULL",
                    (to_db(moment), participant_id),
                )

    def close_open(self, at: datetime | None = None) -> int:
        """Mark every attendance still open as left; run at start-up after a crash."""
        moment = at if at is not None else utcnow()
        with self._store.transaction() as db:
            count = sum(db.execute(
                f"UPDATE {table} SET left_at = MAX(joined_at, ?) WHERE left_at IS NULL",
                (to_db(moment),),
            ).rowcount for table in ("attendance", "guest_attendance"))
        if count:
            log.info("closed %d attendance records left open by a previous run", count)
        return count

    def for_meeting(self, meeting_id: str) -> list[Attendance]:
        """Every stay, guests' too (under `guest:<id>`)."""
        rows = self._store.fetch_all(
            "SELECT participant_id, meeting_id, username, joined_at, left_at"
            " FROM attendance WHERE meeting_id = ?"
            " UNION ALL SELECT participant_id, meeting_id, ? || guest_id, joined_at, left_at"
            " FROM guest_attendance WHERE meeting_id = ? ORDER BY joined_at, participant_id",
            (meeting_id, GUEST_PREFIX, meeting_id),
        )
        return [_attendance(row) for row in rows]

    def guest_names(self, meeting_id: str) -> dict[str, str]:
        """The name (and unit) each guest of the meeting gave, by their username."""
        rows = self._store.fetch_all(
            "SELECT id, name, unit FROM guests WHERE meeting_id = ?", (meeting_id,))
        return {GUEST_PREFIX + row["id"]: (f"{row['name']} ({row['unit']})" if row["unit"]
                                           else row["name"]) for row in rows}

    def open_for(self, meeting_id: str) -> list[Attendance]:
        """Participants still in the meeting."""
        return [a for a in self.for_meeting(meeting_id) if a.left_at is None]
