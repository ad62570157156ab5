"""A host ending the meeting for everyone ends the stored meeting too: it is marked ended
at that moment, its room is free from then on, the schedule and record pages show it
ended, attendance is closed, and nobody (a participant, a host, a guest) joins it
again, also after the server restarts. Real server, real /ws."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from sfu.config import SfuSettings
from tests.integration.client import MeetingClient
from tests.integration.conftest import Site, StartSite, site_config, wait_until
from tests.integration.live.hosts_helpers import reply_to, signed_in
from tests.integration.room.helpers import guest_client, guest_link
from web.keys import ACCOUNTS, ATTENDANCE, BOOKINGS, LIVE_MEETINGS, MEETINGS, SESSIONS


async def page(site: Site, username: str, path: str) -> tuple[int, str]:
    token = str(site.server.app[SESSIONS].create(username).token)
    async with aiohttp.ClientSession(cookies={"giaoban_session": token}) as http:
        async with http.get(site.base_url + path) as response:
            return response.status, await response.text()


def item_of(html: str, meeting: str) -> str:
    """The opening tag of the meeting's entry on a list page."""
    found = re.search(rf'<li [^>]*data-meeting-id="{meeting}"[^>]*>', html)
    assert found, f"meeting {meeting} is not listed"
    return found.group(0)


async def refused(client: MeetingClient, meeting: str, connect: bool = True) -> str:
    if connect:
        await client.connect()
    answer = await reply_to(client, {"type": "join", "meeting_id": meeting})
    return str(answer["code"])


async def test_a_meeting_a_host_ends_is_stored_ended_and_stays_ended_after_a_restart(
    tmp_path: Path, start_site: StartSite,
) -> None:
    config = site_config(tmp_path, SfuSettings(announced_addresses=["127.0.0.1"],
                                               in_process=True))
    site = await start_site(config)
    app = site.server.app
    tokens = {name: site.account(name) for name in ("minh", "lan")}
    site.account("van-thu", "clerk")
    planned_start = datetime.now(UTC) - timedelta(minutes=10)
    planned_end = planned_start + timedelta(hours=1)
    meeting = str(app[MEETINGS].create("Giao ban tuần", "minh", planned_start, planned_end,
                                       invitees=["lan"]).id)
    booking = app[BOOKINGS].book(app[ACCOUNTS].get("van-thu"), "room-1", planned_start,
                                 planned_end, "Giao ban tuần", meeting_id=meeting)
    token = guest_link(site, meeting)
    host = site.client("minh", tokens["minh"], 0)
    lan = site.client("lan", tokens["lan"], 1)
    later: list[MeetingClient] = []
    try:
        for client in (host, lan):
            await client.connect()
            await client.join(meeting)
        _, listing = await page(site, "lan", "/meetings")
        assert "is-ended" not in item_of(listing, meeting)
        _, record = await page(site, "lan", f"/m/{meeting}/record")
        assert 'data-testid="record-ended"' not in record

        before = datetime.now(UTC)
        marks = [len(c.messages) for c in (host, lan)]
        await host.send({"type": "end_meeting"})
        for client, mark in zip((host, lan), marks, strict=True):
            fatal = await client.expect("error", after=mark)
            assert (fatal["code"], fatal["fatal"]) == ("meeting_ended", True), fatal
        await wait_until(lambda: not app[LIVE_MEETINGS].live, 10, "the meeting to close")
        after = datetime.now(UTC)

        # Stored: ended, at the moment the host ended it; the room is free from then on.
        stored = app[MEETINGS].get(meeting)
        assert stored.state == "ended"
        assert before <= stored.end <= after, (before, stored.end, after)
        assert stored.start == app[MEETINGS].get(meeting).start
        trimmed = app[BOOKINGS].get(booking.id)
        assert (trimmed.state, trimmed.end) == ("active", stored.end)
        app[BOOKINGS].book(app[ACCOUNTS].get("van-thu"), "room-1", after + timedelta(
            minutes=1), planned_end, "Tiếp khách")
        # Attendance is closed, no later than the end.
        stays = app[ATTENDANCE].for_meeting(meeting)
        assert {s.username for s in stays} == {"minh", "lan"}
        assert all(s.left_at is not None and s.left_at <= after for s in stays), stays
        # The schedule and the record show it ended.
        for path in ("/meetings", "/today"):
            status, html = await page(site, "lan", path)
            assert status == 200 and "is-ended" in item_of(html, meeting), path
        _, record = await page(site, "lan", f"/m/{meeting}/record")
        assert 'data-testid="record-ended"' in record
        # Nobody joins again: not a participant, not a host, not a guest.
        later = [signed_in(site, "lan", 2), signed_in(site, "minh", 3)]
        assert [await refused(c, meeting) for c in later] == ["meeting_ended"] * 2
        guest = await guest_client(site, token, "Khách", 4)
        later.append(guest)
        assert await refused(guest, meeting, connect=False) == "meeting_ended"
        assert not app[LIVE_MEETINGS].live
    finally:
        for client in (host, lan, *later):
            await client.close()
    await site.server.close()

    # Restarted on the same data: the end holds.
    again = await start_site(config)
    assert again.server.app[MEETINGS].get(meeting).state == "ended"
    comers = [signed_in(again, "lan", 5), signed_in(again, "minh", 6)]
    try:
        assert [await refused(c, meeting) for c in comers] == ["meeting_ended"] * 2
        status, html = await page(again, "lan", f"/m/{meeting}")
        assert status == 403 and "Cuộc họp đã kết thúc" in html, html[:400]
        assert not again.server.app[LIVE_MEETINGS].live
    finally:
        for client in comers:
            await client.close()


async def test_a_meeting_ended_before_its_planned_start_keeps_its_times_and_shows_ended(
    site: Site,
) -> None:
    app = site.server.app
    token = site.account("minh")
    start = datetime.now(UTC) + timedelta(minutes=5)  # inside the join window
    meeting = str(app[MEETINGS].create("Thử thiết bị", "minh", start,
                                       start + timedelta(hours=1)).id)
    planned = app[MEETINGS].get(meeting)
    host = site.client("minh", token, 0)
    again = signed_in(site, "minh", 1)
    try:
        await host.connect()
        await host.join(meeting)
        await host.send({"type": "end_meeting"})
        fatal = await host.expect("error")
        assert fatal["code"] == "meeting_ended", fatal
        stored = app[MEETINGS].get(meeting)
        assert (stored.state, stored.start, stored.end) == ("ended", planned.start,
                                                            planned.end)
        for path in ("/meetings", "/today"):
            _, html = await page(site, "minh", path)
            tag = item_of(html, meeting)
            assert "is-ended" in tag and "is-live" not in tag, (path, tag)
        assert await refused(again, meeting) == "meeting_ended"
    finally:
        await host.close()
        await again.close()
