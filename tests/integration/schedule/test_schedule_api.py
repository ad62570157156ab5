"""The scheduling JSON API over HTTP against a real server: bookings, 50 concurrent
conflicting requests, meetings from a UTC client, recurring bookings, invitations, feeds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import vobject

from sfu.config import SfuSettings
from tests.integration.conftest import Site, StartSite, site_config
from web.keys import ACCOUNTS, BOOKINGS, ROOM_DEVICES, SESSIONS

DAY = (datetime.now(UTC) + timedelta(days=7)).astimezone().date().isoformat()


class Client:
    """One signed-in account speaking JSON, with its CSRF token on every write."""

    def __init__(self, site: Site, username: str, role: str) -> None:
        token = site.account(username, role)
        self.connect(token, site.server.app[SESSIONS].get(token).csrf_token, site.base_url)

    def connect(self, token: str, csrf: str, base_url: str) -> None:
        self.token, self.csrf, self.base = token, csrf, base_url
        self.http = aiohttp.ClientSession(
            cookies={"giaoban_session": token},
            connector=aiohttp.TCPConnector(limit=100))

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any, str]:
        async with self.http.request(method, self.base + path, json=body,
                                     headers={"X-CSRF-Token": self.csrf}) as response:
            return response.status, await response.json(content_type=None), \
                response.headers.get("Content-Type", "")

    async def text(self, path: str) -> tuple[int, str, str]:
        async with self.http.get(self.base + path) as response:
            return response.status, await response.text(), response.headers["Content-Type"]

    @classmethod
    def same_session(cls, other: Client, base_url: str) -> Client:
        """The same signed-in session, speaking to another server."""
        client = cls.__new__(cls)
        client.connect(other.token, other.csrf, base_url)
        return client

    async def close(self) -> None:
        await self.http.close()


@pytest.fixture
async def clerk(site: Site) -> AsyncIterator[Client]:
    client = Client(site, "lan", "clerk")
    yield client
    await client.close()


ROUNDS = 20
"""Races run, each on its own day. The process test (test_booking_processes) is the
sure guard of the database rule; over HTTP, a check and a write in two transactions
lets two requests win in some rounds only, so the race is run many times."""


async def test_fifty_concurrent_conflicting_bookings_one_wins(
        site: Site, clerk: Client, tmp_path: Path, start_site: StartSite) -> None:
    # Two servers over the same database, as two processes behind one proxy would be:
    # half the requests go to each, so two connections really race at SQLite (each
    # server books in worker threads, off its event loop).
    second = await start_site(site_config(
        tmp_path, SfuSettings(announced_addresses=["127.0.0.1"], in_process=True)))
    twin = Client.same_session(clerk, second.base_url)
    try:
        for day in range(ROUNDS):
            await fifty_race(site, clerk, twin, day)
    finally:
        await twin.close()


async def fifty_race(site: Site, clerk: Client, twin: Client, round_: int) -> None:
    day = (datetime.fromisoformat(DAY) + timedelta(days=round_)).date().isoformat()

    async def book(i: int) -> tuple[int, Any, str]:
        # Every request wants Room 2 around 09:00-10:00, each a little differently.
        start = f"{day}T09:{i % 30:02d}"
        return await (clerk if i % 2 else twin).call("POST", "/api/bookings", {
            "room_id": "room-2", "start": start, "end": f"{day}T10:{i % 30:02d}",
            "title": f"Họp {i}"})

    results = await asyncio.gather(*(book(i) for i in range(50)))
    won = [body for status, body, _ in results if status == 201]
    lost = [(body, kind) for status, body, kind in results if status == 409]
    assert len(won) == 1 and len(lost) == 49, (round_, [r[0] for r in results])
    winner = won[0]["booked"][0]
    for problem, kind in lost:
        assert kind.startswith("application/problem+json")
        assert problem["code"] == "room_booked"
        assert f"booking #{winner['id']}" in problem["detail"]
        assert winner["title"] in problem["detail"]
        clash = problem["clashes"][0]["booking"]
        assert (clash["id"], clash["title"], clash["start"], clash["end"]) == (
            winner["id"], winner["title"], winner["start"], winner["end"])
    start = datetime.fromisoformat(f"{day}T00:00").astimezone(UTC)
    booked = site.server.app[BOOKINGS].list("room-2", start, start + timedelta(days=1))
    assert [b.id for b in booked] == [winner["id"]]


async def test_back_to_back_update_and_cancel(clerk: Client) -> None:
    status, first, _ = await clerk.call("POST", "/api/bookings", {
        "room_id": "room-1", "start": f"{DAY}T08:00", "end": f"{DAY}T10:00", "title": "A"})
    assert status == 201
    status, second, _ = await clerk.call("POST", "/api/bookings", {
        "room_id": "room-1", "start": f"{DAY}T10:00", "end": f"{DAY}T11:00", "title": "B"})
    assert status == 201
    second_id = second["booked"][0]["id"]
    status, problem, _ = await clerk.call("PATCH", f"/api/bookings/{second_id}",
                                          {"start": f"{DAY}T09:30"})
    assert status == 409 and problem["clashes"][0]["booking"]["id"] == first["booked"][0]["id"]
    status, cancelled, _ = await clerk.call("DELETE", f"/api/bookings/{first['booked'][0]['id']}")
    assert status == 200 and cancelled["state"] == "cancelled"
    status, moved, _ = await clerk.call("PATCH", f"/api/bookings/{second_id}",
                                        {"start": f"{DAY}T09:30"})
    assert status == 200 and moved["start"] == f"{DAY}T09:30:00+07:00"
    status, listed, _ = await clerk.call("GET", f"/api/bookings?room=room-1&from={DAY}T00:00")
    assert [b["id"] for b in listed["bookings"]] == [second_id]


async def test_recurring_booking_lists_clashes_then_books_the_free_ones(clerk: Client) -> None:
    start = datetime.fromisoformat(f"{DAY}T08:00")
    blocked = (start + timedelta(weeks=1)).date().isoformat()
    status, blocker, _ = await clerk.call("POST", "/api/bookings", {
        "room_id": "room-1", "start": f"{blocked}T09:00", "end": f"{blocked}T09:30",
        "title": "Tiếp đoàn"})
    assert status == 201
    weekly = {"room_id": "room-1", "start": f"{DAY}T08:00", "end": f"{DAY}T10:00",
              "title": "Giao ban tuần", "recurrence": {"frequency": "weekly", "count": 3}}
    status, problem, _ = await clerk.call("POST", "/api/bookings", weekly)
    assert status == 409
    assert [(c["start"][:10], c["booking"]["id"]) for c in problem["clashes"]] == [
        (blocked, blocker["booked"][0]["id"])]
    assert len(problem["free"]) == 2
    status, result, _ = await clerk.call("POST", "/api/bookings", {**weekly, "policy": "free_only"})
    assert status == 201 and len(result["booked"]) == 2 and len(result["skipped"]) == 1


async def test_errors_are_problem_json(site: Site, clerk: Client) -> None:
    leader = Client(site, "an", "leader")
    try:
        status, problem, kind = await leader.call("POST", "/api/bookings", {
            "room_id": "room-1", "start": f"{DAY}T08:00", "end": f"{DAY}T09:00", "title": "x"})
        assert (status, problem["code"]) == (403, "forbidden")
        assert kind.startswith("application/problem+json")
    finally:
        await leader.close()
    for body, message in (
        ({"room_id": "room-9", "start": f"{DAY}T08:00", "end": f"{DAY}T09:00", "title": "x"},
         "No room with id 'room-9'"),
        ({"room_id": "room-1", "start": "tomorrow", "end": f"{DAY}T09:00", "title": "x"},
         "'start': 'tomorrow' is not a date and time"),
        ({"room_id": "room-1", "start": f"{DAY}T08:00", "end": f"{DAY}T09:00"},
         "'title' is required"),
    ):
        status, problem, kind = await clerk.call("POST", "/api/bookings", body)
        assert status in (400, 404) and message in problem["detail"], problem
    async with clerk.http.post(clerk.base + "/api/bookings", data="{not json",
                               headers={"X-CSRF-Token": clerk.csrf}) as response:
        assert response.status == 400
        assert "not valid JSON" in (await response.json(content_type=None))["detail"]
    async with clerk.http.post(clerk.base + "/api/bookings", json={}) as response:
        assert response.status == 403  # no CSRF token


async def test_a_meeting_from_a_utc_client_lands_at_local_time(site: Site, clerk: Client) -> None:
    site.account("an", "leader")
    # 01:00Z is 08:00 in Hà Nội.
    status, body, _ = await clerk.call("POST", "/api/meetings", {
        "title": "Giao ban tuần", "start": f"{DAY}T01:00:00Z", "end": f"{DAY}T03:00:00.000Z",
        "on_behalf_of": "an", "room_id": "room-3", "agenda": "Báo cáo tuần",
        "recurrence": {"frequency": "weekly", "count": 2}})
    assert status == 201, body
    first = body["meetings"][0]
    assert first["start"] == f"{DAY}T08:00:00+07:00" and first["end"].endswith("T10:00:00+07:00")
    assert first["room_id"] == "room-3" and first["on_behalf_of"] == "an"
    assert first["recording_policy"] == "automatic"
    status, ics, kind = await clerk.text(first["ics_url"])
    assert status == 200 and kind.startswith("text/calendar")
    parsed = vobject.readOne(ics)
    assert parsed.method.value == "REQUEST"
    assert "RRULE:FREQ=WEEKLY;COUNT=2" in ics and "TZID=Asia/Ho_Chi_Minh" in ics
    assert parsed.vevent.dtstart.value.isoformat() == f"{DAY}T08:00:00+07:00"
    # The meeting shows for the leader, and patching one occurrence moves its room too.
    status, patched, _ = await clerk.call("PATCH", f"/api/meetings/{first['id']}",
                                          {"start": f"{DAY}T13:00", "end": f"{DAY}T14:00"})
    assert status == 200 and patched["meetings"][0]["start"] == f"{DAY}T13:00:00+07:00"
    booking = site.server.app[BOOKINGS].for_meeting(first["id"])[0]
    assert (booking.start.hour, booking.end.hour) == (6, 7)  # 13:00-14:00 in Hà Nội
    status, cancelled, _ = await clerk.call("DELETE", f"/api/meetings/{first['id']}")
    assert cancelled["meetings"][0]["state"] == "cancelled"
    assert site.server.app[BOOKINGS].for_meeting(first["id"]) == []


async def test_busy_warnings_and_dry_run(site: Site, clerk: Client) -> None:
    site.account("an", "leader")
    body = {"title": "A", "start": f"{DAY}T08:00", "end": f"{DAY}T09:00", "invitees": ["an"]}
    assert (await clerk.call("POST", "/api/meetings", body))[0] == 201
    status, preview, _ = await clerk.call("POST", "/api/meetings", {
        **body, "title": "B", "start": f"{DAY}T08:30", "dry_run": True})
    assert status == 200 and preview["warnings"][0]["username"] == "an"
    assert preview["warnings"][0]["is_leader"] is True
    status, created, _ = await clerk.call("POST", "/api/meetings", {**body, "title": "B"})
    assert status == 201 and created["warnings"][0]["meeting"]["title"] == "A"


async def test_calendar_feed_over_http(site: Site) -> None:
    leader = Client(site, "an", "leader")
    try:
        site.server.app[ACCOUNTS].get("an")
        async with leader.http.post(leader.base + "/calendar-feed",
                                    data={"csrf_token": leader.csrf, "action": "issue"}) as r:
            page = await r.text()
        url = page.split('data-testid="feed-url"')[0].rsplit('value="', 1)[1].split('"')[0]
        path = "/feeds/" + url.split("/feeds/", 1)[1]
        async with aiohttp.ClientSession() as anonymous:
            async with anonymous.get(site.base_url + path) as response:
                assert response.status == 200
                assert vobject.readOne(await response.text()).method.value == "PUBLISH"
            async with leader.http.post(leader.base + "/calendar-feed",
                                        data={"csrf_token": leader.csrf, "action": "revoke"}):
                pass
            async with anonymous.get(site.base_url + path) as response:
                assert response.status == 404
    finally:
        await leader.close()


async def test_kiosk_state_for_the_room_account(site: Site, clerk: Client) -> None:
    app = site.server.app
    username, _ = app[ROOM_DEVICES].create_or_reset(app[BOOKINGS].room("room-1"))
    app[ACCOUNTS].set_password(str(username), "kiosk-password-123")  # its first sign-in
    room_token = str(app[SESSIONS].create(username).token)
    now = datetime.now(UTC)
    status, body, _ = await clerk.call("POST", "/api/meetings", {
        "title": "Đang họp", "start": (now - timedelta(minutes=5)).isoformat(),
        "end": (now + timedelta(minutes=30)).isoformat(), "room_id": "room-1"})
    assert status == 201
    meeting_id = body["meetings"][0]["id"]
    async with aiohttp.ClientSession(cookies={"giaoban_session": room_token}) as room:
        async with room.get(site.base_url + "/api/rooms/room-1/kiosk") as response:
            state = await response.json()
        assert state["current"]["meeting_id"] == meeting_id
        assert state["current"]["join_url"] == f"/rooms/room-1/join/{meeting_id}"
        async with room.get(site.base_url + "/api/rooms/room-2/kiosk") as response:
            assert response.status == 403
        async with room.get(site.base_url + "/api/bookings") as response:
            assert response.status == 403
        async with room.get(site.base_url + state["current"]["join_url"]) as response:
            page = await response.text()
            assert response.status == 200 and 'data-auto-join="1"' in page
