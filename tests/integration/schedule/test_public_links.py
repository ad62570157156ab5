"""Links in invitations and issued feed addresses come from the configured address,
never from the request's Host header."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from sfu.config import SfuSettings
from signaling.config import Config, HttpSettings
from tests.integration.conftest import Site
from web.app import create_app
from web.keys import ACCOUNTS, MEETINGS, SESSIONS

FORGED = {"Host": "evil.example"}


async def links(base_url: str, server: TestServer) -> tuple[str, str]:
    """(the meeting .ics, the issued feed page) as a signed-in official, Host forged."""
    app = server.app
    app[ACCOUNTS].create("an", "An", "official", "password-123")
    meeting = app[MEETINGS].create("Giao ban", "an")
    session = app[SESSIONS].create("an")
    cookies = {"giaoban_session": str(session.token)}
    async with aiohttp.ClientSession(cookies=cookies) as http:
        async with http.get(f"{base_url}/meetings/{meeting.id}.ics", headers=FORGED) as r:
            assert r.status == 200
            ics = await r.text()
        async with http.post(f"{base_url}/calendar-feed", headers=FORGED,
                             data={"csrf_token": session.csrf_token, "action": "issue"}) as r:
            assert r.status == 200
            page = await r.text()
    return ics, page


async def test_links_use_the_configured_host_and_port(site: Site) -> None:
    ics, page = await links(site.base_url, site.server)
    assert "evil.example" not in ics and "evil.example" not in page
    assert "http://127.0.0.1:8080/m/" in ics
    assert "http://127.0.0.1:8080/feeds/" in page


async def test_links_use_the_public_url(tmp_path: Path) -> None:
    config = Config(data_dir=str(tmp_path / "data"),
                    http=HttpSettings(host="127.0.0.1", public_url="https://giaoban.bo.gov.vn/"),
                    sfu=SfuSettings(announced_addresses=["127.0.0.1"], in_process=True))
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    try:
        ics, page = await links(str(server.make_url("")).rstrip("/"), server)
    finally:
        await server.close()
    assert "evil.example" not in ics and "evil.example" not in page
    assert "https://giaoban.bo.gov.vn/m/" in ics
    assert "https://giaoban.bo.gov.vn/feeds/" in page
