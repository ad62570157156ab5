"""Scheduling meetings: one-off or recurring, with a room, for oneself or for a leader.

The pages, the JSON API and the CLI all go through ScheduleService. It checks who
may do what (signaling/schedule/access.py), expands recurrence rules
(signaling/schedule/recurrence.py), warns when an invitee is already busy, and books the room
through its RoomCalendar (signaling/schedule/rooms.py) in the same transaction as the
meetings, so a refused room booking leaves nothing behind.

A series is stored as its rule (meeting_series) plus one meetings row per occurrence.
Cancelling or moving one occurrence touches that row only; changing "this and
following" splits the series in two at that occurrence.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, get_args

from signaling.accounts.accounts import Account, AccountService
from signaling.errors import BadRequest, Forbidden
from signaling.ids import MeetingId, SeriesId, Username
from signaling.records.policy import check_recording_policy
from signaling.schedule.access import check_may_invite, check_may_manage, check_on_behalf
from signaling.schedule.meetings import (
    Meeting,
    MeetingService,
    check_agenda,
    check_cohosts,
    check_title,
)
from signaling.schedule.recurrence import (
    Recurrence,
    expand,
    parse_rrule,
    remaining_after,
    shift_weekdays,
    truncate_before,
)
from signaling.schedule.rooms import RoomCalendar, RoomClash
from signaling.spans import Span, overlaps
from signaling.store import Store, from_db, to_db

log = logging.getLogger(__name__)

Scope = Literal["this", "following"]
SCOPES: tuple[Scope, ...] = get_args(Scope)
MAX_LENGTH = timedelta(hours=24)
ENDED = "This meeting has ended; it can no longer be changed or cancelled"


@dataclass(frozen=True, slots=True)
class MeetingDraft:
    """What a scheduler asks for; times are UTC-aware."""

    title: str
    start: datetime
    end: datetime
    agenda: str = ""
    invitees: tuple[str, ...] = ()
    on_behalf_of: str | None = None
    recording_policy: str | None = None
    room_id: str | None = None
    recurrence: Recurrence | None = None
    cohosts: tuple[str, ...] = ()
    """Invitees who chair the meeting with its organizer."""
    chair: str | None = None
    """Who chairs it; None: the leader it is for, else the organizer."""


@dataclass(frozen=True, slots=True)
class MeetingChanges:
    """Fields to change; None leaves a field as it is."""

    title: str | None = None
    agenda: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    invitees: tuple[str, ...] | None = None
    recording_policy: str | None = None
    cohosts: tuple[str, ...] | None = None
    past_confirmed: bool = False
    """Moving the start into the past is refused unless the clerk confirms it."""


@dataclass(frozen=True, slots=True)
class BusyWarning:
    """An invitee (or the leader) already has a meeting when an occurrence is wanted."""

    username: Username
    is_leader: bool
    start: datetime
    """Start of the wanted occurrence, UTC."""
    meeting: Meeting
    """The meeting they already have."""


@dataclass(frozen=True, slots=True)
class Outcome:
    meetings: tuple[Meeting, ...]
    warnings: tuple[BusyWarning, ...] = ()
    room_skipped: tuple[RoomClash, ...] = ()
    """Occurrences whose room was already booked, left without the room (free_only)."""


@dataclass(frozen=True, slots=True)
class Preview:
    """What scheduling a draft would do, for the confirmation step; nothing is written."""

    starts: tuple[datetime, ...]
    warnings: tuple[BusyWarning, ...]
    room_clashes: tuple[RoomClash, ...] = field(default=())


def new_series_id() -> SeriesId:
    return SeriesId("s" + secrets.token_hex(6))


class ScheduleService:
    def __init__(self, store: Store, meetings: MeetingService, accounts: AccountService,
                 rooms: RoomCalendar) -> None:
        self._store = store
        self.meetings = meetings
        self.accounts = accounts
        self.rooms = rooms
        self.tz = meetings.tz

    # ------------------------------------------------------------ checks

    def _check_draft(self, actor: Account,
                     draft: MeetingDraft) -> tuple[list[Span], Username | None]:
        leader = self.accounts.get(draft.on_behalf_of) if draft.on_behalf_of else None
        check_on_behalf(actor, leader, self.accounts.leaders_of)
        if actor.role == "official" and leader is not None:
            raise BadRequest("An official schedules meetings for themselves only.")
        if draft.room_id is not None:
            self.rooms.check_may_book(actor, draft.room_id)
        if draft.end <= draft.start:
            raise BadRequest("The meeting must end after it starts.")
        if draft.end - draft.start > MAX_LENGTH:
            raise BadRequest("A meeting may last at most 24 hours.")
        check_agenda(draft.agenda)
        if draft.recording_policy is not None:
            check_recording_policy(draft.recording_policy)
        length = draft.end - draft.start
        starts = (expand(draft.recurrence, draft.start, self.tz)
                  if draft.recurrence is not None else [draft.start])
        return [Span(s, s + length) for s in starts], leader.username if leader else None

    def busy_warnings(self, people: Sequence[str], spans: Sequence[Span],
                      leader: str | None = None,
                      ignore: Sequence[str] = ()) -> list[BusyWarning]:
        """Who among `people` already has a meeting during one of `spans`."""
        warnings: list[BusyWarning] = []
        for raw in dict.fromkeys(p.strip().lower() for p in people if p.strip()):
            account = self.accounts.find(raw)
            if account is None:
                continue
            busy = [m for m in self.meetings.list_for(raw)
                    if m.state != "cancelled" and m.id not in ignore]
            for span in spans:
                for meeting in busy:
                    if overlaps(span, Span(meeting.start, meeting.end)):
                        warnings.append(BusyWarning(
                            account.username, account.role == "leader" or raw == leader,
                            span.start, meeting))
        warnings.sort(key=lambda w: (not w.is_leader, w.start, w.username))
        return warnings

    # ------------------------------------------------------------ scheduling

    def preview(self, actor: Account, draft: MeetingDraft) -> Preview:
        spans, leader = self._check_draft(actor, draft)
        people = [*draft.invitees, *([leader] if leader else [])]
        clashes = self.rooms.clashes(draft.room_id, spans) if draft.room_id is not None else ()
        return Preview(tuple(s.start for s in spans),
                       tuple(self.busy_warnings(people, spans, leader)), tuple(clashes))

    def schedule(self, actor: Account, draft: MeetingDraft, room_policy: str = "all") -> Outcome:
        """Create the meeting (or every occurrence) and book the room.

        room_policy "all": a room conflict (409, nothing created) when any occurrence's
        room is taken. "free_only": the room is booked for the free occurrences only.
        """
        spans, leader = self._check_draft(actor, draft)
        chair = draft.chair.strip().lower() if draft.chair and draft.chair.strip() else None
        invitees = tuple(draft.invitees)
        if chair and chair not in (actor.username, leader) and chair not in [
                i.strip().lower() for i in invitees]:
            invitees = (*invitees, chair)  # the chair takes part, like every invitee
        people = [*invitees, *([leader] if leader else [])]
        warnings = self.busy_warnings(people, spans, leader)
        skipped: tuple[RoomClash, ...] = ()
        with self._store.transaction() as db:
            series_id: SeriesId | None = None
            if draft.recurrence is not None:
                series_id = new_series_id()
                db.execute("INSERT INTO meeting_series (id, rrule, first_start_at, created_at)"
                           " VALUES (?, ?, ?, ?)",
                           (series_id, draft.recurrence.rrule_text(self.tz),
                            to_db(spans[0].start), to_db(self.meetings.now())))
            created = [
                self.meetings.create(draft.title, actor.username, span.start, span.end,
                                     invitees, draft.agenda, leader,
                                     draft.recording_policy, series_id, draft.cohosts,
                                     draft.chair)
                for span in spans
            ]
            if draft.room_id is not None:
                skipped = tuple(self.rooms.book(db, actor, draft.room_id, spans,
                                                created[0].title, [m.id for m in created],
                                                room_policy))
        log.info("%s scheduled %d meeting(s) %r%s", actor.username, len(created),
                 created[0].title, f" in series {series_id}" if series_id else "")
        return Outcome(tuple(self.meetings.get(m.id) for m in created), tuple(warnings), skipped)

    # ------------------------------------------------------------ changing

    def update(self, actor: Account, meeting_id: str, changes: MeetingChanges,
               scope: str = "this") -> Outcome:
        """Change one meeting, or this occurrence and the following ones of its series."""
        if scope not in SCOPES:
            raise BadRequest(f"Unknown scope {scope!r}; choose one of: {', '.join(SCOPES)}.")
        meeting = self.meetings.get(meeting_id)
        check_may_manage(actor, meeting, self.accounts.leaders_of)
        if meeting.state == "cancelled":
            raise BadRequest("This meeting was cancelled; schedule a new one instead.")
        if self.meetings.has_ended(meeting):
            raise Forbidden(ENDED)
        if changes.invitees is not None:
            check_may_invite(actor, meeting, self._is_leader(meeting.organizer))
        start = changes.start or meeting.start
        end = changes.end or (start + (meeting.end - meeting.start) if changes.start
                              else meeting.end)
        if end <= start:
            raise BadRequest("The meeting must end after it starts.")
        if end - start > MAX_LENGTH:
            raise BadRequest("A meeting may last at most 24 hours.")
        if changes.start is not None and start < self.meetings.now() and not changes.past_confirmed:
            raise BadRequest("The new start is in the past; confirm to move the meeting "
                             "there anyway.", rule="meeting_moved_past")
        shift, length = start - meeting.start, end - start
        targets = [meeting]
        if scope == "following" and meeting.series_id is not None:
            targets = [m for m in self.meetings.list_series(meeting.series_id)
                       if m.state != "cancelled" and m.occurrence_start is not None
                       and meeting.occurrence_start is not None
                       and m.occurrence_start >= meeting.occurrence_start]
        with self._store.transaction() as db:
            if scope == "following" and meeting.series_id is not None:
                self._split(db, meeting, shift, [m.id for m in targets])
            for target in targets:
                self._apply(db, target, changes, target.start + shift, length)
        people = changes.invitees if changes.invitees is not None else meeting.invitees
        spans = [Span(t.start + shift, t.start + shift + length) for t in targets]
        warnings = self.busy_warnings(
            [*people, *([meeting.on_behalf_of] if meeting.on_behalf_of else [])], spans,
            meeting.on_behalf_of, ignore=[t.id for t in targets])
        log.info("%s changed meeting %s (%s, %d meeting(s))", actor.username, meeting.id, scope,
                 len(targets))
        return Outcome(tuple(self.meetings.get(t.id) for t in targets), tuple(warnings))

    def _is_leader(self, username: str) -> bool:
        account = self.accounts.find(username)
        return account is not None and account.role == "leader"

    def _apply(self, db: sqlite3.Connection, meeting: Meeting, changes: MeetingChanges,
               start: datetime, length: timedelta) -> None:
        """Change one meeting inside `db`'s transaction; its room booking follows."""
        title = meeting.title if changes.title is None else check_title(changes.title)
        agenda = meeting.agenda if changes.agenda is None else check_agenda(changes.agenda)
        policy = (meeting.recording_policy if changes.recording_policy is None
                  else check_recording_policy(changes.recording_policy))
        db.execute("UPDATE meetings SET title = ?, agenda = ?, recording_policy = ?,"
                   " start_at = ?, end_at = ?, revision = revision + 1 WHERE id = ?",
                   (title, agenda, policy, to_db(start), to_db(start + length), meeting.id))
        if changes.invitees is not None:
            guests = [g.strip().lower() for g in changes.invitees if g.strip()]
            guests = [g for g in dict.fromkeys(guests) if g != meeting.organizer]
            for name in guests:
                self.accounts.get(name)
            since = {row["username"]: row["invited_at"] for row in db.execute(
                "SELECT username, invited_at FROM meeting_invitees WHERE meeting_id = ?",
                (meeting.id,))}
            now = to_db(self.meetings.now())
            db.execute("DELETE FROM meeting_invitees WHERE meeting_id = ?", (meeting.id,))
            db.executemany("INSERT INTO meeting_invitees (meeting_id, username, position,"
                           " invited_at) VALUES (?, ?, ?, ?)",
                           [(meeting.id, g, i, since.get(g, now)) for i, g in enumerate(guests)])
        if changes.invitees is not None or changes.cohosts is not None:
            invited = [str(r["username"]) for r in db.execute(
                "SELECT username FROM meeting_invitees WHERE meeting_id = ?", (meeting.id,))]
            chairs = (check_cohosts(changes.cohosts, invited) if changes.cohosts is not None
                      else [c for c in meeting.cohosts if c in invited])
            db.executemany("UPDATE meeting_invitees SET cohost = ? WHERE meeting_id = ?"
                           " AND username = ?",
                           [(int(name in chairs), meeting.id, name) for name in invited])
        self.rooms.follow(db, meeting.id, Span(start, start + length),
                          title if changes.title is not None else None)

    def _split(self, db: sqlite3.Connection, meeting: Meeting, shift: timedelta,
               moved: Sequence[MeetingId]) -> None:
        """Cut the series before `meeting`; it and the following ones form a new series."""
        assert meeting.series_id is not None and meeting.occurrence_start is not None
        row = db.execute("SELECT rrule, first_start_at FROM meeting_series WHERE id = ?",
                         (meeting.series_id,)).fetchone()
        rule, first = parse_rrule(row["rrule"], self.tz), from_db(row["first_start_at"])
        cut = meeting.occurrence_start
        head = truncate_before(rule, first, cut, self.tz)
        days = (cut + shift).astimezone(self.tz).date() - cut.astimezone(self.tz).date()
        tail = shift_weekdays(remaining_after(rule, first, cut, self.tz), days.days)
        if head is None:  # the first occurrence: the whole series changes, no split
            db.execute("UPDATE meeting_series SET rrule = ?, first_start_at = ? WHERE id = ?",
                       (tail.rrule_text(self.tz), to_db(cut + shift), meeting.series_id))
            series_id = meeting.series_id
        else:
            db.execute("UPDATE meeting_series SET rrule = ? WHERE id = ?",
                       (head.rrule_text(self.tz), meeting.series_id))
            series_id = new_series_id()
            db.execute("INSERT INTO meeting_series (id, rrule, first_start_at, created_at)"
                       " VALUES (?, ?, ?, ?)", (series_id, tail.rrule_text(self.tz),
                                                to_db(cut + shift), to_db(self.meetings.now())))
        for meeting_id in moved:
            row = db.execute("SELECT occurrence_start_at FROM meetings WHERE id = ?",
                             (meeting_id,)).fetchone()
            db.execute("UPDATE meetings SET series_id = ?, occurrence_start_at = ? WHERE id = ?",
                       (series_id, to_db(from_db(row["occurrence_start_at"]) + shift),
                        meeting_id))
        # Cancelled occurrences after the cut stay exceptions of the part they fall in.
        db.execute("UPDATE meetings SET series_id = ? WHERE series_id = ? AND state = 'cancelled'"
                   " AND occurrence_start_at >= ?", (series_id, meeting.series_id, to_db(cut)))

    def cancel(self, actor: Account, meeting_id: str, scope: str = "this") -> list[Meeting]:
        """Cancel a meeting (and free its room), or this occurrence and the following."""
        if scope not in SCOPES:
            raise BadRequest(f"Unknown scope {scope!r}; choose one of: {', '.join(SCOPES)}.")
        meeting = self.meetings.get(meeting_id)
        check_may_manage(actor, meeting, self.accounts.leaders_of)
        targets = [meeting]
        if scope == "following" and meeting.series_id is not None:
            targets = [m for m in self.meetings.list_series(meeting.series_id)
                       if m.occurrence_start is not None and meeting.occurrence_start is not None
                       and m.occurrence_start >= meeting.occurrence_start]
        if self.meetings.has_ended(meeting):
            raise Forbidden(ENDED)
        targets = [m for m in targets if m.state in ("scheduled", "live")
                   and not self.meetings.has_ended(m)]
        with self._store.transaction() as db:
            for target in targets:
                db.execute("UPDATE meetings SET state = 'cancelled', revision = revision + 1"
                           " WHERE id = ?", (target.id,))
                self.rooms.cancel(db, target.id)
        log.info("%s cancelled %d meeting(s) from %s", actor.username, len(targets), meeting_id)
        return [self.meetings.get(t.id) for t in targets]

    def end_now(self, meeting_id: str) -> Meeting:
        """A host ended the meeting for everyone: it is stored as ended, ending now (its
        planned end is kept when it ends before its planned start), and its room is
        freed from now on. Ending it again changes nothing."""
        meeting = self.meetings.get(meeting_id)
        if meeting.state in ("ended", "cancelled"):
            return meeting
        now = self.meetings.now()
        end = now if now > meeting.start else meeting.end
        with self._store.transaction() as db:
            db.execute("UPDATE meetings SET state = 'ended', end_at = ?, revision = revision + 1"
                       " WHERE id = ?", (to_db(end), meeting.id))
            if end < meeting.end:
                self.rooms.follow(db, meeting.id, Span(meeting.start, end), None)
        log.info("meeting %s ended by a host at %s", meeting.id, end.isoformat())
        return self.meetings.get(meeting.id)

    def series_rule(self, series_id: str) -> tuple[Recurrence, datetime, str]:
        """The series' rule, its first start (UTC) and its RRULE text."""
        row = self._store.fetch_one(
            "SELECT rrule, first_start_at FROM meeting_series WHERE id = ?", (series_id,))
        if row is None:
            raise BadRequest(f"No series with id {series_id!r}.")
        return parse_rrule(row["rrule"], self.tz), from_db(row["first_start_at"]), row["rrule"]
