"""Object rules on every route: no route shows or changes a private meeting to someone
outside it, nor changes who reaches a meeting that is over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from signaling.accounts import permissions
from tests.integration.accounts.permission_walk import (
    SECRET,
    bystander,
    footprint,
    path_values,
    principals_with_accounts,
    private_meeting,
    walk_as,
)
from tests.integration.conftest import Site
from web.keys import ACCOUNTS, BOOKINGS, MEETINGS, RECORD_ACCESS

OUTSIDERS = ("leader", "secretary", "official", permissions.ROOM)
"""Principals that see only their own meetings (the secretary has no leaders assigned)."""


async def test_no_route_shows_or_changes_a_private_meeting_to_an_outsider(site: Site) -> None:
    app = site.server.app
    names, _ = principals_with_accounts(site)
    meeting = private_meeting(site, datetime.now(UTC) + timedelta(days=1))
    booking = app[BOOKINGS].for_meeting(meeting)[0]
    before = footprint(site, meeting)
    values = path_values(app, meeting, bystander(site), booking_id=str(booking.id))
    for who in OUTSIDERS:
        def check(method: str, path: str, status: int, text: str, who: str = who) -> None:
            context = f"{who} {method} {path} -> {status}"
            assert SECRET not in text, f"the private meeting's title shown: {context}"
            if "{meeting_id}" in path:
                assert status in (302, 303, 403, 404), f"reached the meeting: {context}"
            if path.startswith("/api/bookings"):
                assert meeting not in text, f"the booking's meeting link shown: {context}"
            assert footprint(site, meeting) == before, f"changed the meeting: {context}"
            assert not app[MEETINGS].may_attend(app[MEETINGS].get(meeting),
                                                app[ACCOUNTS].get(names[who])), context
        await walk_as(site, who, names, values, check)


async def test_no_route_changes_who_reaches_a_meeting_that_is_over(site: Site) -> None:
    """As every role, administrators included; and a clerk does not add people to a
    leader's meeting a clerk did not schedule."""
    app = site.server.app
    names, _ = principals_with_accounts(site)
    past = private_meeting(site, datetime.now(UTC) - timedelta(days=1))
    upcoming = private_meeting(site, datetime.now(UTC) + timedelta(days=2))
    walks = [(past, who) for who in names] + [(upcoming, "clerk")]
    for meeting, who in walks:
        full = meeting == past
        before = footprint(site, meeting, full)
        values = path_values(app, meeting, bystander(site))
        def check(method: str, path: str, status: int, _: str, who: str = who,
                  meeting: str = meeting, full: bool = full,
                  before: tuple[object, ...] = before) -> None:
            context = f"{who} {method} {path} -> {status} ({meeting})"
            assert footprint(site, meeting, full) == before, f"changed the meeting: {context}"

        await walk_as(site, who, names, values, check)
        found = app[MEETINGS].get(meeting)
        if who not in ("admin", "room"):
            assert not app[RECORD_ACCESS].may_view(found, app[ACCOUNTS].get(names[who])), who
