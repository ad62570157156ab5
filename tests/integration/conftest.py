"""A real Giao Ban server on 127.0.0.1 with real accounts, for integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer

from sfu.config import SfuSettings
from signaling.config import Config, HttpSettings
from tests.integration.client import MeetingClient
from tests.integration.peers import Publisher
from web.app import create_app
from web.keys import ACCOUNTS, MEETINGS, SESSIONS


@dataclass
class Site:
    server: TestServer
    base_url: str

    def account(self, username: str, role: str = "official") -> str:
        """Create an account and return a signed-in session token for it."""
        app = self.server.app
        app[ACCOUNTS].create(username, username.title(), role, "password-123")
        return str(app[SESSIONS].create(username).token)

    def meeting(self, organizer: str, invitees: list[str]) -> str:
        return str(self.server.app[MEETINGS].create("Giao ban tuần", organizer,
                                                    invitees=invitees).id)

    def client(self, username: str, token: str, index: int,
               publisher: Publisher | None = None) -> MeetingClient:
        return MeetingClient(self.base_url, token, username, index, publisher)


StartSite = Callable[[Config], Awaitable[Site]]


@pytest.fixture
def start_site(aiohttp_server: AiohttpServer) -> StartSite:
    """Serves `create_app(config)` on 127.0.0.1 until the test ends."""

    async def start(config: Config) -> Site:
        server = await aiohttp_server(create_app(config), host="127.0.0.1")
        return Site(server=server, base_url=str(server.make_url("")).rstrip("/"))

    return start


def site_config(tmp_path: Path, sfu: SfuSettings, **settings: Any) -> Config:
    """A server's configuration with its data under `tmp_path`, on 127.0.0.1."""
    return Config(data_dir=str(tmp_path / "data"), http=HttpSettings(host="127.0.0.1"),
                  sfu=sfu, **settings)


@pytest.fixture
async def site(tmp_path: Path, start_site: StartSite) -> Site:
    """The server with the SFU in its own process (the smallest set-up)."""
    return await start_site(site_config(
        tmp_path, SfuSettings(announced_addresses=["127.0.0.1"], in_process=True)))


@pytest.fixture
async def workers_site(tmp_path: Path, start_site: StartSite) -> Site:
    """The server with two SFU worker processes, as in production."""
    return await start_site(site_config(
        tmp_path, SfuSettings(announced_addresses=["127.0.0.1"], workers=2,
                              stats_interval_ms=500)))


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)
