"""Deactivating an account or resetting its password ends its sessions and takes it
out of a live meeting within seconds: real server, real aiortc peers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import aiohttp

from signaling.accounts.accounts import AccountService
from signaling.store import Store
from tests.integration.client import MeetingClient
from tests.integration.conftest import Site, wait_until
from web.keys import ACCOUNTS, API_TOKENS, CONFIG, LIVE_MEETINGS, SESSIONS

REMOVAL_LIMIT_S = 3.0

Remove = Callable[[Site, str], Awaitable[None]]


async def meeting_with_media(site: Site) -> tuple[MeetingClient, MeetingClient]:
    """'lan' and 'minh' in one meeting, each receiving the other's video."""
    tokens = {name: site.account(name, "official") for name in ("lan", "minh")}
    meeting_id = site.meeting("minh", ["lan"])
    lan, minh = (site.client(name, tokens[name], i) for i, name in enumerate(("lan", "minh")))
    for client in (lan, minh):
        client.subscriber.expected_index.update({"lan": 0, "minh": 1})
        await client.connect()
        await client.join(meeting_id)
        await client.publish()

    def both_see_video() -> bool:
        return all(c.subscriber.video.get(o) is not None and c.subscriber.video[o].frames > 10
                   for c, o in ((lan, "minh"), (minh, "lan")))

    await wait_until(both_see_video, 20, "both peers to decode each other's video")
    return lan, minh


async def admin_session(site: Site) -> tuple[str, str]:
    site.account("quantri", "admin")
    session = site.server.app[SESSIONS].create("quantri")
    return str(session.token), session.csrf_token


async def deactivate_on_admin_page(site: Site, username: str) -> None:
    token, csrf = await admin_session(site)
    async with aiohttp.ClientSession(cookies={"giaoban_session": token}) as http:
        async with http.post(f"{site.base_url}/admin/accounts/{username}/active",
                             data={"csrf_token": csrf, "active": "0"},
                             allow_redirects=False) as response:
            assert response.status == 302, await response.text()


async def reset_password_with_the_api(site: Site, username: str) -> None:
    site.account("robot", "admin")
    _, secret = site.server.app[API_TOKENS].create("robot", "sync", "test")
    headers = {"Authorization": f"Bearer {secret}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(f"{site.base_url}/admin/accounts/{username}/password") as response:
            assert response.status == 200, await response.text()
            assert 'data-testid="one-time-password"' in await response.text()


async def deactivate_from_another_process(site: Site, username: str) -> None:
    """What `giaoban accounts deactivate` does: its own connection to the database."""
    config = site.server.app[CONFIG]
    other = Store.open(config.database_path)
    try:
        AccountService(other, config.licence.seats).set_active(username, False, "cli")
    finally:
        other.close()


async def check_removal(site: Site, remove: Remove) -> None:
    lan, minh = await meeting_with_media(site)
    old_token = lan.token
    try:
        started = time.monotonic()
        await remove(site, "lan")
        fatal = await lan.expect("error", timeout=REMOVAL_LIMIT_S)
        assert (fatal["code"], fatal["fatal"]) == ("session_expired", True)
        left = await minh.expect("participant_left", timeout=REMOVAL_LIMIT_S)
        assert left["username"] == "lan"
        assert lan._ws is not None
        await wait_until(lambda: lan._ws is not None and lan._ws.closed, REMOVAL_LIMIT_S,
                         "the server to close lan's socket")
        assert time.monotonic() - started < REMOVAL_LIMIT_S + 1
        assert "lan" not in site.server.app[LIVE_MEETINGS].live_usernames()
        # Lan's media is gone from minh's subscription, and minh's meeting goes on.
        await minh.expect("track_unpublished", timeout=REMOVAL_LIMIT_S)
        assert minh.errors == []
        frames = minh.subscriber.video["lan"].frames
        before = lan.subscriber.video["minh"].frames
        await asyncio.sleep(1)
        assert minh.subscriber.video["lan"].frames - frames <= 2, "lan's video still flows"
        assert lan.subscriber.video["minh"].frames - before <= 2, "lan still receives video"
        # The old session is over for pages too.
        async with aiohttp.ClientSession(cookies={"giaoban_session": old_token}) as http:
            async with http.get(f"{site.base_url}/meetings", allow_redirects=False) as page:
                assert page.status == 302
                assert page.headers["Location"].startswith("/login")
    finally:
        await lan.close()
        await minh.close()


async def test_deactivation_on_the_admin_page_removes_a_live_participant(site: Site) -> None:
    await check_removal(site, deactivate_on_admin_page)
    assert site.server.app[ACCOUNTS].get("lan").active is False


async def test_password_reset_by_api_token_removes_a_live_participant(site: Site) -> None:
    await check_removal(site, reset_password_with_the_api)
    assert site.server.app[ACCOUNTS].get("lan").must_change_password is True


async def test_deactivation_by_another_process_removes_a_live_participant(site: Site) -> None:
    await check_removal(site, deactivate_from_another_process)
