"""Who may book the dedicated rooms: clerks, administrators and secretaries.

Only active staff accounts book; a room's device account never does. A secretary
changes or cancels only the bookings they made (rooms/bookings.py checks that).
"""

from __future__ import annotations

from signaling.accounts.accounts import Account
from signaling.errors import Forbidden

BOOKERS = ("admin", "secretary", "clerk")


def may_book_rooms(account: Account) -> bool:
    return account.kind == "staff" and account.active and account.role in BOOKERS


def check_may_book(account: Account) -> None:
    if not may_book_rooms(account):
        raise Forbidden(
            f"An account with role {account.role!r} may not book rooms; "
            "rooms are booked by clerks, secretaries and administrators."
        )
