"""The client's address on a real server: from a trusted proxy, the forwarded address
is the one the access log, /metrics' loopback rule and Secure cookies go by; from any
other peer, X-Forwarded-* headers change nothing."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from sfu.config import SfuSettings
from signaling.config import Config, HttpSettings
from web.access_log import ACCESS_LOGGER
from web.app import create_app

FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}


async def visit(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                trusted: list[str]) -> tuple[list[str], list[int], bool]:
    """Access log lines, /metrics statuses (forwarded, then not) and whether the
    forwarded /login response's cookie is Secure."""
    config = Config(data_dir=str(tmp_path / "data"),
                    http=HttpSettings(host="127.0.0.1", trusted_proxies=trusted),
                    sfu=SfuSettings(announced_addresses=["127.0.0.1"], in_process=True))
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server(access_log_class=ACCESS_LOGGER)
    statuses = []
    try:
        base = str(server.make_url("")).rstrip("/")
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            async with aiohttp.ClientSession() as http:
                async with http.get(base + "/login", headers=FORWARDED) as response:
                    secure = bool(response.cookies["giaoban_csrf"]["secure"])
                for headers in (FORWARDED, {}):
                    async with http.get(base + "/metrics", headers=headers) as response:
                        statuses.append(response.status)
        lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    finally:
        await server.close()
    return lines, statuses, secure


async def test_a_trusted_proxy_names_the_client(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    lines, statuses, secure = await visit(tmp_path, caplog, ["127.0.0.0/8"])
    assert [line.split(" ", 1)[0] for line in lines] == ["203.0.113.7"] * 2 + ["127.0.0.1"]
    assert statuses == [403, 200]  # /metrics answers this machine, not the proxy's clients
    assert secure


async def test_headers_from_an_untrusted_peer_change_nothing(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    lines, statuses, secure = await visit(tmp_path, caplog, ["10.0.0.0/8"])
    assert [line.split(" ", 1)[0] for line in lines] == ["127.0.0.1"] * 3
    assert statuses == [200, 200]
    assert not secure
