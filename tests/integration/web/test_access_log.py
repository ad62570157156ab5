"""The access log of a real server keeps no feed secret, and no response names the web
framework's version in its Server header."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from sfu.config import SfuSettings
from signaling.config import Config, HttpSettings
from tests.integration.conftest import Site
from web.access_log import ACCESS_LOGGER
from web.app import create_app
from web.keys import ACCOUNTS, FEEDS


async def test_the_feed_secret_stays_out_of_the_access_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    config = Config(data_dir=str(tmp_path / "data"), http=HttpSettings(host="127.0.0.1"),
                    sfu=SfuSettings(announced_addresses=["127.0.0.1"], in_process=True))
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server(access_log_class=ACCESS_LOGGER)
    try:
        server.app[ACCOUNTS].create("an", "An", "official", "password-123")
        token = server.app[FEEDS].issue("an")
        base = str(server.make_url("")).rstrip("/")
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            async with aiohttp.ClientSession() as http:
                for path in (f"/feeds/{token}.ics", "/feeds/not-a-token.ics"):
                    async with http.get(base + path,
                                        headers={"Referer": base + path}) as response:
                        await response.read()
        lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    finally:
        await server.close()
    assert len(lines) == 2, lines
    assert all("/feeds/[redacted].ics" in line for line in lines), lines
    assert not any(token in line or "not-a-token" in line for line in lines), lines


async def test_no_response_names_the_framework(site: Site) -> None:
    token = site.account("an", "official")
    async with aiohttp.ClientSession(cookies={"giaoban_session": token}) as http:
        for path in ("/", "/login", "/meetings", "/static/css/app.css", "/no-such-page",
                     "/api/meetings/none"):
            async with http.get(site.base_url + path, allow_redirects=False) as response:
                assert response.headers.get("Server") == "Giao Ban", (path, response.headers)
        async with http.ws_connect(site.base_url + "/ws") as ws:
            assert ws._response.headers.get("Server") == "Giao Ban"
