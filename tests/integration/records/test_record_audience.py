"""Who may change a meeting's invitees, and who sees its record, against a real server:
nobody changes a meeting once it is over, a clerk does not add people to a leader's
meeting they did not schedule, and the record goes to those invited before the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp

from signaling.store import Store, to_db
from tests.integration.conftest import Site
from web.keys import ACCOUNTS, CONFIG, MEETINGS, RECORD_ACCESS, RECORDINGS, SESSIONS

MP4_BYTES = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64


def past_meeting(site: Site) -> str:
    """A leader's meeting that ended yesterday, with a recording on disk."""
    for name, role in (("lanh-dao", "leader"), ("khach", "official")):
        site.account(name, role)
    start = datetime.now(UTC) - timedelta(days=1)
    meeting = site.server.app[MEETINGS].create("Giao ban kín", "lanh-dao", start,
                                               start + timedelta(hours=1), invitees=["khach"])
    recordings = site.server.app[RECORDINGS]
    path = recordings.meeting_directory(meeting.id) / "composite.mp4"
    path.parent.mkdir(parents=True)
    path.write_bytes(MP4_BYTES)
    recordings.file_ready(meeting.id, "composite", path, len(MP4_BYTES))
    return str(meeting.id)


async def patch(site: Site, username: str, role: str, meeting: str,
                body: dict[str, object]) -> int:
    """PATCH the meeting as `username`, created with `role` the first time."""
    if site.server.app[ACCOUNTS].find(username) is None:
        site.account(username, role)
    token = str(site.server.app[SESSIONS].create(username).token)
    csrf = site.server.app[SESSIONS].get(token).csrf_token
    async with aiohttp.ClientSession(cookies={"giaoban_session": token}) as http:
        async with http.patch(f"{site.base_url}/api/meetings/{meeting}", json=body,
                              headers={"X-CSRF-Token": csrf}) as response:
            await response.read()
            return response.status


async def record_statuses(site: Site, username: str, meeting: str) -> list[int]:
    token = str(site.server.app[SESSIONS].create(username).token)
    recording = site.server.app[RECORDINGS].list(meeting)[0].id
    found = []
    async with aiohttp.ClientSession(cookies={"giaoban_session": token}) as http:
        for path in (f"/m/{meeting}/record", f"/m/{meeting}/record/attendance.csv",
                     f"/recordings/{recording}"):
            async with http.get(site.base_url + path, allow_redirects=False) as response:
                await response.read()
                found.append(response.status)
    return found


async def test_nobody_changes_the_invitees_of_a_meeting_that_is_over(site: Site) -> None:
    meeting = past_meeting(site)
    add_me = {"invitees": ["khach", "van-thu"]}
    assert await patch(site, "van-thu", "clerk", meeting, add_me) == 403
    assert await patch(site, "quan-tri", "admin", meeting, {"invitees": ["khach", "van-thu"]}) \
        == 403
    assert await patch(site, "quan-tri", "admin", meeting,
                       {"end": (datetime.now(UTC) + timedelta(days=1)).isoformat()}) == 403
    assert site.server.app[MEETINGS].get(meeting).invitees == ("khach",)
    assert await record_statuses(site, "van-thu", meeting) == [403, 403, 403]


async def test_a_clerk_does_not_invite_to_a_leaders_meeting_they_did_not_schedule(
    site: Site,
) -> None:
    site.account("lanh-dao", "leader")
    start = datetime.now(UTC) + timedelta(days=2)
    meeting = str(site.server.app[MEETINGS].create(
        "Họp lãnh đạo", "lanh-dao", start, start + timedelta(hours=1)).id)
    assert await patch(site, "van-thu", "clerk", meeting, {"invitees": ["van-thu"]}) == 403
    assert await patch(site, "van-thu", "clerk", meeting, {"title": "Họp lãnh đạo bộ"}) == 200
    assert site.server.app[MEETINGS].get(meeting).invitees == ()
    assert await patch(site, "quan-tri", "admin", meeting, {"invitees": ["van-thu"]}) == 200
    assert site.server.app[MEETINGS].get(meeting).invitees == ("van-thu",)


async def test_the_record_goes_to_those_invited_before_the_end(site: Site) -> None:
    meeting = past_meeting(site)
    site.account("van-thu", "clerk")
    assert await record_statuses(site, "khach", meeting) == [200, 200, 200]
    # Added after the end by a tool with its own connection, around every check.
    other = Store.open(site.server.app[CONFIG].database_path)
    try:
        with other.transaction() as db:
            db.execute("INSERT INTO meeting_invitees (meeting_id, username, position,"
                       " invited_at) VALUES (?, 'van-thu', 5, ?)",
                       (meeting, to_db(datetime.now(UTC))))
    finally:
        other.close()
    found = site.server.app[MEETINGS].get(meeting)
    assert "van-thu" in found.invitees
    assert await record_statuses(site, "van-thu", meeting) == [403, 403, 403]
    assert not site.server.app[RECORD_ACCESS].may_view(found,
                                                       site.server.app[ACCOUNTS].get("van-thu"))
    assert await record_statuses(site, "khach", meeting) == [200, 200, 200]
