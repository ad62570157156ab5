"""A host and an outside guest in two real Chromium browsers, on loopback only.

The host signs in and joins; the guest opens a guest link (made with
`giaoban meetings guest-link --json`), types a name and unit, sees the camera preview,
asks to enter and waits in the lobby; the host admits them from the lobby list and the
guest sees and hears the host; the guest's chat message (with one link to this server
and one elsewhere) appears on the host's page; after the meeting the record page shows
the chat and the guest in the attendance. Run through tests/e2e/scenario.py; writes
result.json, screenshots and server.log into --out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright

from tests.e2e.two_browsers import (
    PAGE_STATE,
    Browser,
    cli,
    media_flows,
    open_browser,
    poll,
    serve_and_run,
    sign_in_and_join,
)

HOST = ("minister", "Nguyễn Văn An", "leader", "an-secret-pass-1")
GUEST_NAME, GUEST_UNIT = "Lê Thị Khách", "Sở Y tế"


def prepare(work: Path, port: int, found: dict[str, str]) -> Path:
    config = work / "config.toml"
    config.write_text(
        f'data_dir = "{work / "data"}"\nlog_level = "info"\n'
        f'[http]\nhost = "127.0.0.1"\nport = {port}\n'
        '[sfu]\nannounced_addresses = ["127.0.0.1"]\nworkers = 1\n'
        '[recording]\ndefault_policy = "off"\n', encoding="utf-8")
    username, name, role, password = HOST
    cli(config, "accounts", "create", "--username", username, "--display-name", name,
        "--role", role, "--password-stdin", stdin=password + "\n")
    meeting = json.loads(cli(config, "meetings", "create", "--title", "Giao ban tuần",
                             "--organizer", username, "--json"))
    found["meeting"] = str(meeting["id"])
    found["link"] = json.loads(cli(config, "meetings", "guest-link", found["meeting"],
                                   "--json"))["url"]
    return config


async def scenario(work: Path, base: str, meeting: str, link: str) -> dict[str, Any]:
    result: dict[str, Any] = {"meeting_id": meeting, "checks": {}}
    checks = result["checks"]
    async with async_playwright() as pw:
        host = await open_browser(pw, work, base, HOST[0])
        guest = await open_browser(pw, work, base, "guest")
        browsers: list[Browser] = [host, guest]
        try:
            await sign_in_and_join(host, base, meeting, HOST[3])
            ok, _ = await poll([host], lambda b, s: s["phase"] == "joined", 20)
            checks["host_joined"] = ok
            # A host may also make a link from the meeting page.
            await host.page.click('[data-testid="guest-link-button"]')
            await host.page.wait_for_selector('[data-testid="guest-link-url"]', state="visible")
            made = await host.page.input_value('[data-testid="guest-link-url"]')
            checks["host_makes_guest_link"] = made.startswith(f"{base}/g/gl_") and made != link

            page = guest.page
            await page.goto(link)
            await page.wait_for_function(
                "() => document.querySelector('#camera-select option')?.value !== ''",
                timeout=10_000)
            checks["guest_preview"] = await page.evaluate(
                "() => Boolean(document.getElementById('preview-video').srcObject)")
            await page.fill('[data-testid="guest-name-input"]', GUEST_NAME)
            await page.fill('[data-testid="guest-unit-input"]', GUEST_UNIT)
            await page.click('[data-testid="guest-request-button"]')
            await page.wait_for_selector('[data-testid="lobby-waiting"]', state="visible",
                                         timeout=15_000)
            checks["guest_waits_in_lobby"] = True
            await page.screenshot(path=str(work / "guest-waiting.png"))

            entry = host.page.locator('[data-testid="lobby-entry"]', has_text=GUEST_NAME)
            await entry.wait_for(state="visible", timeout=10_000)
            await host.page.screenshot(path=str(work / "host-knock.png"))
            started = time.monotonic()
            await entry.locator('[data-testid="lobby-admit"]').click()
            ok, states = await poll(
                [guest], lambda b, s: s["phase"] == "joined" and HOST[0] in s["tiles"]
                and media_flows(s), 30)
            checks["guest_admitted_sees_host"] = ok
            result["seconds_to_media"] = round(time.monotonic() - started, 1)
            result["guest_state"] = states[0]
            checks["waiting_screen_gone"] = not await page.is_visible(
                '[data-testid="lobby-waiting"]')
            ok, _ = await poll([host], lambda b, s: len(s["tiles"]) == 2, 15)
            checks["host_sees_guest_tile"] = ok
            await page.screenshot(path=str(work / "guest-joined.png"))

            await page.click('[data-testid="chat-button"]')
            text = f"Xin chào, tài liệu ở {base}/today và http://example.org/x"
            await page.fill('[data-testid="chat-input"]', text)
            await page.click('[data-testid="chat-send"]')
            line = host.page.locator(
                f'[data-testid="chat-message"][data-author="{GUEST_NAME}"]')
            await line.wait_for(state="attached", timeout=10_000)
            checks["chat_on_host_page"] = text in (await line.inner_text())
            links = await line.locator("a").evaluate_all("(a) => a.map((e) => e.href)")
            checks["only_own_links_clickable"] = links == [f"{base}/today"]
            markup = "<b>không in đậm</b>"
            await page.fill('[data-testid="chat-input"]', markup)
            await page.click('[data-testid="chat-send"]')
            shown = host.page.locator('[data-testid="chat-message"]', has_text=markup)
            await shown.wait_for(state="attached", timeout=10_000)
            checks["chat_shown_as_text"] = await shown.locator("b").count() == 0
            await host.page.click('[data-testid="chat-button"]')
            await host.page.screenshot(path=str(work / "host-chat.png"))

            for b in browsers:
                await b.page.click('[data-testid="leave-button"]')
            await host.page.goto(f"{base}/m/{meeting}/record")
            record = host.page.locator(
                f'[data-testid="record-chat"] [data-testid="chat-message"]'
                f'[data-author="{GUEST_NAME}"]')
            checks["record_shows_chat"] = await record.count() == 2
            guest_row = host.page.locator('[data-testid="attendance-row"][data-guest="1"]')
            checks["record_marks_guest"] = GUEST_NAME in await guest_row.inner_text()
            await host.page.screenshot(path=str(work / "record.png"), full_page=True)
            result["host_state"] = await host.page.evaluate(PAGE_STATE)
        finally:
            result["problems"] = {b.username: b.problems for b in browsers}
            for b in browsers:
                await b.context.close()
    checks["no_page_problems"] = not any(result["problems"].values())
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    work: Path = args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)
    found: dict[str, str] = {}
    return serve_and_run(
        work, {"server_log": str(work / "server.log")}, lambda port: prepare(work, port, found),
        lambda base, _: scenario(work, base, found["meeting"], found["link"]))


if __name__ == "__main__":
    sys.exit(main())
