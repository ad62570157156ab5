"""A refused scheduling form or API call reads in the user's language, with its values."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

from tests.integration.conftest import Site
from tests.integration.schedule.test_schedule_pages import signed_in
from web.keys import MEETINGS, SESSIONS

DAY = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()


async def test_a_refused_form_names_the_broken_rule_in_vietnamese(site: Site) -> None:
    http, csrf = await signed_in(site, "lan", "clerk")
    site.account("an", "leader")
    form = {"csrf_token": csrf, "title": "Giao ban", "agenda": "", "date": DAY,
            "start_time": "10:00", "end_time": "09:00", "invitees": "an",
            "recording_policy": "automatic", "room_id": "", "repeat": "none"}
    try:
        async with http.post(site.base_url + "/schedule/new", data=form) as response:
            page = html.unescape(await response.text())
        assert response.status == 400
        assert "Giờ kết thúc cuộc họp phải sau giờ bắt đầu." in page
        assert "The meeting must end" not in page
        async with http.post(site.base_url + "/schedule/new", data={
                **form, "end_time": "11:00", "invitees": "trần văn hùng"}) as response:
            page = html.unescape(await response.text())
        assert response.status == 404
        assert "Không có tài khoản với tên đăng nhập 'trần văn hùng'." in page
        assert "No account" not in page
        async with http.post(site.base_url + "/schedule/new?lang=en", data=form) as response:
            assert "The meeting must end after it starts." in await response.text()
        async with http.post(site.base_url + "/api/meetings", json={
                "title": "Giao ban", "start": f"{DAY}T10:00", "end": f"{DAY}T09:00"},
                headers={"X-CSRF-Token": csrf}) as response:
            problem = await response.json(content_type=None)
        assert response.status == 400
        assert problem["detail"] == "The meeting must end after it starts."
        assert problem["message"] == "Giờ kết thúc cuộc họp phải sau giờ bắt đầu."
    finally:
        await http.close()


async def test_a_meeting_in_the_past_is_refused_until_confirmed(site: Site) -> None:
    http, csrf = await signed_in(site, "lan", "clerk")
    site.account("an", "leader")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    form = {"csrf_token": csrf, "title": "Họp bổ sung hồ sơ", "agenda": "", "date": yesterday,
            "start_time": "09:00", "end_time": "10:00", "invitees": "an",
            "recording_policy": "automatic", "room_id": "", "repeat": "none"}
    meetings = site.server.app[MEETINGS]
    try:
        async with http.post(site.base_url + "/schedule/new", data=form) as response:
            page = await response.text()
        assert response.status == 200 and 'data-testid="schedule-past"' in page
        assert "Cuộc họp này bắt đầu trong quá khứ." in page
        assert meetings.list_all() == []
        async with http.post(site.base_url + "/schedule/new",
                             data={**form, "confirm_past": "yes"}) as response:
            page = await response.text()
        assert response.status == 200 and 'data-testid="schedule-done"' in page
        assert len(meetings.list_all()) == 1
    finally:
        await http.close()


async def test_a_form_sent_after_the_session_ended_leads_to_sign_in_and_back(
        site: Site) -> None:
    http, csrf = await signed_in(site, "lan", "clerk")
    site.server.app[SESSIONS].revoke_all("lan")
    try:
        async with http.post(site.base_url + "/schedule/new", data={
                "csrf_token": csrf, "title": "Họp khẩn"}, allow_redirects=False,
                headers={"Referer": site.base_url + "/schedule/new?date=2030-01-07"}) as response:
            assert response.status == 303
            location = response.headers["Location"]
        assert location == "/login?next=/schedule/new?date%3D2030-01-07&kept=1"
        async with http.get(site.base_url + location) as response:
            page = await response.text()
        assert 'data-testid="login-kept"' in page
        assert 'name="next" value="/schedule/new?date=2030-01-07"' in page
        assert site.server.app[MEETINGS].list_all() == []
    finally:
        await http.close()
