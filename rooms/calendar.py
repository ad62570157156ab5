"""The rooms' side of a scheduled meeting: its booking follows the meeting.

MeetingRooms is what the schedule knows as its RoomCalendar
(signaling/schedule/rooms.py): it books a meeting's room inside the schedule's
transaction, moves, retitles and cancels that booking with the meeting, and tells
which room a meeting is booked in and which room a device account serves. The
bookings people make by hand go through BookingService (rooms/bookings.py); a change
to one on the room calendar goes through change_booking, which tells the meeting it
belongs to when its room changes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from rooms.access import check_may_book
from rooms.bookings import COLUMNS, Booking, BookingService, Clash, booking_from_row
from rooms.devices import RoomDevices
from signaling.accounts.accounts import Account
from signaling.config import RoomSettings
from signaling.spans import Span, overlaps
from signaling.store import Store, from_db

CHUNK = 500
"""Meeting ids asked about in one query, well under SQLite's limit on parameters."""


class MeetingRooms:
    def __init__(self, bookings: BookingService, devices: RoomDevices) -> None:
        self._bookings = bookings
        self._devices = devices

    def check_may_book(self, actor: Account, room_id: str) -> None:
        """Forbidden when `actor` may not book rooms, NotFound for an unknown room."""
        check_may_book(actor)
        self._bookings.room(room_id)

    def clashes(self, room_id: str, spans: Sequence[Span]) -> list[Clash]:
        """For each wanted span the room is taken in, the first booking holding it."""
        taken = self._bookings.list(room_id, spans[0].start, spans[-1].end)
        found: list[Clash] = []
        for span in spans:
            for booking in taken:
                if overlaps(span, booking.span):
                    found.append(Clash(span.start, span.end, booking))
                    break
        return found

    def book(self, db: sqlite3.Connection, actor: Account, room_id: str,
             spans: Sequence[Span], title: str, meeting_ids: Sequence[str],
             policy: str) -> tuple[Clash, ...]:
        """Book the room for each meeting inside `db`'s transaction; the clashes left out."""
        result = self._bookings.book_in(db, actor, room_id, spans, title, policy,
                                        meeting_ids)
        return result.skipped

    def follow(self, db: sqlite3.Connection, meeting_id: str, span: Span,
               title: str | None) -> None:
        """Move the meeting's active bookings to `span` and, unless None, retitle them;
        RoomConflict when the room is taken then."""
        rows = db.execute(
            f"SELECT {COLUMNS} FROM room_bookings WHERE meeting_id = ? AND state = 'active'"
            " ORDER BY start_at", (meeting_id,)).fetchall()
        for booking in (booking_from_row(row) for row in rows):
            clash = self._bookings.move_in(db, booking, span)
            if clash is not None:
                raise self._bookings.conflict(booking.room_id, [clash])
            if title is not None:
                db.execute("UPDATE room_bookings SET title = ? WHERE id = ?",
                           (title, booking.id))

    @staticmethod
    def cancel(db: sqlite3.Connection, meeting_id: str) -> None:
        """Cancel the meeting's bookings, freeing its room."""
        db.execute("UPDATE room_bookings SET state = 'cancelled' WHERE meeting_id = ?",
                   (meeting_id,))

    @staticmethod
    def rooms_of(db: sqlite3.Connection, meetings: Mapping[str, Span]) -> dict[str, str]:
        """The room each of these meetings is booked in: its earliest active booking
        that covers the meeting's whole time. A booking that does not cover it (made at
        another time, or moved away by hand) gives the meeting no room."""
        rooms: dict[str, str] = {}
        meeting_ids = list(meetings)
        for first in range(0, len(meeting_ids), CHUNK):
            chunk = meeting_ids[first:first + CHUNK]
            marks = ", ".join("?" * len(chunk))
            for row in db.execute(
                    "SELECT meeting_id, room_id, start_at, end_at FROM room_bookings"
                    f" WHERE state = 'active' AND meeting_id IN ({marks})"
                    " ORDER BY start_at, id", chunk):
                if covers(Span(from_db(row["start_at"]), from_db(row["end_at"])),
                          meetings[row["meeting_id"]]):
                    rooms.setdefault(row["meeting_id"], row["room_id"])
        return rooms

    def room_of_device(self, username: str) -> str | None:
        """The room whose device account this is, or None."""
        return self._devices.room_of(username)


def covers(booking: Span, meeting: Span) -> bool:
    """Whether the booking holds the room for the whole of the meeting."""
    return booking.start <= meeting.start and booking.end >= meeting.end


def change_booking(bookings: BookingService, actor: Account, booking_id: int, *,
                   start: datetime | None, end: datetime | None, title: str | None,
                   room_id: str | None, revised: Callable[[str], object]) -> Booking:
    """Move, rename or change the room of a booking (BookingService.update). A meeting's
    booking moved to another room moves the meeting: `revised(meeting_id)` counts that
    change, so its invitation names the new room with a higher SEQUENCE."""
    before = bookings.get(booking_id)
    booking = bookings.update(actor, before.id, start=start, end=end, title=title,
                              room_id=room_id)
    if booking.meeting_id is not None and booking.room_id != before.room_id:
        revised(booking.meeting_id)
    return booking


def meeting_rooms(store: Store, rooms: list[RoomSettings], tz: ZoneInfo) -> MeetingRooms:
    """The rooms' calendar over `store`, for a schedule that needs no other room service."""
    return MeetingRooms(BookingService(store, rooms, tz), RoomDevices(store))
