"""Units over HTTP: imported from a file with either language's headers, found by the
directory without diacritics, invited whole; and moving a meeting into the past only
when the clerk confirms it."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime, timedelta

import aiohttp
from openpyxl import Workbook

from tests.integration.conftest import Site
from tests.integration.schedule.test_schedule_api import Client
from tests.integration.schedule.test_schedule_pages import signed_in
from web.keys import ACCOUNTS, MEETINGS

UNIT = "Vụ Tổ chức cán bộ"
DAY = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
PAST_DAY = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()


def xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


async def import_file(http: aiohttp.ClientSession, site: Site, csrf: str, data: bytes,
                      filename: str) -> None:
    """The preview of the upload, then the apply of what the preview kept."""
    form = aiohttp.FormData()
    form.add_field("csrf_token", csrf)
    form.add_field("file", data, filename=filename)
    async with http.post(site.base_url + "/admin/import", data=form) as response:
        page = await response.text()
    assert response.status == 200 and 'data-can-apply="1"' in page, page
    (text,) = re.findall(r'<textarea name="csv" hidden>(.*?)</textarea>', page, re.S)
    async with http.post(site.base_url + "/admin/import/apply",
                         data={"csrf_token": csrf, "csv": html.unescape(text)}) as response:
        assert response.status == 201, await response.text()


async def test_units_are_imported_with_either_language_s_headers(site: Site) -> None:
    http, csrf = await signed_in(site, "quantri", "admin")
    accounts = site.server.app[ACCOUNTS]
    try:
        await import_file(http, site, csrf, xlsx([
            ["Tên đăng nhập", "Họ và tên", "Đơn vị", "Vai trò"],
            ["hung", "Trần Văn Hùng", UNIT, "Cán bộ"],
            ["dung", "Lê Thị Dũng", UNIT, "Cán bộ"]]), "danh-sach.xlsx")
        english = "Username,Full name,Unit,Role\nminh,Phạm Quang Minh,Văn phòng Bộ,Leader\n"
        await import_file(http, site, csrf, english.encode("utf-8"), "staff.csv")
        assert [accounts.get(n).unit for n in ("hung", "dung", "minh")] == [
            UNIT, UNIT, "Văn phòng Bộ"]
        # A unit that is not one line of visible text is refused with the row's reason.
        form = aiohttp.FormData()
        form.add_field("csrf_token", csrf)
        bad = 'username,display_name,role,unit\nchi,Chi,clerk,"A\nB"\n'
        form.add_field("file", bad.encode(), filename="bad.csv")
        async with http.post(site.base_url + "/admin/import", data=form) as response:
            page = html.unescape(await response.text())
        assert 'data-status="rejected"' in page
        assert "Đơn vị phải là một dòng gồm các ký tự hiển thị được." in page
    finally:
        await http.close()


async def test_the_admin_pages_set_and_change_the_unit(site: Site) -> None:
    http, csrf = await signed_in(site, "quantri", "admin")
    accounts = site.server.app[ACCOUNTS]
    try:
        async with http.post(site.base_url + "/admin/accounts", data={
                "csrf_token": csrf, "username": "hung", "display_name": "Trần Văn Hùng",
                "role": "official", "unit": f" {UNIT} "}) as response:
            page = await response.text()
        assert response.status == 201 and 'data-testid="edit-unit"' in page
        assert accounts.get("hung").unit == UNIT
        async with http.get(site.base_url + "/admin/accounts") as response:
            assert f"<td>{UNIT}</td>" in await response.text()
        async with http.post(site.base_url + "/admin/accounts/hung", data={
                "csrf_token": csrf, "display_name": "Trần Văn Hùng", "role": "official",
                "unit": "Vụ\u200bPháp chế"}, allow_redirects=False) as response:
            page = html.unescape(await response.text())
        assert response.status == 400
        assert "Đơn vị phải là một dòng gồm các ký tự hiển thị được." in page
        async with http.post(site.base_url + "/admin/accounts/hung", data={
                "csrf_token": csrf, "display_name": "Trần Văn Hùng", "role": "official",
                "unit": "Vụ Pháp chế"}, allow_redirects=False) as response:
            assert response.status == 302
        assert accounts.get("hung").unit == "Vụ Pháp chế"
    finally:
        await http.close()


def staff(site: Site) -> None:
    accounts = site.server.app[ACCOUNTS]
    accounts.create("hung", "Trần Văn Hùng", "official", "password-123", unit=UNIT)
    accounts.create("dung", "Lê Thị Dũng", "official", "password-123", unit=UNIT)
    accounts.create("cu", "Nguyễn Văn Cũ", "official", "password-123", unit=UNIT)
    accounts.set_active("cu", False)  # no longer invited with the unit
    accounts.create("minh", "Phạm Quang Minh", "leader", "password-123",
                    unit="Văn phòng Bộ")


async def test_the_directory_finds_a_unit_and_the_whole_unit_is_invited(site: Site) -> None:
    http, csrf = await signed_in(site, "lan", "clerk")
    staff(site)
    try:
        async with http.get(site.base_url + "/api/directory",
                            params={"q": "to chuc"}) as response:
            found = await response.json()
        assert {p["username"]: p["unit"] for p in found["people"]} == {
            "hung": UNIT, "dung": UNIT}
        (unit,) = found["units"]
        assert unit["name"] == UNIT
        members = [m["username"] for m in unit["members"]]
        assert members == ["dung", "hung"]  # by name, active accounts only
        # The picker puts the whole unit into the form's invitees field.
        async with http.post(site.base_url + "/schedule/new", data={
                "csrf_token": csrf, "title": "Họp đơn vị", "date": DAY,
                "start_time": "08:00", "end_time": "09:00", "invitees": ",".join(members),
                "recording_policy": "automatic", "repeat": "none",
                "confirm": "all"}) as response:
            page = await response.text()
        assert response.status == 200 and 'data-testid="schedule-done"' in page, page
        (meeting_id,) = re.findall(r'data-meeting-id="(\w+)"', page)
        assert set(site.server.app[MEETINGS].get(meeting_id).invitees) == {"hung", "dung"}
    finally:
        await http.close()


async def test_moving_a_meeting_into_the_past_needs_a_confirmation(site: Site) -> None:
    http, csrf = await signed_in(site, "lan", "clerk")
    staff(site)
    meetings = site.server.app[MEETINGS]
    try:
        async with http.post(site.base_url + "/schedule/new", data={
                "csrf_token": csrf, "title": "Giao ban", "date": DAY, "start_time": "08:00",
                "end_time": "09:00", "invitees": "hung", "recording_policy": "automatic",
                "repeat": "none", "confirm": "all"}) as response:
            (meeting_id,) = re.findall(r'data-meeting-id="(\w+)"', await response.text())
        planned = meetings.get(meeting_id).start
        moved = {"csrf_token": csrf, "title": "Giao ban", "agenda": "", "date": PAST_DAY,
                 "start_time": "08:00", "end_time": "09:00", "invitees": "hung",
                 "scope": "this"}
        async with http.post(site.base_url + f"/meetings/{meeting_id}/edit",
                             data=moved) as response:
            page = await response.text()
        assert response.status == 200 and 'data-testid="edit-past"' in page
        assert "Thời gian bắt đầu mới đã qua." in html.unescape(page)
        assert meetings.get(meeting_id).start == planned
        async with http.post(site.base_url + f"/meetings/{meeting_id}/edit",
                             data={**moved, "confirm_past": "yes"}) as response:
            page = await response.text()
        assert response.status == 200 and 'data-testid="schedule-done"' in page, page
        assert meetings.get(meeting_id).start.date().isoformat() <= PAST_DAY
    finally:
        await http.close()


async def test_the_api_moves_a_meeting_into_the_past_only_when_confirmed(site: Site) -> None:
    clerk = Client(site, "lan", "clerk")
    staff(site)
    meetings = site.server.app[MEETINGS]
    try:
        status, body, _ = await clerk.call("POST", "/api/meetings", {
            "title": "Giao ban", "start": f"{DAY}T08:00", "end": f"{DAY}T09:00",
            "invitees": ["hung"]})
        assert status == 201, body
        meeting_id = body["meetings"][0]["id"]
        planned = meetings.get(meeting_id).start
        past = {"start": f"{PAST_DAY}T08:00", "end": f"{PAST_DAY}T09:00"}
        status, body, _ = await clerk.call("PATCH", f"/api/meetings/{meeting_id}", past)
        assert status == 400 and "past" in str(body), body
        assert meetings.get(meeting_id).start == planned
        status, body, _ = await clerk.call("PATCH", f"/api/meetings/{meeting_id}",
                                           {**past, "confirm_past": True})
        assert status == 200, body
        assert meetings.get(meeting_id).start < datetime.now(UTC)
    finally:
        await clerk.close()
