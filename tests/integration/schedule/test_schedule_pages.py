"""The scheduling pages over HTTP: the form's confirmation step, today, the week, the kiosk."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import aiohttp

from tests.integration.conftest import Site
from web.keys import BOOKINGS, MEETINGS, SESSIONS

DAY = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()


async def signed_in(site: Site, username: str, role: str) -> tuple[aiohttp.ClientSession, str]:
    token = site.account(username, role)
    csrf = site.server.app[SESSIONS].get(token).csrf_token
    return aiohttp.ClientSession(cookies={"giaoban_session": token}), csrf


async def test_schedule_form_confirms_room_clashes_then_books_the_free_ones(site: Site) -> None:
    http, csrf = await signed_in(site, "lan", "clerk")
    site.account("an", "leader")
    try:
        lan = site.server.app[BOOKINGS]
        second = (datetime.fromisoformat(DAY) + timedelta(weeks=1)).date().isoformat()
        async with http.post(site.base_url + "/api/bookings", json={
                "room_id": "room-1", "start": f"{second}T08:30", "end": f"{second}T09:00",
                "title": "Tiếp đoàn"}, headers={"X-CSRF-Token": csrf}) as response:
            assert response.status == 201
        form = {"csrf_token": csrf, "title": "Giao ban tuần", "agenda": "", "date": DAY,
                "start_time": "08:00", "end_time": "10:00", "invitees": "an",
                "recording_policy": "automatic", "room_id": "room-1", "repeat": "weekly",
                "repeat_end": "count", "count": "3"}
        async with http.post(site.base_url + "/schedule/new", data=form) as response:
            page = await response.text()
        assert response.status == 200 and 'data-testid="schedule-confirm"' in page
        assert "Tiếp đoàn" in page and 'data-testid="confirm-free-only"' in page
        assert site.server.app[MEETINGS].list_all() == []
        async with http.post(site.base_url + "/schedule/new",
                             data={**form, "confirm": "free_only"}) as response:
            page = await response.text()
        assert response.status == 200 and 'data-testid="schedule-done"' in page
        assert len(re.findall('data-testid="scheduled-meeting"', page)) == 3
        assert len(lan.list("room-1")) == 3  # the blocker and two of the three Mondays
        async with http.get(site.base_url + "/calendar") as response:
            assert response.status == 200 and 'data-testid="room-column"' in await response.text()
        async with http.post(site.base_url + "/schedule/new",
                             data={**form, "date": "", "confirm": "all"}) as response:
            assert response.status == 400
            assert 'data-testid="schedule-error"' in await response.text()
    finally:
        await http.close()


async def test_today_page_join_button_waits_for_the_window(site: Site) -> None:
    http, _ = await signed_in(site, "an", "leader")
    site.account("lan", "clerk")
    meetings = site.server.app[MEETINGS]
    now = datetime.now(UTC)
    soon = meetings.create("Sắp họp", "lan", now + timedelta(minutes=40),
                           now + timedelta(minutes=70), invitees=["an"])
    open_now = meetings.create("Đang mở", "lan", now + timedelta(minutes=5),
                               now + timedelta(minutes=35), invitees=["an"])
    try:
        async with http.get(site.base_url + "/today") as response:
            page = await response.text()
        assert response.status == 200
        items = page.split('data-testid="today-item"')[1:]
        by_id = {re.search(r'data-meeting-id="(\w+)"', i).group(1): i for i in items}  # type: ignore[union-attr]
        today = now.astimezone(meetings.tz).date()
        for meeting, waits in ((soon, True), (open_now, False)):
            if meeting.start.astimezone(meetings.tz).date() == today:
                assert ('aria-disabled="true"' in by_id[meeting.id]) == waits, meeting.title
            else:  # near midnight it starts tomorrow, so today's page does not list it
                assert meeting.id not in by_id, meeting.title
        async with http.get(site.base_url + f"/m/{soon.id}?lang=en") as response:
            assert response.status == 403
            assert "This meeting opens for joining at" in await response.text()
        async with http.get(site.base_url + f"/m/{soon.id}?lang=vi") as response:
            assert "Chưa đến giờ vào họp" in await response.text()
        async with http.get(site.base_url + "/calendar") as response:
            assert response.status == 403  # leaders do not book rooms
    finally:
        await http.close()
