"""A link for guests asked for when scheduling (the form and POST /api/meetings), shown
once on the result page with its copy button; listed, withdrawn and created anew on the
meeting's edit page by whoever may manage the meeting, and by nobody else. Real server,
over HTTP; the link is what a guest opens."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from tests.integration.conftest import Site
from tests.integration.room.helpers import give_name
from tests.integration.schedule.test_schedule_api import Client
from tests.integration.schedule.test_schedule_pages import signed_in
from web.keys import CONFIG, GUESTS, MEETINGS

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
URL = re.compile(r'value="(http://127\.0\.0\.1:8080/g/(gl_[\w-]+))"[^>]*data-testid="guest-link-url"')


def form(csrf: str, **extra: str) -> dict[str, str]:
    return {"csrf_token": csrf, "title": "Giao ban với tỉnh", "date": TOMORROW,
            "start_time": "08:00", "end_time": "09:00", "invitees": "hung",
            "recording_policy": "automatic", "repeat": "none", "confirm": "all", **extra}


async def post(http: aiohttp.ClientSession, site: Site, path: str,
               data: dict[str, str]) -> tuple[int, str]:
    async with http.post(site.base_url + path, data=data) as response:
        return response.status, await response.text()


def error_of(page: str) -> str:
    found = re.search(r'data-testid="(?:schedule|edit)-error">([^<]*)<', page)
    assert found, page[-2000:]
    return html.unescape(found.group(1))


async def test_the_schedule_form_creates_a_guest_link_shown_once(site: Site) -> None:
    app = site.server.app
    http, csrf = await signed_in(site, "lan", "clerk")
    site.account("hung", "official")
    try:
        # Refused before anything is scheduled, in Vietnamese (the default) and English.
        bad = {
            "2000-01-01T09:00": ("phải hết hạn ở một thời điểm trong tương lai",
                                 "must expire in the future"),
            f"{TOMORROW}T07:00": ("còn hiệu lực đến khi cuộc họp bắt đầu",
                                  "stay valid until the meeting starts"),
        }
        for expires, (vi, en) in bad.items():
            status, page = await post(http, site, "/schedule/new",
                                      form(csrf, guest_link="1", guest_link_expires=expires))
            assert status == 400 and vi in error_of(page), page[-1500:]
            assert 'name="guest_link" value="1" checked' in page  # the form keeps it
            status, page = await post(http, site, "/schedule/new?lang=en",
                                      form(csrf, guest_link="1", guest_link_expires=expires))
            assert status == 400 and en in error_of(page)
        status, page = await post(http, site, "/schedule/new",
                                  form(csrf, guest_link_expires=f"{TOMORROW}T08:30"))
        assert status == 400 and "chưa chọn tạo đường dẫn" in error_of(page)
        status, page = await post(http, site, "/schedule/new", form(
            csrf, guest_link="1", guest_link_expires=f"{TOMORROW}T08:30", repeat="weekly",
            weekdays="0", repeat_end="count", count="2"))
        assert status == 400 and "chuỗi cuộc họp" in error_of(page)
        assert app[MEETINGS].list_for("lan") == []

        # Without the box ticked: no link.
        status, page = await post(http, site, "/schedule/new", form(csrf))
        (plain,) = re.findall(r'data-testid="scheduled-meeting" data-meeting-id="(\w+)"', page)
        assert status == 200 and app[GUESTS].for_meeting(plain) == []
        assert 'data-testid="guest-link-url"' not in page

        # Ticked: a link until the meeting's end, its address shown with a copy button.
        status, page = await post(http, site, "/schedule/new", form(csrf, guest_link="1"))
        assert status == 200, page[-1500:]
        (meeting,) = re.findall(r'data-testid="scheduled-meeting" data-meeting-id="(\w+)"', page)
        (url, token), = URL.findall(page)
        assert 'data-testid="copy-guest-link"' in page and "/static/js/copy_link.js" in page
        (link,) = app[GUESTS].for_meeting(meeting)
        assert link.expires_at == app[MEETINGS].get(meeting).end and link.created_by == "lan"
        async with aiohttp.ClientSession() as guest:
            async with guest.get(url.replace("http://127.0.0.1:8080", site.base_url)) as answer:
                assert answer.status == 200
                assert 'data-testid="guest-name-input"' in await answer.text()
        assert (await give_name(site, token, "Ông Khách", "Sở Tài chính"))[0] == 200
        # Only its hash is kept: the edit page lists it, never shows its address.
        async with http.get(f"{site.base_url}/meetings/{meeting}/edit") as response:
            edit = await response.text()
        assert f'data-link-id="{link.id}" data-state="active"' in edit
        assert token not in edit and 'data-testid="guest-link-url"' not in edit
    finally:
        await http.close()


async def test_the_json_api_creates_guest_links_when_scheduling(site: Site) -> None:
    app = site.server.app
    clerk = Client(site, "lan", "clerk")
    site.account("hung", "official")
    body: dict[str, Any] = {"title": "Giao ban", "start": f"{TOMORROW}T08:00",
                            "end": f"{TOMORROW}T09:00", "invitees": ["hung"]}
    try:
        for wish, rule in (({"guest_link": "yes"}, "guest_link"),
                           ({"guest_link": True, "guest_link_expires": "2000-01-01T00:00"},
                            "guest_link_expiry"),
                           ({"guest_link_expires": f"{TOMORROW}T10:00"}, "guest_link_expiry")):
            status, problem, kind = await clerk.call("POST", "/api/meetings",
                                                     {**body, **wish, "dry_run": True})
            assert (status, problem["rule"]) == (400, rule), problem
            assert kind.startswith("application/problem+json")
            status, problem, _ = await clerk.call("POST", "/api/meetings", {**body, **wish})
            assert (status, problem["rule"]) == (400, rule), problem
        assert app[MEETINGS].list_for("lan") == []

        status, made, _ = await clerk.call("POST", "/api/meetings", {
            **body, "guest_link": True, "guest_link_expires": f"{TOMORROW}T10:30"})
        assert status == 201, made
        (meeting,) = made["meetings"]
        (link,) = made["guest_links"]
        assert link["meeting_id"] == meeting["id"] and link["url"].startswith(
            "http://127.0.0.1:8080/g/gl_")
        tz = app[CONFIG].tz
        assert datetime.fromisoformat(link["expires_at"]) == datetime.fromisoformat(
            f"{TOMORROW}T10:30").replace(tzinfo=tz)
        assert (await give_name(site, link["url"].rsplit("/", 1)[1], "Khách"))[0] == 200

        # A series: each meeting its own link, until its own end.
        status, made, _ = await clerk.call("POST", "/api/meetings", {
            **body, "guest_link": True,
            "recurrence": {"frequency": "daily", "count": 2}})
        assert status == 201 and len(made["guest_links"]) == 2, made
        for each, link in zip(made["meetings"], made["guest_links"], strict=True):
            assert link["meeting_id"] == each["id"]
            assert datetime.fromisoformat(link["expires_at"]) == datetime.fromisoformat(
                each["end"])
        status, made, _ = await clerk.call("POST", "/api/meetings", body)
        assert status == 201 and "guest_links" not in made
    finally:
        await clerk.close()


async def test_the_edit_page_withdraws_and_creates_links_for_its_managers_only(
    site: Site,
) -> None:
    app = site.server.app
    http, csrf = await signed_in(site, "lan", "clerk")
    other, other_csrf = await signed_in(site, "hung", "official")  # invited, not a host
    try:
        status, page = await post(http, site, "/schedule/new", form(csrf, guest_link="1"))
        (meeting,) = re.findall(r'data-testid="scheduled-meeting" data-meeting-id="(\w+)"', page)
        (_, first_token), = URL.findall(page)
        (first,) = app[GUESTS].for_meeting(meeting)
        path = f"/meetings/{meeting}/guest-links"

        # A participant who does not chair may neither create nor withdraw a link.
        assert (await post(other, site, path, {"csrf_token": other_csrf}))[0] == 403
        assert (await post(other, site, f"{path}/{first.id}/revoke",
                           {"csrf_token": other_csrf}))[0] == 403
        async with other.post(f"{site.base_url}/api{path}", json={},
                              headers={"X-CSRF-Token": other_csrf}) as response:
            assert response.status == 403
        assert app[GUESTS].for_meeting(meeting) == [first]

        # A bad expiry: a clear error on the page, in the page's language.
        status, page = await post(http, site, path, {"csrf_token": csrf,
                                                     "expires": "2000-01-01T09:00"})
        assert status == 400 and "trong tương lai" in error_of(page)
        status, page = await post(http, site, f"{path}?lang=en",
                                  {"csrf_token": csrf, "expires": "2000-01-01T09:00"})
        assert status == 400 and error_of(page) == "A guest link must expire in the future"

        # Created anew: shown this once, with its copy button.
        status, page = await post(http, site, path, {"csrf_token": csrf,
                                                     "expires": f"{TOMORROW}T12:00"})
        assert status == 200
        (_, second_token), = URL.findall(page)
        assert 'data-testid="copy-guest-link"' in page
        second = next(x for x in app[GUESTS].for_meeting(meeting) if x.id != first.id)
        assert second.expires_at == datetime.fromisoformat(f"{TOMORROW}T12:00").replace(
            tzinfo=app[CONFIG].tz)
        async with http.get(f"{site.base_url}/meetings/{meeting}/edit") as response:
            again = await response.text()
        assert second_token not in again and not URL.findall(again)

        # Withdrawn: the page says so, and the link lets no guest in any more.
        status, page = await post(http, site, f"{path}/{first.id}/revoke", {"csrf_token": csrf})
        assert status == 200 and 'data-testid="guest-links-notice"' in page
        assert f'data-link-id="{first.id}" data-state="revoked"' in page
        assert f'data-link-id="{second.id}" data-state="active"' in page
        assert (await give_name(site, first_token, "Khách"))[0] == 404
        assert (await give_name(site, second_token, "Khách"))[0] == 200
        assert (await post(http, site, f"{path}/gl-nothing/revoke", {"csrf_token": csrf}))[0] \
            == 404
    finally:
        await http.close()
        await other.close()
