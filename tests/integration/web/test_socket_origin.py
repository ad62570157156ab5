"""The sockets answer only pages of this server: a page elsewhere (another port of the
same host, another site) that opens /ws or /it/ws with the victim's cookie is refused
before it learns anything."""

from __future__ import annotations

import json

import aiohttp
from yarl import URL

from tests.integration.conftest import Site

FOREIGN = ("http://127.0.0.1:1", "http://evil.example", "null", "https://127.0.0.1")


async def first_message(site: Site, path: str, token: str, origin: str | None) -> dict[str, object]:
    headers = {"Origin": origin} if origin is not None else {}
    async with aiohttp.ClientSession(cookies={"giaoban_session": token}) as http:
        async with http.ws_connect(site.base_url + path, headers=headers) as ws:
            if path == "/ws":
                await ws.send_str(json.dumps({"type": "hello", "version": 1}))
            reply: dict[str, object] = json.loads(await ws.receive_str(timeout=10))
            if reply.get("type") == "error":
                msg = await ws.receive(timeout=10)
                assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), msg
            return reply


async def test_a_page_of_another_origin_is_refused_on_both_sockets(site: Site) -> None:
    token = site.account("lan", "it")
    for path in ("/ws", "/it/ws"):
        for origin in FOREIGN:
            reply = await first_message(site, path, token, origin)
            assert (reply["type"], reply["code"], reply["fatal"]) == ("error", "forbidden", True), \
                (path, origin, reply)


async def test_the_servers_own_pages_are_answered(site: Site) -> None:
    token = site.account("lan", "it")
    own = URL(site.base_url)
    for origin in (None, site.base_url, f"https://{own.host}:{own.port}",
                   f"http://{own.host.upper() if own.host else ''}:{own.port}"):
        reply = await first_message(site, "/ws", token, origin)
        assert (reply["type"], reply["username"]) == ("welcome", "lan"), (origin, reply)
        reply = await first_message(site, "/it/ws", token, origin)
        assert reply.get("type") != "error", (origin, reply)
