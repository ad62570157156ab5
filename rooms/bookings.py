"""Bookings of the dedicated rooms: no double booking, ever.

The guarantee lives in the database: a trigger refuses any active booking that
overlaps another active booking of the same room ([start, end), so back-to-back is
fine), and every write runs in a BEGIN IMMEDIATE transaction. Nothing here reads then
writes: the service tries the write and, when the trigger refuses it, names the
booking it clashes with, read inside the same transaction.
"""

from __future__ import annotations

import builtins
import logging
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from rooms.access import check_may_book
from signaling.accounts.accounts import Account
from signaling.accounts.fields import has_control_characters
from signaling.config import RoomSettings
from signaling.errors import BadRequest, Conflict, Forbidden, NotFound
from signaling.ids import BookingId, MeetingId, Username
from signaling.spans import Span
from signaling.store import Store, from_db, to_db, utcnow

log = logging.getLogger(__name__)

BookingState = Literal["active", "cancelled"]
ClashPolicy = Literal["all", "free_only"]
"""For several bookings at once: book all or nothing, or book the free ones only."""
CLASH_POLICIES: tuple[ClashPolicy, ...] = get_args(ClashPolicy)
TITLE_MAX = 200
OVERLAP = "room_booking_overlap"
"""The message of the trigger that refuses an overlapping active booking."""
COLUMNS = ("id, room_id, title, start_at, end_at, meeting_id, booked_by, group_id, state,"
           " created_at")


@dataclass(frozen=True, slots=True)
class Booking:
    id: BookingId
    room_id: str
    title: str
    start: datetime
    """UTC."""
    end: datetime
    """UTC; the room is free again at this instant."""
    meeting_id: MeetingId | None
    booked_by: Username
    group_id: str | None
    """Shared by the bookings made together as one recurring booking."""
    state: BookingState
    created_at: datetime

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)

    def as_json(self, tz: ZoneInfo) -> dict[str, Any]:
        return {
            "id": self.id, "room_id": self.room_id, "title": self.title,
            "start": self.start.astimezone(tz).isoformat(),
            "end": self.end.astimezone(tz).isoformat(),
            "meeting_id": self.meeting_id, "booked_by": self.booked_by,
            "group_id": self.group_id, "state": self.state,
        }


@dataclass(frozen=True, slots=True)
class Clash:
    """A wanted time slot and the existing booking that holds the room then."""

    start: datetime
    end: datetime
    booking: Booking

    def as_json(self, tz: ZoneInfo) -> dict[str, Any]:
        return {"start": self.start.astimezone(tz).isoformat(),
                "end": self.end.astimezone(tz).isoformat(),
                "booking": self.booking.as_json(tz)}


class RoomConflict(Conflict):
    title, code = "Room already booked", "room_booked"

    def __init__(self, detail: str, clashes: Sequence[Clash], tz: ZoneInfo,
                 free: Sequence[Span] = ()) -> None:
        super().__init__(
            detail, clashes=[c.as_json(tz) for c in clashes],
            free=[{"start": s.start.astimezone(tz).isoformat(),
                   "end": s.end.astimezone(tz).isoformat()} for s in free],
        )
        self.clashes = tuple(clashes)


@dataclass(frozen=True, slots=True)
class BatchResult:
    booked: tuple[Booking, ...]
    skipped: tuple[Clash, ...]
    """The wanted slots that clashed and were left out (policy free_only)."""


def booking_from_row(row: sqlite3.Row) -> Booking:
    return Booking(
        id=BookingId(int(row["id"])), room_id=row["room_id"], title=row["title"],
        start=from_db(row["start_at"]), end=from_db(row["end_at"]),
        meeting_id=MeetingId(row["meeting_id"]) if row["meeting_id"] else None,
        booked_by=Username(row["booked_by"]), group_id=row["group_id"], state=row["state"],
        created_at=from_db(row["created_at"]),
    )


def check_title(text: str) -> str:
    title = text.strip()
    if not title:
        raise BadRequest("The booking title must not be empty.")
    if len(title) > TITLE_MAX:
        raise BadRequest(f"The booking title must be at most {TITLE_MAX} characters.")
    if has_control_characters(title):
        raise BadRequest("The booking title must be one line of visible characters.")
    return title


def check_span(start: datetime, end: datetime) -> Span:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("booking times must be timezone-aware")
    if end <= start:
        raise BadRequest("A booking must end after it starts.")
    return Span(start, end)


class BookingService:
    def __init__(self, store: Store, rooms: Sequence[RoomSettings], tz: ZoneInfo,
                 now: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self.rooms = tuple(rooms)
        self.tz = tz
        self._now = now

    # ------------------------------------------------------------ rooms

    def room(self, room_id: str) -> RoomSettings:
        for room in self.rooms:
            if room.id == room_id:
                return room
        known = ", ".join(r.id for r in self.rooms)
        raise NotFound(f"No room with id {room_id!r}; the rooms are: {known}.")

    # ------------------------------------------------------------ reading

    def get(self, booking_id: int) -> Booking:
        row = self._store.fetch_one(f"SELECT {COLUMNS} FROM room_bookings WHERE id = ?",
                                    (booking_id,))
        if row is None:
            raise NotFound(f"No booking with id {booking_id}.")
        return booking_from_row(row)

    def list(self, room_id: str | None = None, start: datetime | None = None,
             end: datetime | None = None, include_cancelled: bool = False) -> list[Booking]:
        """Bookings overlapping [start, end) (either bound optional), by start time."""
        where, params = ["1 = 1"], []
        if room_id is not None:
            self.room(room_id)
            where.append("room_id = ?")
            params.append(room_id)
        if start is not None:
            where.append("end_at > ?")
            params.append(to_db(start))
        if end is not None:
            where.append("start_at < ?")
            params.append(to_db(end))
        if not include_cancelled:
            where.append("state = 'active'")
        rows = self._store.fetch_all(
            f"SELECT {COLUMNS} FROM room_bookings WHERE {' AND '.join(where)}"
            " ORDER BY start_at, room_id, id", params)
        return [booking_from_row(row) for row in rows]

    def for_meeting(self, meeting_id: str) -> builtins.list[Booking]:
        rows = self._store.fetch_all(
            f"SELECT {COLUMNS} FROM room_bookings WHERE meeting_id = ? AND state = 'active'"
            " ORDER BY start_at", (meeting_id,))
        return [booking_from_row(row) for row in rows]

    def current_and_next(self, room_id: str,
                         now: datetime | None = None) -> tuple[Booking | None, Booking | None]:
        """The booking holding the room now, and the next one to start."""
        moment = self._now() if now is None else now
        current = self.list(room_id, start=moment, end=moment + timedelta(microseconds=1))
        upcoming = self._store.fetch_all(
            f"SELECT {COLUMNS} FROM room_bookings WHERE room_id = ? AND state = 'active'"
            " AND start_at > ? ORDER BY start_at LIMIT 1", (room_id, to_db(moment)))
        return (current[0] if current else None,
                booking_from_row(upcoming[0]) if upcoming else None)

    # ------------------------------------------------------------ writing

    def insert(self, db: sqlite3.Connection, room_id: str, span: Span, title: str,
               booked_by: str, meeting_id: str | None = None,
               group_id: str | None = None) -> Booking | Clash:
        """One booking inside the caller's open transaction; the clash when refused."""
        try:
            cursor = db.execute(
                "INSERT INTO room_bookings (room_id, title, start_at, end_at, meeting_id,"
                " booked_by, group_id, state, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?)",
                (room_id, title, to_db(span.start), to_db(span.end), meeting_id, booked_by,
                 group_id, to_db(self._now())),
            )
        except sqlite3.IntegrityError as exc:
            if OVERLAP not in str(exc):
                raise
            return Clash(span.start, span.end, self._clashing(db, room_id, span, None))
        row = db.execute(f"SELECT {COLUMNS} FROM room_bookings WHERE id = ?",
                         (cursor.lastrowid,)).fetchone()
        return booking_from_row(row)

    @staticmethod
    def _clashing(db: sqlite3.Connection, room_id: str, span: Span,
                  other_than: int | None) -> Booking:
        row = db.execute(
            f"SELECT {COLUMNS} FROM room_bookings WHERE room_id = ? AND state = 'active'"
            " AND start_at < ? AND end_at > ? AND id IS NOT ? ORDER BY start_at LIMIT 1",
            (room_id, to_db(span.end), to_db(span.start), other_than),
        ).fetchone()
        if row is None:  # the trigger saw it, so the same transaction sees it too
            raise RuntimeError("overlap reported but no clashing booking found")
        return booking_from_row(row)

    def book(self, actor: Account, room_id: str, start: datetime, end: datetime,
             title: str, meeting_id: str | None = None) -> Booking:
        """Book one slot; RoomConflict (409) names the booking it clashes with."""
        result = self.book_many(actor, room_id, [check_span(start, end)], title, "all",
                                meeting_ids=[meeting_id])
        return result.booked[0]

    def book_many(self, actor: Account, room_id: str, spans: Sequence[Span], title: str,
                  policy: str = "all",
                  meeting_ids: Sequence[str | None] | None = None) -> BatchResult:
        """Book several slots in one transaction.

        policy "all": every slot or none (RoomConflict lists each clash and the free
        slots). policy "free_only": the free slots are booked, the clashes reported.
        """
        clean_title = self._check_batch(actor, room_id, spans, title, policy)
        with self._store.transaction() as db:
            result = self._insert_batch(db, actor, room_id, spans, clean_title, policy,
                                        meeting_ids)
        self._log_booked(actor, room_id, result)
        return result

    def book_in(self, db: sqlite3.Connection, actor: Account, room_id: str,
                spans: Sequence[Span], title: str, policy: str,
                meeting_ids: Sequence[str | None]) -> BatchResult:
        """book_many inside the caller's open transaction, which a RoomConflict rolls back."""
        clean_title = self._check_batch(actor, room_id, spans, title, policy)
        result = self._insert_batch(db, actor, room_id, spans, clean_title, policy,
                                    meeting_ids)
        self._log_booked(actor, room_id, result)
        return result

    def _check_batch(self, actor: Account, room_id: str, spans: Sequence[Span], title: str,
                     policy: str) -> str:
        """Everything a batch needs before it writes; returns the clean title."""
        check_may_book(actor)
        if policy not in CLASH_POLICIES:
            raise BadRequest(f"Unknown policy {policy!r}; choose one of: "
                             f"{', '.join(CLASH_POLICIES)}.")
        self.room(room_id)
        clean_title = check_title(title)
        if not spans:
            raise BadRequest("Nothing to book.")
        return clean_title

    def _insert_batch(self, db: sqlite3.Connection, actor: Account, room_id: str,
                      spans: Sequence[Span], title: str, policy: str,
                      meeting_ids: Sequence[str | None] | None) -> BatchResult:
        links = list(meeting_ids) if meeting_ids is not None else [None] * len(spans)
        group = secrets.token_hex(6) if len(spans) > 1 else None
        booked, clashes = self._insert_all(db, actor, room_id, spans, title, links, group)
        if clashes and policy == "all":
            raise self.conflict(room_id, clashes, [b.span for b in booked])
        return BatchResult(tuple(booked), tuple(clashes))

    @staticmethod
    def _log_booked(actor: Account, room_id: str, result: BatchResult) -> None:
        for booking in result.booked:
            log.info("room %s booked: #%s %s..%s by %s", room_id, booking.id,
                     to_db(booking.start), to_db(booking.end), actor.username)

    def _insert_all(self, db: sqlite3.Connection, actor: Account, room_id: str,
                    spans: Sequence[Span], title: str, links: Sequence[str | None],
                    group: str | None) -> tuple[builtins.list[Booking], builtins.list[Clash]]:
        booked: builtins.list[Booking] = []
        clashes: builtins.list[Clash] = []
        for span, meeting_id in zip(spans, links, strict=True):
            outcome = self.insert(db, room_id, span, title, actor.username, meeting_id, group)
            if isinstance(outcome, Clash):
                clashes.append(outcome)
            else:
                booked.append(outcome)
        return booked, clashes

    def conflict(self, room_id: str, clashes: Sequence[Clash],
                 free: Sequence[Span] = ()) -> RoomConflict:
        room = self.room(room_id)
        first = clashes[0].booking
        start, end = first.start.astimezone(self.tz), first.end.astimezone(self.tz)
        if len(clashes) > 1:
            return RoomConflict(
                f"{room.name} is already booked from {start:%H:%M} to {end:%H:%M} on "
                f"{start:%d/%m/%Y} by booking #{first.id} \u201c{first.title}\u201d, and "
                f"{len(clashes) - 1} more of the wanted times clash.", clashes, self.tz, free)
        return RoomConflict(
            f"{room.name} is already booked from {start:%H:%M} to {end:%H:%M} on "
            f"{start:%d/%m/%Y} by booking #{first.id} \u201c{first.title}\u201d.",
            clashes, self.tz, free)

    def update(self, actor: Account, booking_id: int, start: datetime | None = None,
               end: datetime | None = None, title: str | None = None,
               room_id: str | None = None) -> Booking:
        """Move, rename or change the room of a booking; RoomConflict when it would clash."""
        check_may_book(actor)
        old = self.get(booking_id)
        self._check_owner(actor, old)
        if old.state != "active":
            raise BadRequest(f"Booking #{old.id} is cancelled; book the room again instead.")
        span = check_span(start or old.start, end or old.end)
        if old.meeting_id is not None and (
                (span.start, span.end) != (old.start, old.end)
                or (title is not None and title.strip() != old.title)):
            # The meeting, its invitation and its booking keep one day, hours and title.
            raise Conflict(f"Booking #{old.id} belongs to a meeting; change its day, hours "
                           "or title on the meeting's page, and the booking follows.",
                           meeting_id=old.meeting_id)
        new_room = self.room(room_id).id if room_id is not None else old.room_id
        new_title = check_title(title) if title is not None else old.title
        with self._store.transaction() as db:
            try:
                db.execute(
                    "UPDATE room_bookings SET room_id = ?, title = ?, start_at = ?, end_at = ?"
                    " WHERE id = ?",
                    (new_room, new_title, to_db(span.start), to_db(span.end), old.id))
            except sqlite3.IntegrityError as exc:
                if OVERLAP not in str(exc):
                    raise
                clash = Clash(span.start, span.end,
                              self._clashing(db, new_room, span, old.id))
                raise self.conflict(new_room, [clash]) from None
        log.info("booking #%s changed by %s", old.id, actor.username)
        return self.get(old.id)

    def move_in(self, db: sqlite3.Connection, booking: Booking, span: Span) -> Clash | None:
        """Move a booking inside the caller's transaction; the clash when refused."""
        try:
            db.execute("UPDATE room_bookings SET start_at = ?, end_at = ? WHERE id = ?",
                       (to_db(span.start), to_db(span.end), booking.id))
        except sqlite3.IntegrityError as exc:
            if OVERLAP not in str(exc):
                raise
            return Clash(span.start, span.end,
                         self._clashing(db, booking.room_id, span, booking.id))
        return None

    def cancel(self, actor: Account, booking_id: int) -> Booking:
        check_may_book(actor)
        booking = self.get(booking_id)
        self._check_owner(actor, booking)
        with self._store.transaction() as db:
            db.execute("UPDATE room_bookings SET state = 'cancelled' WHERE id = ?",
                       (booking.id,))
        log.info("booking #%s cancelled by %s", booking.id, actor.username)
        return self.get(booking.id)

    @staticmethod
    def _check_owner(actor: Account, booking: Booking) -> None:
        if actor.role == "secretary" and booking.booked_by != actor.username:
            raise Forbidden(f"Booking #{booking.id} was made by {booking.booked_by!r}; "
                            "a secretary may change only their own bookings.")
