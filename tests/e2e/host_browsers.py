"""A host and a participant run a meeting in two real Chromium browsers, on loopback.

Run it inside a private network namespace, as tests/e2e/two_browsers.py is:

    unshare -n sh -c 'ip link set lo up; exec python -m tests.e2e.host_browsers --out DIR'

The minister organizes the meeting, so chairs it; the secretary (no leader assigned)
takes part. The secretary raises a hand and it shows in the minister's hand queue; the
minister mutes the secretary, whose page shows it and whose mic button stays off; the
minister puts the secretary in the spotlight, shown large on both pages. It prints a
JSON result (also DIR/result.json, with screenshots and the server log) and exits 1 on
failure.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright

from tests.e2e.two_browsers import (
    USERS,
    Browser,
    media_flows,
    open_browser,
    poll,
    prepare,
    run_meeting_scenario,
    sign_in_and_join,
)

# The spotlight as a page shows it: which tile, and how wide each tile is.
SPOTLIGHT = """() => [...document.querySelectorAll('[data-testid="participant-tile"]')]
.map((e) => ({
  participant: e.dataset.participant, spotlight: e.dataset.spotlight === "true",
  width: e.getBoundingClientRect().width,
}))"""


def entry(username: str, control: str) -> str:
    return (f'[data-testid="participant-entry"][data-username="{username}"] '
            f'[data-testid="{control}"]')


async def spotlight_on(browser: Browser, username: str) -> bool:
    tiles = await browser.page.evaluate(SPOTLIGHT)
    lit = [t for t in tiles if t["spotlight"]]
    others = [t["width"] for t in tiles if not t["spotlight"]]
    return (len(lit) == 1 and lit[0]["participant"] == username and bool(others)
            and lit[0]["width"] > max(others) * 1.3)


async def scenario(work: Path, base: str, meeting_id: str, media_s: float) -> dict[str, Any]:
    result: dict[str, Any] = {"meeting_id": meeting_id, "checks": {}}
    checks = result["checks"]
    everyone = sorted(u[0] for u in USERS)
    async with async_playwright() as pw:
        browsers = [await open_browser(pw, work, base, u[0]) for u in USERS]
        minister, secretary = browsers
        try:
            await asyncio.gather(*(sign_in_and_join(b, base, meeting_id, u[3])
                                   for b, u in zip(browsers, USERS, strict=True)))
            started = time.monotonic()
            ok, _ = await poll(browsers, lambda b, s: media_flows(s) and s["tiles"] == everyone,
                               media_s)
            checks["media_and_tiles"] = ok
            result["seconds_to_media"] = round(time.monotonic() - started, 1)
            host_tools = minister.page.locator('[data-testid="mute-all-button"]')
            checks["host_sees_host_tools"] = await host_tools.count() == 1
            await secretary.page.click('[data-testid="participants-button"]')
            checks["participant_has_no_host_tools"] = not await secretary.page.is_visible(
                '[data-testid="mute-all-button"]') and await secretary.page.locator(
                entry("minister", "mute-participant")).count() == 0

            # A raised hand reaches the host's queue, with the name.
            await secretary.page.click('[data-testid="raise-hand-button"]')
            await minister.page.click('[data-testid="participants-button"]')
            queue = minister.page.locator('[data-testid="hand-queue"] [data-testid="hand-entry"]')
            await queue.first.wait_for(timeout=10_000)
            checks["hand_in_host_queue"] = (await queue.count() == 1
                                            and USERS[1][1] in await queue.first.inner_text())
            checks["hand_button_pressed"] = await secretary.page.get_attribute(
                '[data-testid="raise-hand-button"]', "aria-pressed") == "true"
            await minister.page.screenshot(path=str(work / "hand-queue.png"))

            # The host mutes the participant: their page shows it and the mic stays off.
            await minister.page.click(entry("secretary", "mute-participant"))
            await secretary.page.wait_for_function(
                "() => document.querySelector('[data-testid=\"mic-button\"]')"
                ".getAttribute('aria-pressed') === 'true'", timeout=10_000)
            toasts = await secretary.page.locator('[data-testid="toast"]').all_inner_texts()
            checks["participant_told_muted"] = any(USERS[0][1] in t for t in toasts)
            ok, _ = await poll([minister], lambda b, s: s["micOff"] == ["secretary"], 10)
            checks["host_sees_participant_muted"] = ok
            await secretary.page.click('[data-testid="mic-button"]')
            checks["participant_cannot_unmute"] = await secretary.page.get_attribute(
                '[data-testid="mic-button"]', "aria-pressed") == "true"
            await secretary.page.screenshot(path=str(work / "muted-by-host.png"))

            # Spotlight: the participant's tile is large on both pages.
            await minister.page.click(entry("secretary", "spotlight-participant"))
            for b in browsers:
                await b.page.click('[data-testid="participants-close"]')
            ok = False
            for _ in range(20):
                if all([await spotlight_on(b, "secretary") for b in browsers]):
                    ok = True
                    break
                await minister.page.wait_for_timeout(500)
            checks["spotlight_large_on_both"] = ok
            result["seconds_in_meeting"] = round(time.monotonic() - started, 1)
            result["spotlight"] = {b.username: await b.page.evaluate(SPOTLIGHT) for b in browsers}
            for b in browsers:
                await b.page.screenshot(path=str(work / f"spotlight-{b.username}.png"))
        finally:
            result["problems"] = {b.username: b.problems for b in browsers}
            for b in browsers:
                await b.context.close()
    checks["no_page_problems"] = not any(result["problems"].values())
    return result


def main() -> int:
    return run_meeting_scenario(__doc__.splitlines()[0], prepare, scenario)


if __name__ == "__main__":
    sys.exit(main())
