"""Who is a host of a meeting: its organizer, the leader it is held on behalf of, their
secretaries, and administrators. Guests and room devices never are.

This is the one place the rule lives for the lobby, the lock and private chat.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from signaling.accounts.accounts import Account
    from signaling.schedule.meetings import Meeting

LeadersOf = Callable[[str], set[str]]
"""The leaders a secretary works for (signaling/records/meeting_record.py)."""


def is_host(meeting: Meeting, account: Account, leaders_of: LeadersOf) -> bool:
    if account.kind != "staff" or not account.active:
        return False
    if account.role == "admin":
        return True
    leaders = {meeting.organizer, *([meeting.on_behalf_of] if meeting.on_behalf_of else [])}
    if account.username in leaders:
        return True
    return account.role == "secretary" and bool(leaders_of(account.username) & leaders)
