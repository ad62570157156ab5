"""Changing, moving and cancelling meetings in the browser's pages, over HTTP: the
room booking follows, and each invitation is newer; the invitee directory and groups."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import aiohttp
import vobject

from tests.integration.conftest import Site
from tests.integration.schedule.test_schedule_pages import signed_in
from web.keys import ACCOUNTS, BOOKINGS, MEETINGS

MONDAY = datetime.now(UTC).date() + timedelta(days=7 - datetime.now(UTC).weekday() + 7)


def people(site: Site) -> None:
    accounts = site.server.app[ACCOUNTS]
    accounts.create("hung", "Trần Văn Hùng", "official", "password-123")
    accounts.create("dung", "Lê Thị Dũng", "official", "password-123")
    accounts.create("minh", "Phạm Quang Minh", "leader", "password-123")


async def schedule_weekly(http: aiohttp.ClientSession, site: Site, csrf: str) -> list[str]:
    form = {"csrf_token": csrf, "title": "Giao ban tuần", "agenda": "Báo cáo tuần",
            "date": MONDAY.isoformat(), "start_time": "08:00", "end_time": "09:00",
            "invitees": "hung,dung", "recording_policy": "automatic", "room_id": "room-1",
            "repeat": "weekly", "weekdays": "0", "repeat_end": "count", "count": "3",
            "confirm": "all"}
    async with http.post(site.base_url + "/schedule/new", data=form) as response:
        page = await response.text()
    assert response.status == 200 and 'data-testid="schedule-done"' in page, page
    return re.findall(r'data-testid="scheduled-meeting" data-meeting-id="(\w+)"', page)


async def ics(http: aiohttp.ClientSession, site: Site, meeting_id: str) -> vobject.base.Component:
    async with http.get(site.base_url + f"/meetings/{meeting_id}.ics") as response:
        assert response.status == 200
        return vobject.readOne(await response.text())


async def test_the_done_page_names_the_room_and_gives_the_join_link(site: Site) -> None:
    http, csrf = await signed_in(site, "lan", "clerk")
    people(site)
    try:
        form = {"csrf_token": csrf, "title": "Họp", "date": MONDAY.isoformat(),
                "start_time": "08:00", "end_time": "09:00", "invitees": "hung",
                "recording_policy": "automatic", "room_id": "room-1", "repeat": "none",
                "confirm": "all"}
        async with http.post(site.base_url + "/schedule/new", data=form) as response:
            page = await response.text()
        room = site.server.app[BOOKINGS].room("room-1")
        (meeting_id,) = re.findall(r'data-meeting-id="(\w+)"', page)
        assert f'data-testid="scheduled-room">{html.escape(room.name)}<' in page
        assert re.search(rf'scheduled-join-link">https?://[^<]+/m/{meeting_id}</a>', page)
    finally:
        await http.close()


async def test_move_one_occurrence_and_cancel_another(site: Site) -> None:
    http, csrf = await signed_in(site, "lan", "clerk")
    people(site)
    meetings, bookings = site.server.app[MEETINGS], site.server.app[BOOKINGS]
    try:
        first, second, third = await schedule_weekly(http, site, csrf)
        async with http.get(site.base_url + f"/meetings/{second}/edit") as response:
            page = await response.text()
        assert response.status == 200 and 'data-testid="edit-scope"' in page
        assert page.count('data-testid="series-meeting"') == 3
        day = (MONDAY + timedelta(days=8)).isoformat()  # Tuesday of the second week
        async with http.post(site.base_url + f"/meetings/{second}/edit", data={
                "csrf_token": csrf, "title": "Giao ban tuần", "agenda": "Báo cáo tuần",
                "date": day, "start_time": "14:00", "end_time": "15:30",
                "invitees": "hung,minh", "scope": "this"}) as response:
            page = await response.text()
        assert response.status == 200 and 'data-testid="schedule-done"' in page
        moved = meetings.get(second)
        local = moved.start.astimezone(meetings.tz)
        assert (local.date().isoformat(), f"{local:%H:%M}") == (day, "14:00")
        assert moved.invitees == ("hung", "minh") and moved.revision == 1
        (booking,) = [b for b in bookings.list("room-1") if b.meeting_id == second]
        assert (booking.start, booking.end) == (moved.start, moved.end)
        assert meetings.get(first).start.astimezone(meetings.tz).date() == MONDAY
        async with http.post(site.base_url + f"/meetings/{third}/cancel", data={
                "csrf_token": csrf, "scope": "this", "confirm_cancel": "yes"}) as response:
            page = await response.text()
        assert response.status == 200 and 'data-state="cancelled"' in page
        assert meetings.get(third).state == "cancelled"
        assert [b for b in bookings.list("room-1")
                if b.meeting_id == third and b.state == "active"] == []
        calendar = await ics(http, site, first)
        master = next(e for e in calendar.vevent_list if not hasattr(e, "recurrence_id"))
        assert int(master.sequence.value) >= 1 and hasattr(master, "exdate")
        override = next(e for e in calendar.vevent_list if hasattr(e, "recurrence_id"))
        assert int(override.sequence.value) == 1
        assert override.dtstart.value == moved.start
    finally:
        await http.close()


async def test_a_cancelled_meeting_s_invitation_cancels_it(site: Site) -> None:
    http, csrf = await signed_in(site, "lan", "clerk")
    people(site)
    meeting = site.server.app[MEETINGS].create(
        "Họp", "lan", datetime.now(UTC) + timedelta(days=2),
        datetime.now(UTC) + timedelta(days=2, hours=1), invitees=["hung"])
    try:
        async with http.post(site.base_url + f"/meetings/{meeting.id}/cancel",
                             data={"csrf_token": csrf}) as response:
            assert response.status == 400
            assert "Hãy xác nhận việc hủy cuộc họp." in await response.text()
        async with http.post(site.base_url + f"/meetings/{meeting.id}/cancel", data={
                "csrf_token": csrf, "confirm_cancel": "yes"}) as response:
            assert response.status == 200
        calendar = await ics(http, site, meeting.id)
        assert calendar.method.value == "CANCEL"
        assert calendar.vevent.sequence.value == "1"
    finally:
        await http.close()


async def test_an_official_may_not_change_someone_else_s_meeting(site: Site) -> None:
    http, csrf = await signed_in(site, "hai", "official")
    people(site)
    site.account("lan", "clerk")
    meeting = site.server.app[MEETINGS].create(
        "Họp", "lan", datetime.now(UTC) + timedelta(days=2),
        datetime.now(UTC) + timedelta(days=2, hours=1), invitees=["hai"])
    try:
        async with http.get(site.base_url + f"/meetings/{meeting.id}/edit") as response:
            assert response.status == 403
        async with http.post(site.base_url + f"/meetings/{meeting.id}/cancel", data={
                "csrf_token": csrf, "confirm_cancel": "yes"}) as response:
            assert response.status == 403
        assert site.server.app[MEETINGS].get(meeting.id).state == "scheduled"
    finally:
        await http.close()


async def test_the_directory_finds_people_without_diacritics_and_groups(site: Site) -> None:
    http, csrf = await signed_in(site, "lan", "clerk")
    people(site)
    try:
        async with http.get(site.base_url + "/api/directory", params={"q": "hung"}) as response:
            found = await response.json()
        assert [p["display_name"] for p in found["people"]] == ["Trần Văn Hùng"]
        async with http.get(site.base_url + "/api/directory",
                            params={"q": "lanh dao"}) as response:
            found = await response.json()
        assert [p["username"] for p in found["people"]] == ["minh"]
        async with http.post(site.base_url + "/groups", data={
                "csrf_token": csrf, "name": "Lãnh đạo Bộ", "invitees": "minh,hung"}) as response:
            page = await response.text()
        assert response.status == 200 and 'data-testid="groups-done"' in page
        async with http.post(site.base_url + "/groups", data={
                "csrf_token": csrf, "name": "Lãnh đạo Bộ", "invitees": "dung"}) as response:
            assert response.status == 409
            assert "Đã có nhóm tên 'Lãnh đạo Bộ'." in html.unescape(await response.text())
        async with http.get(site.base_url + "/api/directory",
                            params={"q": "lanh dao bo"}) as response:
            found = await response.json()
        (group,) = found["groups"]
        assert group["name"] == "Lãnh đạo Bộ"
        assert [m["username"] for m in group["members"]] == ["minh", "hung"]
    finally:
        await http.close()


async def test_my_meetings_says_when_join_opens_instead_of_a_dead_join(site: Site) -> None:
    http, _ = await signed_in(site, "hung", "official")
    site.account("lan", "clerk")
    meetings = site.server.app[MEETINGS]
    now = datetime.now(UTC)
    later = meetings.create("Sau", "lan", now + timedelta(days=2),
                            now + timedelta(days=2, hours=1), invitees=["hung"])
    soon = meetings.create("Ngay", "lan", now + timedelta(minutes=1),
                           now + timedelta(minutes=60), invitees=["hung"])
    try:
        async with http.get(site.base_url + "/meetings") as response:
            page = await response.text()
        items = {m.group(1): m.group(2) for m in re.finditer(
            r'data-meeting-id="(\w+)">(.*?)</li>', page, re.DOTALL)}
        opens = meetings.join_opens_at(later).astimezone(meetings.tz)
        assert "is-waiting" in items[later.id] and 'aria-disabled="true"' in items[later.id]
        assert f"Mở vào họp lúc {opens:%H:%M}" in items[later.id]
        assert 'data-testid="join-countdown"' in items[later.id]
        assert "is-waiting" not in items[soon.id] and "join-opens" not in items[soon.id]
    finally:
        await http.close()


async def test_the_chair_is_the_leader_or_the_person_chosen_not_the_clerk(site: Site) -> None:
    http, csrf = await signed_in(site, "lan", "clerk")
    people(site)
    guest, _ = await signed_in(site, "thu", "official")
    form = {"csrf_token": csrf, "title": "Giao ban Bộ", "date": MONDAY.isoformat(),
            "start_time": "08:00", "end_time": "09:00", "invitees": "thu",
            "on_behalf_of": "minh", "recording_policy": "automatic", "room_id": "",
            "repeat": "none", "confirm": "all"}
    try:
        for chosen, shown in (("", "Phạm Quang Minh"), ("hung", "Trần Văn Hùng")):
            async with http.post(site.base_url + "/schedule/new",
                                 data={**form, "chair": chosen}) as response:
                page = await response.text()
            (meeting_id,) = re.findall(r'data-meeting-id="(\w+)"', page)
            meeting = site.server.app[MEETINGS].get(meeting_id)
            assert meeting.organizer == "lan" and meeting.chair == (chosen or "minh")
            async with guest.get(site.base_url + "/meetings") as response:
                mine = await response.text()
            item = mine.split(f'data-meeting-id="{meeting_id}"')[1].split("</li>")[0]
            assert f"Chủ trì: {shown}" in item and "Lan" not in item
            calendar = await ics(http, site, meeting_id)
            assert calendar.vevent.organizer.value == f"urn:giaoban:{chosen or 'minh'}"
        assert "hung" in meeting.invitees  # the chosen chair takes part
    finally:
        await http.close()
        await guest.close()


async def test_a_meeting_s_booking_is_not_moved_apart_from_its_meeting(site: Site) -> None:
    http, csrf = await signed_in(site, "lan", "clerk")
    people(site)
    bookings = site.server.app[BOOKINGS]
    try:
        first, _, _ = await schedule_weekly(http, site, csrf)
        (booking,) = bookings.for_meeting(first)
        later = (booking.start + timedelta(hours=3)).astimezone(bookings.tz)
        async with http.patch(site.base_url + f"/api/bookings/{booking.id}", json={
                "start": later.isoformat(), "end": (later + timedelta(hours=1)).isoformat()},
                headers={"X-CSRF-Token": csrf}) as response:
            problem = await response.json(content_type=None)
        assert response.status == 409 and problem["meeting_id"] == first
        assert problem["message"].startswith(f"Lịch đặt phòng số {booking.id} thuộc về")
        assert bookings.for_meeting(first)[0].start == booking.start
        async with http.patch(site.base_url + f"/api/bookings/{booking.id}", json={
                "room_id": "room-2"}, headers={"X-CSRF-Token": csrf}) as response:
            assert response.status == 200  # the room may change; day and hours stay
        assert site.server.app[MEETINGS].get(first).room_id == "room-2"
    finally:
        await http.close()


async def test_my_meetings_links_the_edit_page_for_those_who_may_change(site: Site) -> None:
    clerk, _ = await signed_in(site, "lan", "clerk")
    guest, _ = await signed_in(site, "thu", "official")
    now = datetime.now(UTC)
    meeting = site.server.app[MEETINGS].create("Họp", "lan", now + timedelta(days=2),
                                               now + timedelta(days=2, hours=1),
                                               invitees=["thu"])
    try:
        for http, shown in ((clerk, True), (guest, False)):
            async with http.get(site.base_url + "/meetings") as response:
                page = await response.text()
            assert (f'href="/meetings/{meeting.id}/edit"' in page) == shown
    finally:
        await clerk.close()
        await guest.close()


async def test_a_room_changed_on_the_calendar_gives_a_newer_invitation(site: Site) -> None:
    """Moving a meeting's booking to another room changes where the meeting is: its
    invitation names the new room with a higher SEQUENCE."""
    http, csrf = await signed_in(site, "lan", "clerk")
    people(site)
    bookings = site.server.app[BOOKINGS]
    try:
        first, _, _ = await schedule_weekly(http, site, csrf)
        before = await ics(http, site, first)
        (booking,) = [b for b in bookings.list() if b.meeting_id == first]
        async with http.patch(site.base_url + f"/api/bookings/{booking.id}",
                              json={"room_id": "room-2"},
                              headers={"X-CSRF-Token": csrf}) as response:
            assert response.status == 200, await response.text()
        after = await ics(http, site, first)
        old, new = before.vevent, after.vevent
        assert int(new.sequence.value) == int(old.sequence.value) + 1
        assert bookings.room("room-2").name in new.location.value
        assert new.location.value != old.location.value
    finally:
        await http.close()
