"""What the schedule asks of the dedicated rooms, as a Protocol the rooms implement.

The schedule never reads or writes the rooms' tables: it asks a RoomCalendar, handed
in by the composition root (web/app.py, the CLI, the test fixtures). The methods that
take `db` work inside the caller's open store transaction, so a room that refuses a
booking refuses the meeting with it, and a meeting's change moves its booking in the
same step.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from signaling.accounts.accounts import Account
from signaling.spans import Span


class RoomClash(Protocol):
    """A wanted time and the existing booking that already holds the room then.

    The pages also show the clashing booking (`booking.id`, `.title`, `.start`, `.end`).
    """

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...

    def as_json(self, tz: ZoneInfo) -> dict[str, Any]: ...


class RoomCalendar(Protocol):
    def check_may_book(self, actor: Account, room_id: str) -> None:
        """Forbidden when `actor` may not book rooms, NotFound for an unknown room."""

    def clashes(self, room_id: str, spans: Sequence[Span]) -> Sequence[RoomClash]:
        """For each wanted span the room is taken in, the first booking holding it.

        Reads only: this is what a preview shows before anything is written.
        """

    def book(self, db: sqlite3.Connection, actor: Account, room_id: str,
             spans: Sequence[Span], title: str, meeting_ids: Sequence[str],
             policy: str) -> Sequence[RoomClash]:
        """Book the room for each meeting (one span each) inside `db`'s transaction.

        policy "all": a 409 conflict on any clash, and the caller's transaction rolls
        back. "free_only": the free spans are booked; returns the clashes left out.
        """

    def follow(self, db: sqlite3.Connection, meeting_id: str, span: Span,
               title: str | None) -> None:
        """Move the meeting's active bookings to `span` and, unless None, retitle them.

        A 409 conflict when the room is taken then.
        """

    def cancel(self, db: sqlite3.Connection, meeting_id: str) -> None:
        """Cancel the meeting's bookings, freeing its room."""

    def rooms_of(self, db: sqlite3.Connection,
                 meetings: Mapping[str, Span]) -> Mapping[str, str]:
        """The room each of these meetings (id: planned time) is booked in: its earliest
        active booking covering that whole time; meetings without one are left out."""

    def room_of_device(self, username: str) -> str | None:
        """The room whose device account this is, or None."""
