"""With `[sfu] turn_secret`, a joining page gets TURN credentials of its own, and the
secret is in no page, script, API answer or socket message."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import aiohttp

from sfu.config import IceServer, SfuSettings
from tests.integration.conftest import Site, StartSite, site_config

SECRET = "turn-secret-5e0c2b9a"
LIFETIME = 1800
TURN = IceServer(urls=["turn:127.0.0.1:3478?transport=udp"])
STATIC = IceServer(urls=["turn:127.0.0.1:3479"], username="giaoban", credential="fixed")
PAGES = ("/", "/today", "/it", "/admin/accounts", "/api/accounts", "/healthz",
         "/static/js/call.js", "/static/js/meeting.js", "/static/js/protocol.js")


async def start(tmp_path: Path, start_site: StartSite) -> Site:
    return await start_site(site_config(tmp_path, SfuSettings(
        announced_addresses=["127.0.0.1"], in_process=True, ice_servers=[TURN, STATIC],
        turn_secret=SECRET, turn_credential_seconds=LIFETIME)))


async def test_each_join_gets_its_own_turn_credentials(tmp_path: Path,
                                                       start_site: StartSite) -> None:
    site = await start(tmp_path, start_site)
    tokens = {"an": site.account("an", "admin"), "binh": site.account("binh")}
    meeting_id = site.meeting("an", ["binh"])
    clients = [site.client(name, token, i) for i, (name, token) in enumerate(tokens.items())]
    try:
        for client in clients:
            await client.connect()
            before = int(time.time())
            joined = await client.join(meeting_id)
            after = int(time.time())
            turn, static = joined["ice_servers"]
            assert turn["urls"] == TURN.urls
            expiry, _, who = turn["username"].partition(":")
            assert who == client.username
            assert before + LIFETIME <= int(expiry) <= after + LIFETIME
            digest = hmac.new(SECRET.encode(), turn["username"].encode(), hashlib.sha1).digest()
            assert base64.b64decode(turn["credential"]) == digest
            assert static == {"urls": STATIC.urls, "username": "giaoban", "credential": "fixed"}
        async with aiohttp.ClientSession(cookies={"giaoban_session": tokens["an"]}) as http:
            for path in (*PAGES, f"/m/{meeting_id}"):
                async with http.get(site.base_url + path) as answer:
                    assert answer.status == 200, path
                    assert SECRET not in await answer.text(), path
        for client in clients:
            assert client.messages and SECRET not in json.dumps(client.messages)
    finally:
        for client in clients:
            await client.close()
