"""What the scheduling answers show of meetings the asker may not see.

Those who may see a meeting (signaling/schedule/access.py: those who list every meeting,
those who attend it, those who manage it) see its title and id wherever it appears. For
anyone else, a room booking, a room clash or a busy warning that points at it says only
that the room or the person is taken then: no meeting id, and a neutral title.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from aiohttp import web

from rooms.bookings import Booking, Clash, RoomConflict
from signaling.accounts.accounts import Account
from signaling.ids import MeetingId
from signaling.schedule.access import may_manage, may_view_all
from signaling.schedule.meetings import Meeting
from signaling.schedule.rooms import RoomClash
from signaling.schedule.service import BusyWarning
from web import i18n
from web.auth import request_language
from web.keys import BOOKINGS, MEETINGS, SCHEDULE

T = TypeVar("T", bound=RoomClash)


def may_see(request: web.Request, account: Account, meeting: Meeting) -> bool:
    leaders = request.app[SCHEDULE].accounts.leaders_of
    return (may_view_all(account) or request.app[MEETINGS].may_attend(meeting, account)
            or may_manage(account, meeting, leaders))


def _private_title(request: web.Request) -> str:
    return i18n.translate(request_language(request), "booking.private_title")


def shown_booking(request: web.Request, account: Account, booking: Booking) -> Booking:
    if booking.meeting_id is None:
        return booking
    meeting = request.app[MEETINGS].find(booking.meeting_id)
    if meeting is not None and may_see(request, account, meeting):
        return booking
    return dataclasses.replace(booking, meeting_id=None, title=_private_title(request))


def shown_clashes(request: web.Request, account: Account, clashes: Sequence[T]) -> list[T]:
    shown: list[T] = []
    for clash in clashes:
        if isinstance(clash, Clash):
            booking = shown_booking(request, account, clash.booking)
            if booking is not clash.booking:
                shown.append(dataclasses.replace(clash, booking=booking))
                continue
        shown.append(clash)
    return shown


def shown_warnings(request: web.Request, account: Account,
                   warnings: Sequence[BusyWarning]) -> list[BusyWarning]:
    shown = []
    for warning in warnings:
        if not may_see(request, account, warning.meeting):
            hidden = dataclasses.replace(warning.meeting, id=MeetingId(""),
                                         title=_private_title(request))
            warning = dataclasses.replace(warning, meeting=hidden)
        shown.append(warning)
    return shown


@contextmanager
def private_clashes_hidden(request: web.Request, account: Account) -> Iterator[None]:
    """A room conflict raised inside names only the bookings the asker may see."""
    try:
        yield
    except RoomConflict as exc:
        clashes = shown_clashes(request, account, exc.clashes)
        if clashes == list(exc.clashes):
            raise
        shown = request.app[BOOKINGS].conflict(clashes[0].booking.room_id, clashes)
        shown.extra["free"] = exc.extra.get("free", [])
        raise shown from None
