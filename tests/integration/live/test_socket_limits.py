"""One connection cannot flood a meeting, and one account cannot hold unlimited sockets:
real server, real participants."""

from __future__ import annotations

import json

import aiohttp

from tests.integration.conftest import Site, wait_until
from web.socket_limits import MAX_SOCKETS_PER_ACCOUNT

FLOOD = 60


async def test_a_mute_flood_is_refused_and_not_passed_on(site: Site) -> None:
    tokens = {n: site.account(n) for n in ("lan", "minh")}
    meeting_id = site.meeting("minh", ["lan"])
    flooder, listener = site.client("lan", tokens["lan"], 0), site.client("minh", tokens["minh"], 1)
    try:
        for client in (listener, flooder):
            await client.connect()
            await client.join(meeting_id)
        for i in range(FLOOD):
            await flooder.send({"type": "mute", "kind": "audio", "muted": i % 2 == 0})
        await flooder.send({"type": "walk-marker"})  # answered after every mute
        await wait_until(lambda: any(e["code"] == "invalid_message" for e in flooder.errors),
                         20, "the marker's answer")
        refused = [e for e in flooder.errors if e["code"] == "too_many_requests"]
        assert refused and all(e["request"] == "mute" and not e["fatal"] for e in refused)
        def heard() -> int:
            return sum(m["type"] == "mute_changed" for m in listener.messages)

        await wait_until(lambda: heard() == FLOOD - len(refused), 20,
                         "every mute that was let through")
        assert heard() < FLOOD // 2, heard()
        assert listener.errors == []
    finally:
        await flooder.close()
        await listener.close()


async def test_an_account_holds_a_bounded_number_of_sockets(site: Site) -> None:
    token = site.account("lan")
    async with aiohttp.ClientSession(cookies={"giaoban_session": token}) as http:
        sockets = [await http.ws_connect(site.base_url + "/ws")
                   for _ in range(MAX_SOCKETS_PER_ACCOUNT)]
        for ws in sockets:
            await ws.send_str(json.dumps({"type": "hello", "version": 1}))
            assert json.loads(await ws.receive_str(timeout=10))["type"] == "welcome"
        extra = await http.ws_connect(site.base_url + "/ws")
        refused = json.loads(await extra.receive_str(timeout=10))
        assert (refused["code"], refused["fatal"], refused["extra"]["rule"]) == (
            "too_many_requests", True, "too_many_sockets"), refused
        msg = await extra.receive(timeout=10)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        await sockets.pop().close()
        # The server counts the closed one off; then a socket opens again.
        async def opens() -> bool:
            ws = await http.ws_connect(site.base_url + "/ws")
            await ws.send_str(json.dumps({"type": "hello", "version": 1}))
            reply = json.loads(await ws.receive_str(timeout=10))
            if reply["type"] == "welcome":
                sockets.append(ws)
                return True
            await ws.close()
            return False
        for _ in range(100):
            if await opens():
                break
        else:
            raise AssertionError("no socket opened after one was closed")
        for ws in sockets:
            await ws.close()
    other = site.account("minh")  # other accounts are not affected meanwhile
    async with aiohttp.ClientSession(cookies={"giaoban_session": other}) as http:
        async with http.ws_connect(site.base_url + "/ws") as ws:
            await ws.send_str(json.dumps({"type": "hello", "version": 1}))
            assert json.loads(await ws.receive_str(timeout=10))["type"] == "welcome"
