"""The chat on the record page and its exports: same access as the record, private
messages only for the hosts and their author, CSV safe against formulas, retention."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import aiohttp

from sfu.config import SfuSettings
from signaling.config import MeetingSettings
from signaling.store import to_db, utcnow
from tests.integration.conftest import StartSite, site_config, wait_until
from tests.integration.room.test_chat import chat_lines, joined_clients
from web.keys import CHAT, SESSIONS, STORE
from web.pages.record_chat import purge_chat

FORMULA = "=HYPERLINK(\"http://evil\")"


async def fetch(base: str, token: str, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession(cookies={"giaoban_session": token}) as http:
        async with http.get(base + path, allow_redirects=False) as response:
            return response.status, await response.text()


async def test_the_record_shows_and_exports_the_chat_to_those_who_may_see_it(
    tmp_path: Path, start_site: StartSite,
) -> None:
    site = await start_site(site_config(
        tmp_path, SfuSettings(announced_addresses=["127.0.0.1"], in_process=True),
        meetings=MeetingSettings(chat_retention_days=30)))
    meeting, clients = await joined_clients(site, ("chu-tri", "an", "binh"))
    host, an, _ = clients
    try:
        await an.send({"type": "chat", "text": FORMULA})
        await an.send({"type": "chat", "text": "<b>not bold</b>"})
        await an.send({"type": "chat", "text": "riêng cho chủ trì", "to": "hosts"})
        await wait_until(lambda: len(chat_lines(host)) == 3, 10, "three messages at the host")
    finally:
        for client in clients:
            await client.close()
    site.account("nguoi-ngoai")
    app = site.server.app
    tokens = {n: str(app[SESSIONS].create(n).token)
              for n in ("chu-tri", "an", "binh", "nguoi-ngoai")}
    page = f"/m/{meeting}/record"

    status, html = await fetch(site.base_url, tokens["chu-tri"], page)
    assert status == 200
    assert html.count('data-testid="chat-message"') == 3
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html and "<b>not bold</b>" not in html
    assert "riêng cho chủ trì" in html
    # The author sees their own private message; another invitee does not.
    status, html = await fetch(site.base_url, tokens["an"], page)
    assert status == 200 and html.count('data-testid="chat-message"') == 3
    status, html = await fetch(site.base_url, tokens["binh"], page)
    assert status == 200 and html.count('data-testid="chat-message"') == 2
    assert "riêng cho chủ trì" not in html

    status, text = await fetch(site.base_url, tokens["chu-tri"], page + "/chat.csv")
    assert status == 200
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["sent_at", "author", "author_name", "guest", "recipients", "text"]
    assert rows[1][1:] == ["an", "An", "no", "everyone", "'" + FORMULA]
    assert rows[3][4] == "hosts"
    status, text = await fetch(site.base_url, tokens["chu-tri"], page + "/chat.txt")
    assert status == 200 and "An (an): <b>not bold</b>" in text
    assert "[to the hosts]: riêng cho chủ trì" in text

    for path in (page, page + "/chat.csv", page + "/chat.txt"):
        status, body = await fetch(site.base_url, tokens["nguoi-ngoai"], path)
        assert status == 403 and "HYPERLINK" not in body, path

    # Retention: messages older than chat_retention_days go, the rest stay.
    with app[STORE].transaction() as db:
        db.execute("UPDATE chat_messages SET sent_at = ? WHERE body = ?",
                   (to_db(utcnow() - timedelta(days=31)), FORMULA))
    assert purge_chat(app) == 1
    assert [m.body for m in app[CHAT].store.for_meeting(meeting)] == [
        "<b>not bold</b>", "riêng cho chủ trì"]
