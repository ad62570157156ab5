"""Giao Ban behind Debian's real nginx, configured from configs/nginx.conf: a meeting
and the IT dashboard over wss through the proxy, sign-in throttling and the audit log
seeing each client's own address (and never a forged one), and a large CSV import."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sfu.config import SfuSettings
from signaling.config import Config, HttpSettings, LicenceSettings
from tests.integration.client import MeetingClient
from tests.integration.conftest import Site, StartSite, wait_until
from tests.integration.live.test_meeting_media import audio_from, frames_from, join_and_publish
from tests.integration.nginx import Nginx, free_port, nginx_in_front
from web.keys import ACCOUNTS, AUDIT, CONFIG, STORE

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def proxied(tmp_path: Path, start_site: StartSite) -> AsyncIterator[tuple[Site, Nginx]]:
    """A server trusting nginx on 127.0.0.1, and that nginx in front of it."""
    https_port = free_port()
    http = HttpSettings(host="127.0.0.1", trusted_proxies=["127.0.0.1"],
                        public_url=f"https://127.0.0.1:{https_port}")
    site = await start_site(Config(
        data_dir=str(tmp_path / "data"), http=http, licence=LicenceSettings(seats=10),
        sfu=SfuSettings(announced_addresses=["127.0.0.1"], in_process=True)))
    assert site.server.port is not None
    with nginx_in_front(tmp_path / "nginx", site.server.port, https_port) as nginx:
        yield site, nginx


def client_from(address: str, nginx: Nginx | None = None) -> aiohttp.ClientSession:
    """An HTTP client whose connections leave from `address` (any of 127.0.0.0/8)."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0),
                                     ssl=nginx.tls() if nginx else True)
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True))


async def sign_in(http: aiohttp.ClientSession, base: str, username: str, password: str,
                  headers: dict[str, str] | None = None) -> int:
    async with http.get(base + "/login", headers=headers) as response:
        match = CSRF_INPUT.search(await response.text())
    assert match, "no CSRF field on /login"
    async with http.post(base + "/login", allow_redirects=False, headers=headers, data={
            "csrf_token": match.group(1), "username": username, "password": password,
    }) as response:
        await response.read()
        return response.status


def failures(site: Site) -> dict[tuple[str, str], int]:
    rows = site.server.app[STORE].fetch_all("SELECT scope, key, failures FROM login_failures")
    return {(r["scope"], r["key"]): int(r["failures"]) for r in rows}


async def test_a_meeting_and_the_it_dashboard_over_wss_through_nginx(
        proxied: tuple[Site, Nginx]) -> None:
    site, nginx = proxied
    tokens = {name: site.account(name) for name in ("an", "binh")}
    meeting_id = site.meeting("an", ["binh"])
    clients = [MeetingClient(nginx.base_url, tokens[name], name, i, tls=nginx.tls(),
                             origin=nginx.base_url) for i, name in enumerate(tokens)]
    it_token = site.account("kythuat", "it")
    try:
        for c in clients:
            await join_and_publish(c, meeting_id)

        def both_decode() -> bool:
            return all(frames_from(c, o) >= 30 and audio_from(c, o) >= 30
                       for c in clients for o in tokens if o != c.username)

        await wait_until(both_decode, 30, "each peer to decode the other through the proxy")
        assert [c.errors for c in clients] == [[], []]
        async with aiohttp.ClientSession(cookies={"giaoban_session": it_token}) as http, \
                http.ws_connect(nginx.base_url + "/it/ws", ssl=nginx.tls(),
                                headers={"Origin": nginx.base_url}) as ws:
            snapshot = json.loads((await ws.receive(timeout=10)).data)
        assert snapshot.get("type") != "error", snapshot
        assert meeting_id in json.dumps(snapshot)
    finally:
        for c in clients:
            await c.close()
    log = nginx.access_log()
    assert log.count('"GET /ws HTTP/1.1" 101') == 2, log
    assert log.count('"GET /it/ws HTTP/1.1" 101') == 1, log


async def test_throttling_counts_each_forwarded_address_and_ignores_forged_ones(
        proxied: tuple[Site, Nginx]) -> None:
    site, nginx = proxied
    site.account("lan", "leader")
    limit = site.server.app[CONFIG].login.account_max_failures
    async with client_from("127.0.0.11", nginx) as guesser:
        statuses = [await sign_in(guesser, nginx.base_url, "lan", f"wrong-{i}")
                    for i in range(limit + 1)]
    assert statuses == [401] * limit + [429], statuses
    # The owner, on another PC behind the same proxy, is not locked out.
    async with client_from("127.0.0.12", nginx) as owner:
        assert await sign_in(owner, nginx.base_url, "lan", "password-123") == 302
    # A forged X-Forwarded-For through the proxy: the proxy appends the real peer.
    async with client_from("127.0.0.13", nginx) as forger:
        assert await sign_in(forger, nginx.base_url, "lan", "wrong",
                             headers={"X-Forwarded-For": "127.0.0.12"}) == 401
    # Sent straight to the server from a peer that is not a trusted proxy: ignored.
    async with client_from("127.0.0.14") as direct:
        assert await sign_in(direct, site.base_url, "lan", "wrong",
                             headers={"X-Forwarded-For": "127.0.0.12"}) == 401
    counted = failures(site)
    assert counted[("address", "127.0.0.11")] == limit
    assert counted[("pair", "lan\n127.0.0.11")] == limit
    assert counted[("address", "127.0.0.13")] == 1
    assert counted[("address", "127.0.0.14")] == 1
    assert not any(key.endswith("127.0.0.12") or key == "127.0.0.1"
                   for _, key in counted), counted


def big_csv(size: int) -> str:
    """A CSV of accounts of exactly `size` bytes of UTF-8 (under 2000 rows), with
    Vietnamese names; the last row's password pads it."""
    header = "username,display_name,role,password\n"
    rows = [header]
    used = len(header.encode())

    def row(i: int, pad: int) -> str:
        return f"canbo{i:04d},Nguyễn Thị Phương Thảo {i},official,mat-khau-{i}-{'x' * pad}\n"

    i = 0
    while used + 2 * len(row(i, 500).encode()) <= size:
        rows.append(row(i, 500))
        used += len(rows[-1].encode())
        i += 1
    rows.append(row(i, size - used - len(row(i, 0).encode())))
    text = "".join(rows)
    assert len(text.encode()) == size and len(rows) <= 2001
    return text


async def test_a_large_csv_import_goes_through_nginx_and_is_audited_with_its_address(
        proxied: tuple[Site, Nginx]) -> None:
    site, nginx = proxied
    site.account("quantri", "admin")
    limit = 1024 * 1024
    text = big_csv(limit)
    async with client_from("127.0.0.21", nginx) as admin:
        assert await sign_in(admin, nginx.base_url, "quantri", "password-123") == 302
        token = await csrf(admin, nginx.base_url + "/admin/import")
        form = aiohttp.FormData()
        form.add_field("csrf_token", token)
        form.add_field("file", text.encode(), filename="staff.csv", content_type="text/csv")
        body = form()
        assert body.size is not None and body.size > limit  # more than nginx's default
        async with admin.post(nginx.base_url + "/admin/import", data=body) as response:
            page = await response.text()
        assert response.status == 200, page[:500]
        last = text.rstrip("\n").rsplit("\n", 1)[1].split(",", 1)[0]
        assert f">{last}<" in page
        small = "username,display_name,role\nlan,Nguyễn Thị Lan,leader\nminh,Trần Minh,clerk\n"
        token = await csrf(admin, nginx.base_url + "/admin/import")
        async with admin.post(nginx.base_url + "/admin/import/apply",
                              data={"csrf_token": token, "csv": small}) as response:
            assert response.status == 201, await response.text()
        async with admin.get(nginx.base_url + "/admin/audit.csv") as response:
            exported = list(csv.DictReader(io.StringIO(await response.text())))
        async with admin.get(nginx.base_url + "/admin/audit?q=minh") as response:
            assert 'data-testid="audit-address">127.0.0.21<' in await response.text()
    assert {(r["action"], r["target"], r["address"]) for r in exported} >= {
        ("accounts.import", "csv", "127.0.0.21"), ("account.create", "minh", "127.0.0.21")}
    assert site.server.app[ACCOUNTS].find("minh") is not None
    entries = site.server.app[AUDIT].entries()
    assert {(e.action, e.target, e.address) for e in entries} == {
        ("account.create", "quantri", ""),  # made by the test itself, not over HTTP
        ("accounts.import", "csv", "127.0.0.21"),
        ("account.create", "lan", "127.0.0.21"), ("account.create", "minh", "127.0.0.21")}


async def csrf(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as response:
        match = CSRF_INPUT.search(await response.text())
    assert match, f"no CSRF field on {url}"
    return match.group(1)
