"""Losing the right to attend takes a person out of a live meeting within seconds, as
deactivation does: being uninvited, or a new role that does not join. Real server, real
aiortc peers."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.integration.conftest import Site, wait_until
from tests.integration.live.test_account_removal import REMOVAL_LIMIT_S, Remove, meeting_with_media
from web.keys import API_TOKENS, LIVE_MEETINGS, SESSIONS


async def uninvite_on_the_api(site: Site, username: str) -> None:
    """The organizer ('minh') takes `username` off the invitees."""
    session = site.server.app[SESSIONS].create("minh")
    meeting = next(iter(site.server.app[LIVE_MEETINGS].live))
    async with aiohttp.ClientSession(cookies={"giaoban_session": str(session.token)}) as http:
        async with http.patch(f"{site.base_url}/api/meetings/{meeting}", json={"invitees": []},
                              headers={"X-CSRF-Token": session.csrf_token}) as response:
            assert response.status == 200, await response.text()


async def make_it_staff(site: Site, username: str) -> None:
    site.account("robot", "admin")
    _, secret = site.server.app[API_TOKENS].create("robot", "sync", "test")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {secret}"}) as http:
        async with http.patch(f"{site.base_url}/api/accounts/{username}",
                              json={"role": "it"}) as response:
            assert response.status == 200, await response.text()


async def check_removed(site: Site, remove: Remove) -> None:
    lan, minh = await meeting_with_media(site)
    try:
        await remove(site, "lan")
        fatal = await lan.expect("error", timeout=REMOVAL_LIMIT_S)
        assert (fatal["code"], fatal["fatal"]) == ("access_revoked", True), fatal
        left = await minh.expect("participant_left", timeout=REMOVAL_LIMIT_S)
        assert left["username"] == "lan"
        await wait_until(lambda: lan._ws is not None and lan._ws.closed, REMOVAL_LIMIT_S,
                         "the server to close lan's socket")
        assert site.server.app[LIVE_MEETINGS].live_usernames() == {"minh"}
        await minh.expect("track_unpublished", timeout=REMOVAL_LIMIT_S)
        before = lan.subscriber.video["minh"].frames
        await asyncio.sleep(1)
        assert lan.subscriber.video["minh"].frames - before <= 2, "lan still receives video"
        assert minh.errors == []
    finally:
        await lan.close()
        await minh.close()


async def test_an_uninvited_participant_is_removed(site: Site) -> None:
    await check_removed(site, uninvite_on_the_api)


async def test_a_participant_whose_role_no_longer_joins_is_removed(site: Site) -> None:
    await check_removed(site, make_it_staff)
