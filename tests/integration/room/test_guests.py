"""Guests through the real /ws: they get in with every licence seat taken, wait in the
lobby, are recorded by the name they gave; every bad guest token gets its clear error
and the meeting goes on."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from sfu.config import SfuSettings
from signaling.config import LicenceSettings, MeetingSettings
from signaling.errors import LicenceExhausted
from signaling.store import to_db, utcnow
from tests.integration.client import MeetingClient
from tests.integration.conftest import Site, StartSite, site_config, wait_until
from tests.integration.room.helpers import give_name, guest_client, guest_link
from web.keys import ACCOUNTS, ATTENDANCE, GUESTS, LIVE_MEETINGS, LOBBY, STORE


@pytest.fixture
async def full_site(tmp_path: Path, start_site: StartSite) -> Site:
    """Three licence seats, which the test fills."""
    return await start_site(site_config(
        tmp_path, SfuSettings(announced_addresses=["127.0.0.1"], in_process=True),
        licence=LicenceSettings(seats=3)))


async def test_with_every_seat_taken_a_guest_waits_is_admitted_and_recorded(
    full_site: Site,
) -> None:
    site = full_site
    app = site.server.app
    tokens = {n: site.account(n) for n in ("chu-tri", "an", "binh")}
    with pytest.raises(LicenceExhausted):
        site.account("mot-nguoi-nua")
    meeting = site.meeting("chu-tri", ["an", "binh"])
    host = site.client("chu-tri", tokens["chu-tri"], 0)
    guest: MeetingClient | None = None
    try:
        await host.connect()
        await host.join(meeting)
        mark = len(host.messages)
        guest = await guest_client(site, guest_link(site, meeting), "Trần Văn Khách", 1,
                                   unit="Sở Y tế")
        await guest.send({"type": "join", "meeting_id": meeting})
        waiting = await guest.expect("lobby_waiting")
        assert waiting["reason"] == "guest"
        knock = await host.expect("lobby", after=mark)
        assert knock["knocked"] == "Trần Văn Khách (Sở Y tế)"
        assert knock["entries"][0]["guest"] is True
        # A reload: the same pass on a new socket takes back the same place.
        await guest.close()
        guest = MeetingClient(site.base_url, guest.token, guest.username, 1,
                              cookie="giaoban_guest")
        await guest.connect()
        await guest.send({"type": "join", "meeting_id": meeting})
        assert (await guest.expect("lobby_waiting"))["entry_id"] == waiting["entry_id"]
        assert len(app[LOBBY].listing(meeting).entries) == 1
        await host.send({"type": "lobby_admit", "entry_id": waiting["entry_id"]})
        joined = await guest.expect("joined")
        assert "chu-tri" in {p["username"] for p in joined["participants"]}
        await guest.publish()

        await guest.send({"type": "chat", "text": "Xin chào"})
        line = (await host.expect("chat_message"))["message"]
        assert (line["author"], line["guest"]) == ("Trần Văn Khách", True)

        assert app[ACCOUNTS].count_active() == 3
        assert app[ACCOUNTS].find(guest.username) is None
        stays = [a for a in app[ATTENDANCE].for_meeting(meeting) if a.username == guest.username]
        assert len(stays) == 1 and stays[0].left_at is None
        assert app[ATTENDANCE].guest_names(meeting)[guest.username] == "Trần Văn Khách (Sở Y tế)"
    finally:
        await host.close()
        if guest is not None:
            await guest.close()


async def test_guests_may_go_straight_in_when_configured(tmp_path: Path,
                                                         start_site: StartSite) -> None:
    site = await start_site(site_config(
        tmp_path, SfuSettings(announced_addresses=["127.0.0.1"], in_process=True),
        meetings=MeetingSettings(guests_wait_in_lobby=False)))
    site.account("chu-tri")
    meeting = site.meeting("chu-tri", [])
    guest = await guest_client(site, guest_link(site, meeting), "Khách", 0)
    try:
        await guest.join(meeting)
    finally:
        await guest.close()


async def test_every_bad_guest_token_gets_its_clear_error_and_the_meeting_goes_on(
    site: Site,
) -> None:
    app = site.server.app
    tokens = {n: site.account(n) for n in ("chu-tri", "an")}
    meeting = site.meeting("chu-tri", ["an"])
    other = site.meeting("an", [])
    host, an = site.client("chu-tri", tokens["chu-tri"], 0), site.client("an", tokens["an"], 1)
    guests: list[MeetingClient] = []
    try:
        for client in (host, an):
            await client.connect()
            await client.join(meeting)

        # Guessed, expired, revoked: the page's form answers each with its reason.
        status, body, secret = await give_name(site, "gl_guessed-token", "Khách")
        assert (status, body["code"], body["rule"], secret) == (
            404, "guest_link_invalid", "unknown", None)
        expired = guest_link(site, meeting)
        link = app[GUESTS].open(expired)
        with app[STORE].transaction() as db:
            db.execute("UPDATE guest_links SET expires_at = ? WHERE id = ?",
                       (to_db(utcnow() - timedelta(minutes=1)), link.id))
        status, body, _ = await give_name(site, expired, "Khách")
        assert (status, body["rule"], body["detail"]) == (
            404, "expired", "This guest link has expired")
        revoked = guest_link(site, meeting)
        app[GUESTS].revoke(app[GUESTS].open(revoked).id)
        status, body, _ = await give_name(site, revoked, "Khách")
        assert (status, body["rule"]) == (404, "revoked")
        status, body, _ = await give_name(site, guest_link(site, meeting), "  ")
        assert (status, body["code"], body["rule"]) == (400, "bad_request", "guest_name")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{site.base_url}/g/{revoked}") as response:
                assert response.status == 404
                assert "Đường dẫn khách mời này đã bị thu hồi" in await response.text()

        # A pass for another meeting's link does not open this one.
        elsewhere = await guest_client(site, guest_link(site, other), "Khách lạc", 2)
        guests.append(elsewhere)
        await elsewhere.send({"type": "join", "meeting_id": meeting})
        error = await elsewhere.expect("error")
        assert (error["code"], error["extra"]["rule"], error["fatal"]) == (
            "forbidden", "other_meeting", False)
        assert len(app[LIVE_MEETINGS].live[meeting].participants) == 2

        # A guest in the meeting whose link is withdrawn is taken out (the removal hook),
        # and the link no longer works.
        token = guest_link(site, meeting)
        inside = await guest_client(site, token, "Khách mời", 3)
        guests.append(inside)
        await inside.send({"type": "join", "meeting_id": meeting})
        waiting = await inside.expect("lobby_waiting")
        await host.send({"type": "lobby_admit", "entry_id": waiting["entry_id"]})
        await inside.expect("joined")
        guest_id = inside.username.removeprefix("guest:")
        app[GUESTS].remove_guest(guest_id)
        ended = await inside.expect("error")
        assert (ended["code"], ended["fatal"]) == ("access_revoked", True)
        await wait_until(lambda: inside.username not in app[LIVE_MEETINGS].live_usernames(),
                         10, "the guest taken out")
        status, body, _ = await give_name(site, token, "Khách mời")
        assert (status, body["rule"]) == (404, "revoked")
        async with aiohttp.ClientSession(cookies={"giaoban_guest": inside.token}) as http:
            async with http.ws_connect(site.base_url + "/ws") as ws:
                first = await ws.receive_json(timeout=10)
                assert (first["code"], first["fatal"]) == ("guest_link_invalid", True)

        # The meeting went on for everyone else.
        await an.send({"type": "chat", "text": "vẫn họp"})
        assert (await host.expect("chat_message"))["message"]["text"] == "vẫn họp"
        assert host.errors == [] and an.errors == []
        assert {p.username for p in app[LIVE_MEETINGS].live[meeting].participants.values()} \
            == {"chu-tri", "an"}
    finally:
        for client in (host, an, *guests):
            await client.close()
