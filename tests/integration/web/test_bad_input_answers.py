"""Inputs that used to reach a 500 or a traceback: each now gets a clear 4xx (or a typed
socket error) and at most a one-line log, on a real server."""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
import pytest

from tests.integration.conftest import Site
from web.keys import API_TOKENS, MEETINGS, SESSIONS


class Signed:
    def __init__(self, site: Site, username: str, role: str) -> None:
        token = site.account(username, role)
        self.csrf = site.server.app[SESSIONS].get(token).csrf_token
        self.base = site.base_url
        self.cookies = {"giaoban_session": token}

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, str]:
        async with aiohttp.ClientSession(cookies=self.cookies) as http:
            async with http.request(method, self.base + path, json=body,
                                    headers={"X-CSRF-Token": self.csrf},
                                    allow_redirects=False) as response:
                return response.status, await response.text()


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    noisy = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert noisy == [], [r.getMessage() for r in noisy]


async def test_every_bad_value_gets_a_4xx(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    clerk = Signed(site, "lan", "clerk")
    meeting = site.meeting("lan", [])
    cases: list[tuple[str, str, Any, int]] = [
        ("PATCH", f"/api/meetings/{meeting}", {"title": "x" * 60_000}, 400),
        ("PATCH", f"/api/meetings/{meeting}", {"title": "Giao ban\r\nX-Evil: 1"}, 400),
        ("POST", "/api/meetings", {"title": "Giao\u2028ban", "start": "2030-01-01T09:00",
                                   "end": "2030-01-01T10:00"}, 400),
        ("GET", "/api/bookings/99999999999999999999999", None, 400),
        ("GET", "/api/bookings/\u00b2", None, 400),
        ("POST", "/api/bookings", {"room_id": "room-1", "start": "0001-01-01T00:00",
                                   "end": "0001-01-01T01:00", "title": "A"}, 400),
        ("POST", "/api/bookings", {"room_id": "room-1", "start": "9999-12-31T22:00",
                                   "end": "9999-12-31T23:00", "title": "A"}, 400),
        ("POST", "/api/bookings", {"room_id": "room-1", "start": "2030-01-01T09:00",
                                   "end": "2030-01-01T10:00", "title": "A\nB"}, 400),
        ("GET", "/calendar?week=0001-01-01", None, 400),
        ("GET", "/calendar?week=9999-12-31", None, 400),
        ("POST", f"/m/{meeting}/record/jobs/99999999999999999999999/retry", None, 404),
    ]
    with caplog.at_level(logging.INFO):
        for method, path, body, expected in cases:
            status, text = await clerk.call(method, path, body)
            assert status == expected, (method, path, status, text[:300])
    assert site.server.app[MEETINGS].get(meeting).title == "Giao ban tuần"
    no_tracebacks(caplog)


async def test_display_names_are_one_line_of_visible_characters(site: Site) -> None:
    site.account("robot", "admin")
    _, secret = site.server.app[API_TOKENS].create("robot", "sync", "test")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {secret}"}) as http:
        for name in ("Nguyễn\r\nVăn A", "Trần\x07Thị B", "Lê\u202eC", "Phạm\tD"):
            async with http.post(f"{site.base_url}/api/accounts", json={
                    "username": "moi", "display_name": name, "role": "official"}) as response:
                assert response.status == 400, (name, await response.text())
        async with http.post(f"{site.base_url}/api/accounts", json={
                "username": "moi", "display_name": "Nguyễn Văn Mới", "role": "official"}) as r:
            assert r.status == 201, await r.text()
        async with http.patch(f"{site.base_url}/api/accounts/moi",
                              json={"display_name": "Mới\nX"}) as response:
            assert response.status == 400


async def test_a_deeply_nested_socket_message_is_a_typed_error(
    site: Site, caplog: pytest.LogCaptureFixture,
) -> None:
    token = site.account("lan", "official")
    with caplog.at_level(logging.INFO):
        async with aiohttp.ClientSession(cookies={"giaoban_session": token}) as http:
            async with http.ws_connect(site.base_url + "/ws") as ws:
                await ws.send_str(json.dumps({"type": "hello", "version": 1}))
                assert json.loads(await ws.receive_str(timeout=10))["type"] == "welcome"
                for _ in range(3):
                    await ws.send_str("[" * 100_000 + "]" * 100_000)
                    reply = json.loads(await ws.receive_str(timeout=10))
                    assert (reply["type"], reply["code"]) == ("error", "invalid_message"), reply
                await ws.send_str(json.dumps({"type": "hello", "version": 1}))
                assert json.loads(await ws.receive_str(timeout=10))["type"] == "welcome"
    no_tracebacks(caplog)
