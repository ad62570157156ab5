"""The licence seat cap: how many staff accounts may be active at once.

The database enforces the cap: a trigger (see the migrations) refuses to insert or
activate a staff account once the active ones fill the seats stored under
`SEATS_SETTING`, aborting with `EXHAUSTED`. Room accounts hold no seat.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from signaling.errors import LicenceExhausted
from signaling.store import Store

SEATS_SETTING = "licence_seats"
EXHAUSTED = "licence_exhausted"
"""The message of the trigger's abort."""


@dataclass(frozen=True, slots=True)
class LicenceStatus:
    seats: int
    used: int
    """Active accounts; each holds one seat."""

    @property
    def free(self) -> int:
        return max(0, self.seats - self.used)


def store_seats(db: sqlite3.Connection, seats: int) -> None:
    """Record the licensed seats where the trigger reads them."""
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (SEATS_SETTING, str(seats)),
    )


def count_seats_used(store: Store) -> int:
    """The active staff accounts."""
    row = store.fetch_one("SELECT COUNT(*) FROM accounts WHERE active = 1 AND kind = 'staff'")
    return int(row[0]) if row is not None else 0


def is_licence_exhausted(exc: sqlite3.IntegrityError) -> bool:
    """Whether the trigger refused a write for want of a seat."""
    return EXHAUSTED in str(exc)


def no_seat_left(status: LicenceStatus) -> LicenceExhausted:
    """The refusal when no seat is left, giving the seats used and left."""
    return LicenceExhausted(
        f"No licence seat is left: {status.used} of {status.seats} seats are used, "
        f"{status.free} left. Deactivate an account to free a seat.",
        rule="no_seat", seats=status.seats, seats_used=status.used, seats_left=status.free,
    )
