"""Who may schedule, see and change meetings.

- Schedule meetings: administrators, secretaries, clerks, and officials (for
  themselves only). A secretary may schedule on behalf of the leaders assigned to them;
  a clerk or an administrator on behalf of any leader.
- Leaders see their own schedule and join; IT staff may list meetings but not join.
- A room's device account does nothing but show its kiosk and join its room's meetings.

Who may book the dedicated rooms is the rooms' own rule (rooms/access.py).
"""

from __future__ import annotations

from collections.abc import Callable

from signaling.accounts.accounts import Account
from signaling.errors import BadRequest, Forbidden
from signaling.schedule.meetings import Meeting

SCHEDULERS = ("admin", "secretary", "official", "clerk")
VIEW_ALL = ("admin", "clerk", "it")
CLERK_MAY_NOT_INVITE = ("Only the organizer, the leader's secretary or an administrator may "
                        "change who is invited to a leader's meeting")
"""Roles that may list every meeting, not only their own."""


def is_staff(account: Account) -> bool:
    return account.kind == "staff" and account.active


def may_schedule(account: Account) -> bool:
    return is_staff(account) and account.role in SCHEDULERS


def may_view_all(account: Account) -> bool:
    return is_staff(account) and account.role in VIEW_ALL


def check_may_schedule(account: Account) -> None:
    if not may_schedule(account):
        raise Forbidden(
            f"An account with role {account.role!r} may not schedule meetings; "
            "ask a clerk or a secretary."
        )


def check_on_behalf(
    account: Account, leader: Account | None, leaders_of: Callable[[str], list[str]]
) -> None:
    """Whether `account` may schedule a meeting for `leader` (None: for themselves)."""
    check_may_schedule(account)
    if leader is None:
        return
    if leader.role != "leader":
        raise BadRequest(f"{leader.username!r} is not a leader; meetings are scheduled "
                         "on behalf of leaders only.")
    if account.role in ("admin", "clerk"):
        return
    if account.role == "secretary" and leader.username in leaders_of(account.username):
        return
    raise Forbidden(f"You may not schedule meetings on behalf of {leader.username!r}.")


def may_manage(account: Account, meeting: Meeting,
               leaders_of: Callable[[str], list[str]]) -> bool:
    """Whether `account` may edit or cancel `meeting`."""
    if not may_schedule(account):
        return False
    if account.role in ("admin", "clerk") or account.username == meeting.organizer:
        return True
    return (account.role == "secretary" and meeting.on_behalf_of is not None
            and meeting.on_behalf_of in leaders_of(account.username))


def check_may_invite(account: Account, meeting: Meeting, organizer_is_leader: bool) -> None:
    """Who may change the invitees of a meeting they may manage: a clerk not for a
    leader's meeting they did not schedule (administrators, the organizer and a leader's
    own secretaries may). Nobody changes them once the meeting is over (the service
    checks that)."""
    leaders_meeting = meeting.on_behalf_of is not None or organizer_is_leader
    if (account.role == "clerk" and account.username != meeting.organizer
            and leaders_meeting):
        raise Forbidden(CLERK_MAY_NOT_INVITE)


def check_may_manage(account: Account, meeting: Meeting,
                     leaders_of: Callable[[str], list[str]]) -> None:
    if not may_manage(account, meeting, leaders_of):
        raise Forbidden("Only the organizer, a clerk or an administrator may change "
                        "or cancel this meeting.")
