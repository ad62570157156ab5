"""A meeting's record: who may see it, the minutes, and attendance per person.

May view: the organizer, the chair, the invitees (those invited before the meeting's
planned end), the secretaries of any of them, administrators.
May edit the minutes and start or stop an on-demand recording: the organizer, the
chair, the secretaries of either, administrators.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from signaling.errors import BadRequest, Forbidden
from signaling.records.attendance import Attendance
from signaling.store import Store, from_db, to_db, utcnow

if TYPE_CHECKING:
    from signaling.accounts.accounts import Account
    from signaling.schedule.meetings import Meeting

MINUTES_MAX = 100_000
NOT_ALLOWED = "You may not view the record of this meeting"


class RecordAccess:
    def __init__(self, store: Store) -> None:
        self._store = store

    def leaders_of(self, secretary: str) -> set[str]:
        rows = self._store.fetch_all(
            "SELECT leader FROM secretary_assignments WHERE secretary = ?", (secretary,))
        return {str(row[0]) for row in rows}

    def assign(self, secretary: str, leader: str) -> None:
        with self._store.transaction() as db:
            db.execute("INSERT OR IGNORE INTO secretary_assignments (secretary, leader)"
                       " VALUES (?, ?)", (secretary, leader))

    def invited_by_end(self, meeting: Meeting) -> set[str]:
        """The invitees who were on the list when the meeting was planned to end: the
        record's audience does not change with edits made afterwards."""
        rows = self._store.fetch_all(
            "SELECT username FROM meeting_invitees WHERE meeting_id = ?"
            " AND (invited_at IS NULL OR invited_at <= ?)", (meeting.id, to_db(meeting.end)))
        return {str(row["username"]) for row in rows}

    def may_view(self, meeting: Meeting, account: Account) -> bool:
        if not account.active:
            return False
        if account.role == "admin" or account.username in (meeting.organizer, meeting.chair):
            return True
        invitees = self.invited_by_end(meeting)
        if account.username in invitees:
            return True
        return bool(self.leaders_of(account.username)
                    & {meeting.organizer, meeting.chair, *invitees})

    def may_manage(self, meeting: Meeting, account: Account) -> bool:
        """Edit the minutes; start and stop an on-demand recording."""
        if not account.active:
            return False
        keepers = {meeting.organizer, meeting.chair}
        if account.role == "admin" or account.username in keepers:
            return True
        return bool(self.leaders_of(account.username) & keepers)

    def check_view(self, meeting: Meeting, account: Account) -> None:
        if not self.may_view(meeting, account):
            raise Forbidden(NOT_ALLOWED)


@dataclass(frozen=True, slots=True)
class Minutes:
    body: str
    updated_by: str | None
    updated_at: datetime | None


class MinutesService:
    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, meeting_id: str) -> Minutes:
        row = self._store.fetch_one(
            "SELECT body, updated_by, updated_at FROM minutes WHERE meeting_id = ?",
            (meeting_id,))
        if row is None:
            return Minutes("", None, None)
        return Minutes(row["body"], row["updated_by"], from_db(row["updated_at"]))

    def save(self, meeting_id: str, body: str, by: str) -> Minutes:
        text = body.replace("\r\n", "\n")
        if len(text) > MINUTES_MAX:
            raise BadRequest(f"The minutes must be at most {MINUTES_MAX} characters.")
        now = utcnow()
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO minutes (meeting_id, body, updated_by, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (meeting_id) DO UPDATE SET"
                " body = excluded.body, updated_by = excluded.updated_by,"
                " updated_at = excluded.updated_at", (meeting_id, text, by, to_db(now)))
        return Minutes(text, by, from_db(to_db(now)))


# ---------------------------------------------------------------- attendance (pure)


@dataclass(frozen=True, slots=True)
class Presence:
    """One person's time in a meeting: every stay, and the total."""

    username: str
    display_name: str
    stays: tuple[tuple[datetime, datetime | None], ...]
    """(joined, left) per connection; left is None while still in the meeting."""
    total: timedelta
    """Time present, overlapping stays (two devices) counted once."""


def summarize(attendance: Iterable[Attendance], names: dict[str, str],
              now: datetime, invited: Iterable[str] = ()) -> list[Presence]:
    """Attendance per person, in order of first arrival; then the invited people who
    never came, with no stay."""
    by_person: dict[str, list[Attendance]] = {}
    for entry in sorted(attendance, key=lambda a: a.joined_at):
        by_person.setdefault(entry.username, []).append(entry)
    out: list[Presence] = []
    for username, entries in by_person.items():
        total = timedelta()
        covered_until: datetime | None = None
        for entry in entries:
            end = entry.left_at or now
            start = entry.joined_at if covered_until is None else max(entry.joined_at,
                                                                      covered_until)
            if end > start:
                total += end - start
            covered_until = end if covered_until is None else max(covered_until, end)
        out.append(Presence(username, names.get(username, username),
                            tuple((e.joined_at, e.left_at) for e in entries), total))
    out += [Presence(name, names.get(name, name), (), timedelta())
            for name in dict.fromkeys(invited) if name not in by_person]
    return out


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def attendance_csv(presence: Iterable[Presence], tz: object) -> str:
    """One row per stay: username, name, joined, left; the person's total time and
    whether they came on their first row only (a sum of the column is the meeting's
    total). An invited person who never came has one row, absent, with no times."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["username", "display_name", "joined_at", "left_at", "total", "present"])
    for person in presence:
        if not person.stays:
            writer.writerow([person.username, safe_cell(person.display_name), "", "",
                             format_duration(person.total), "no"])
        for index, (joined, left) in enumerate(person.stays):
            writer.writerow([
                person.username, safe_cell(person.display_name),
                joined.astimezone(tz).isoformat(timespec="seconds"),  # type: ignore[arg-type]
                "" if left is None else left.astimezone(tz).isoformat(  # type: ignore[arg-type]
                    timespec="seconds"),
                format_duration(person.total) if index == 0 else "",
                "yes" if index == 0 else ""])
    return out.getvalue()


def safe_cell(text: str) -> str:
    """Keep spreadsheets from running a cell as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
