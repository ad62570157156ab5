"""Guests and the lobby in integration tests: a guest's pass, got as a browser gets it."""

from __future__ import annotations

from datetime import timedelta

import aiohttp

from signaling.store import utcnow
from tests.integration.client import MeetingClient
from tests.integration.conftest import Site
from web.keys import GUESTS

CSRF = "room-test-csrf"


def guest_link(site: Site, meeting: str, hours: float = 2) -> str:
    """A new guest link's token for the meeting."""
    _, token = site.server.app[GUESTS].create(meeting, utcnow() + timedelta(hours=hours),
                                              "test")
    return token


async def give_name(site: Site, token: str, name: str,
                    unit: str = "") -> tuple[int, dict[str, object], str | None]:
    """POST the guest page's form: (status, JSON body, the pass cookie if set)."""
    async with aiohttp.ClientSession(cookies={"giaoban_csrf": CSRF}) as http:
        async with http.post(f"{site.base_url}/api/guests/{token}",
                             data={"name": name, "unit": unit},
                             headers={"X-CSRF-Token": CSRF}) as response:
            body = await response.json(content_type=None)
            morsel = response.cookies.get("giaoban_guest")
            return response.status, body, morsel.value if morsel else None


async def guest_client(site: Site, token: str, name: str, index: int,
                       unit: str = "") -> MeetingClient:
    status, body, secret = await give_name(site, token, name, unit)
    assert status == 200 and secret, body
    client = MeetingClient(site.base_url, secret, str(body["username"]), index,
                           cookie="giaoban_guest")
    await client.connect()
    return client
