"""A booking's link to a meeting, over HTTP against a real server: only someone who may
change the meeting links a booking to it, a room's kiosk joins only through a booking
of its room that covers the meeting, and /api/bookings shows a meeting's link and
title only to those who may see the meeting."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import aiohttp

from tests.integration.conftest import Site
from tests.integration.schedule.test_schedule_api import Client
from web.keys import ACCOUNTS, BOOKINGS, MEETINGS, ROOM_DEVICES, SESSIONS

SECRET = "Họp kín về nhân sự"


def secret_meeting(site: Site, start: datetime) -> str:
    """A leader's meeting, open for joining now, inviting one official."""
    site.account("bo-truong", "leader")
    site.account("uy-vien", "official")
    meeting = site.server.app[MEETINGS].create(SECRET, "bo-truong", start,
                                               start + timedelta(hours=1),
                                               invitees=["uy-vien"])
    return str(meeting.id)


async def test_a_booking_links_only_to_a_meeting_its_author_may_change(site: Site) -> None:
    now = datetime.now(UTC)
    meeting = secret_meeting(site, now)
    secretary = Client(site, "thu-ky", "secretary")  # no leaders assigned
    try:
        later = now + timedelta(days=3)
        status, body, kind = await secretary.call("POST", "/api/bookings", {
            "room_id": "room-1", "start": later.isoformat(),
            "end": (later + timedelta(hours=1)).isoformat(), "title": "Tiếp khách",
            "meeting_id": meeting})
        assert status == 403, body
        assert kind.startswith("application/problem+json")
        assert site.server.app[BOOKINGS].list("room-1") == []
        assert site.server.app[MEETINGS].get(meeting).room_id is None
    finally:
        await secretary.close()


async def test_the_kiosk_joins_only_through_a_booking_covering_the_meeting(site: Site) -> None:
    app = site.server.app
    now = datetime.now(UTC)
    meeting = secret_meeting(site, now)
    site.account("van-thu", "clerk")
    clerk = app[ACCOUNTS].get("van-thu")
    # A clerk's booking of room-1 linked to the meeting, but on another day.
    later = now + timedelta(days=3)
    app[BOOKINGS].book(clerk, "room-1", later, later + timedelta(hours=1), "Khác",
                       meeting_id=meeting)
    device, _ = app[ROOM_DEVICES].create_or_reset(app[BOOKINGS].room("room-1"))
    app[ACCOUNTS].set_password(str(device), "kiosk-password-123")
    token = str(app[SESSIONS].create(str(device)).token)
    async with aiohttp.ClientSession(cookies={"giaoban_session": token}) as http:
        async with http.get(f"{site.base_url}/rooms/room-1/join/{meeting}",
                            allow_redirects=False) as response:
            assert response.status == 403, await response.text()
        async with http.ws_connect(site.base_url + "/ws") as ws:
            await ws.send_str(json.dumps({"type": "hello", "version": 1}))
            assert json.loads(await ws.receive_str(timeout=10))["type"] == "welcome"
            await ws.send_str(json.dumps({"type": "join", "meeting_id": meeting}))
            reply = json.loads(await ws.receive_str(timeout=10))
            assert (reply["type"], reply["code"]) == ("error", "forbidden"), reply
    assert app[MEETINGS].get(meeting).room_id is None
    # A booking covering the meeting's time lets the room in.
    app[BOOKINGS].book(clerk, "room-1", now - timedelta(minutes=5), now + timedelta(hours=1),
                       SECRET, meeting_id=meeting)
    assert app[MEETINGS].get(meeting).room_id == "room-1"
    async with aiohttp.ClientSession(cookies={"giaoban_session": token}) as http:
        async with http.get(f"{site.base_url}/rooms/room-1/join/{meeting}",
                            allow_redirects=False) as response:
            assert response.status == 200, await response.text()


async def test_bookings_show_a_meeting_only_to_those_who_may_see_it(site: Site) -> None:
    app = site.server.app
    now = datetime.now(UTC) + timedelta(days=1)
    meeting = secret_meeting(site, now)
    site.account("van-thu", "clerk")
    booking = app[BOOKINGS].book(app[ACCOUNTS].get("van-thu"), "room-2", now,
                                 now + timedelta(hours=1), SECRET, meeting_id=meeting)
    outsider = Client(site, "thu-ky", "secretary")
    invitee_token = str(app[SESSIONS].create("uy-vien").token)
    try:
        status, body, _ = await outsider.call("GET", "/api/bookings?room=room-2")
        assert status == 200
        shown = body["bookings"][0]
        assert shown["id"] == booking.id
        assert shown["meeting_id"] is None and shown["title"] == "Đã đặt", shown
        status, body, _ = await outsider.call("GET", f"/api/bookings/{booking.id}")
        assert status == 200
        assert body["meeting_id"] is None and SECRET not in json.dumps(body, ensure_ascii=False)
        async with aiohttp.ClientSession(cookies={"giaoban_session": invitee_token}) as http:
            async with http.get(f"{site.base_url}/api/bookings/{booking.id}") as response:
                seen = await response.json()
        assert (seen["meeting_id"], seen["title"]) == (meeting, SECRET)
    finally:
        await outsider.close()


async def test_clashes_and_busy_warnings_do_not_name_a_private_meeting(site: Site) -> None:
    app = site.server.app
    start = datetime.now(UTC) + timedelta(days=1)
    meeting = secret_meeting(site, start)
    site.account("van-thu", "clerk")
    app[BOOKINGS].book(app[ACCOUNTS].get("van-thu"), "room-2", start,
                       start + timedelta(hours=1), SECRET, meeting_id=meeting)
    outsider = Client(site, "thu-ky", "secretary")
    when = {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}
    try:
        status, body, _ = await outsider.call("POST", "/api/bookings", {
            "room_id": "room-2", "title": "Tiếp khách", **when})
        assert status == 409 and body["code"] == "room_booked", body
        shown = json.dumps(body, ensure_ascii=False)
        assert SECRET not in shown and meeting not in shown, shown
        assert body["clashes"][0]["booking"]["title"] == "Đã đặt"
        status, body, _ = await outsider.call("POST", "/api/meetings", {
            "title": "Họp giao ban", "invitees": ["uy-vien"], "room_id": "room-2",
            "dry_run": True, **when})
        assert status == 200, body
        assert body["warnings"] and body["room_clashes"], body
        shown = json.dumps(body, ensure_ascii=False)
        assert SECRET not in shown and meeting not in shown, shown
        status, body, _ = await outsider.call("POST", "/api/meetings", {
            "title": "Họp giao ban", "room_id": "room-2", **when})
        assert status == 409, body
        shown = json.dumps(body, ensure_ascii=False)
        assert SECRET not in shown and meeting not in shown, shown
    finally:
        await outsider.close()


async def test_a_room_device_replaces_its_one_time_password_first(site: Site) -> None:
    app = site.server.app
    device, once = app[ROOM_DEVICES].create_or_reset(app[BOOKINGS].room("room-1"))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{site.base_url}/login") as response:
            login = await response.text()
        csrf = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        async with http.post(f"{site.base_url}/login", data={
                "username": str(device), "password": once, "csrf_token": csrf,
                "next": "/rooms/room-1/kiosk"}, allow_redirects=False) as response:
            assert response.status in (302, 303), await response.text()
        async with http.get(f"{site.base_url}/rooms/room-1/kiosk",
                            allow_redirects=False) as response:
            assert response.status == 302
            assert response.headers["Location"].startswith("/account/password")
        async with http.get(f"{site.base_url}/account/password") as response:
            page = await response.text()
        form_csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        async with http.post(f"{site.base_url}/account/password", data={
                "csrf_token": form_csrf, "current_password": once,
                "new_password": "kiosk-room-passphrase-42",
                "repeat_password": "kiosk-room-passphrase-42",
                "next": "/rooms/room-1/kiosk"}, allow_redirects=False) as response:
            assert response.status in (302, 303), await response.text()
        async with http.get(f"{site.base_url}/rooms/room-1/kiosk",
                            allow_redirects=False) as response:
            assert response.status == 200
    assert not app[ACCOUNTS].get(str(device)).must_change_password
