"""Co-hosts named when scheduling, through the JSON API of a real server: they must be
invited, they follow the invitee list, and they chair the meeting once it is live."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.conftest import Site
from tests.integration.schedule.test_schedule_api import Client
from web.keys import MEETINGS

START = datetime.now(UTC) + timedelta(minutes=5)


@pytest.fixture
async def organizer(site: Site) -> AsyncIterator[Client]:
    for name in ("an", "binh", "chi"):
        site.account(name)
    client = Client(site, "minh", "official")
    yield client
    await client.close()


def body(**extra: object) -> dict[str, object]:
    return {"title": "Giao ban", "start": START.isoformat(),
            "end": (START + timedelta(hours=1)).isoformat(), **extra}


async def test_cohosts_are_invitees_and_follow_the_invitee_list(site: Site,
                                                                organizer: Client) -> None:
    status, problem, _ = await organizer.call("POST", "/api/meetings", body(
        invitees=["an"], cohosts=["binh"]))
    assert status == 400, problem
    assert (problem["rule"], problem["username"]) == ("cohost_not_invited", "binh")
    status, created, _ = await organizer.call("POST", "/api/meetings", body(
        invitees=["an", "binh", "chi"], cohosts=["binh", "chi", "minh"]))
    assert status == 201, created
    meeting_id = created["meetings"][0]["id"]
    assert site.server.app[MEETINGS].get(meeting_id).cohosts == ("binh", "chi")
    status, shown, _ = await organizer.call("GET", f"/api/meetings/{meeting_id}")
    assert shown["cohosts"] == ["binh", "chi"]
    # A co-host taken off the invitees is no longer a co-host, one still invited still
    # is; naming one again needs them invited.
    status, _, _ = await organizer.call("PATCH", f"/api/meetings/{meeting_id}",
                                        {"invitees": ["an", "chi"]})
    assert status == 200
    assert site.server.app[MEETINGS].get(meeting_id).cohosts == ("chi",)
    status, problem, _ = await organizer.call("PATCH", f"/api/meetings/{meeting_id}",
                                              {"cohosts": ["binh"]})
    assert (status, problem["rule"]) == (400, "cohost_not_invited"), problem
    status, _, _ = await organizer.call("PATCH", f"/api/meetings/{meeting_id}",
                                        {"cohosts": ["an"], "title": "Giao ban tuần"})
    assert status == 200
    meeting = site.server.app[MEETINGS].get(meeting_id)
    assert (meeting.cohosts, meeting.invitees, meeting.title) == (("an",), ("an", "chi"),
                                                                  "Giao ban tuần")
    # Changing something else keeps them.
    status, _, _ = await organizer.call("PATCH", f"/api/meetings/{meeting_id}",
                                        {"agenda": "1. Báo cáo"})
    assert site.server.app[MEETINGS].get(meeting_id).cohosts == ("an",)
