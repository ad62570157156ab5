"""Five real Chromium browsers in one meeting with two tiles a page.

Run it inside a private network namespace, where 127.0.0.1 is the only address:

    unshare -n sh -c 'ip link set lo up; exec python -m tests.e2e.tile_pages --out DIR'

Each page must show two video tiles, a pager and the other two people listed by name;
the browser's own getStats() must show frames decoded only for the two cameras shown,
and paging on must change which. It prints a JSON result (also written to
DIR/result.json, next to screenshots and the server log) and exits 1 on failure.
"""

from __future__ import annotations

import asyncio
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
    open_browser,
    run_meeting_scenario,
    sign_in_and_join,
)

USERS = [(f"leader{i}", f"Lãnh đạo {i}", "leader", f"leader-{i}-secret-pass") for i in range(5)]
PER_PAGE = 2

TILES = """() => ({
  shown: [...document.querySelectorAll('[data-testid="participant-tile"]')]
    .filter((e) => !e.hidden && !e.classList.contains('tile-local'))
    .map((e) => e.dataset.participant).sort(),
  pager: !document.querySelector('[data-testid="tile-pager"]').hidden,
  label: document.querySelector('[data-testid="page-label"]').textContent,
  others: [...document.querySelectorAll('[data-testid="other-person"]')].length,
})"""


def prepare(work: Path, port: int) -> tuple[Path, str]:
    config = work / "config.toml"
    config.write_text(
        f'data_dir = "{work / "data"}"\nlog_level = "info"\n'
        f'[http]\nhost = "127.0.0.1"\nport = {port}\n'
        '[sfu]\nannounced_addresses = ["127.0.0.1"]\nworkers = 1\n'
        f"[meetings]\ntiles_per_page = {PER_PAGE}\n", encoding="utf-8")
    for username, name, role, password in USERS:
        cli(config, "accounts", "create", "--username", username, "--display-name", name,
            "--role", role, "--password-stdin", stdin=password + "\n")
    meeting = json.loads(cli(config, "meetings", "create", "--title", "Giao ban tuần",
                             "--organizer", USERS[0][0],
                             *(a for u in USERS[1:] for a in ("--invite", u[0])), "--json"))
    return config, str(meeting["id"])


async def camera_frames(browser: Browser) -> dict[str, int]:
    """Frames the browser decoded from each participant's camera, by username."""
    state = await browser.page.evaluate(PAGE_STATE)
    frames: dict[str, int] = {}
    for r in state["inbound"]:
        owner = state["consumers"].get(r["mid"])
        if owner is not None and r["kind"] == "video" and owner[2] == "camera":
            frames[owner[0]] = frames.get(owner[0], 0) + (r["framesDecoded"] or 0)
    return frames


async def decoding(browser: Browser, within_s: float) -> dict[str, Any]:
    """Whose camera frames grow over a few seconds: exactly the ones shown, or not."""
    deadline = time.monotonic() + within_s
    while True:
        tiles = await browser.page.evaluate(TILES)
        before = await camera_frames(browser)
        await asyncio.sleep(3.0)
        after = await camera_frames(browser)
        grew = sorted(u for u, n in after.items() if n > before.get(u, 0))
        if (grew == tiles["shown"] and len(grew) == PER_PAGE) or time.monotonic() > deadline:
            return {"ok": grew == tiles["shown"] and len(grew) == PER_PAGE, "grew": grew,
                    "shown": tiles["shown"]}


async def until(browser: Browser, check: Any, within_s: float) -> tuple[bool, dict[str, Any]]:
    deadline = time.monotonic() + within_s
    while True:
        tiles = await browser.page.evaluate(TILES)
        if check(tiles) or time.monotonic() > deadline:
            return bool(check(tiles)), tiles
        await asyncio.sleep(0.5)


async def scenario(work: Path, base: str, meeting_id: str, media_s: float) -> dict[str, Any]:
    result: dict[str, Any] = {"meeting_id": meeting_id, "checks": {}}
    checks = result["checks"]

    def a_page(tiles: dict[str, Any]) -> bool:
        return (len(tiles["shown"]) == PER_PAGE and tiles["pager"]
                and tiles["others"] == len(USERS) - 1 - PER_PAGE)

    async with async_playwright() as pw:
        browsers = [await open_browser(pw, work, base, u[0]) for u in USERS]
        try:
            await asyncio.gather(*(sign_in_and_join(b, base, meeting_id, u[3])
                                   for b, u in zip(browsers, USERS, strict=True)))
            # Everyone mutes: the fake microphones' beeps would otherwise keep changing
            # the latest speakers, and with them the first page, while it is checked.
            for b in browsers:
                await b.page.wait_for_selector('[data-testid="mic-button"]', state="visible")
                await b.page.click('[data-testid="mic-button"]')
            pages = await asyncio.gather(*(until(b, a_page, media_s) for b in browsers))
            checks["two_tiles_pager_and_list"] = all(ok for ok, _ in pages)
            result["pages"] = {b.username: t for b, (_, t) in zip(browsers, pages, strict=True)}
            flows = await asyncio.gather(*(decoding(b, media_s) for b in browsers))
            checks["frames_only_for_shown"] = all(f["ok"] for f in flows)
            result["decoding"] = {b.username: f for b, f in zip(browsers, flows, strict=True)}
            await browsers[0].page.screenshot(path=str(work / "first-page.png"))

            pager = browsers[0]
            first = (await pager.page.evaluate(TILES))["shown"]
            await pager.page.click('[data-testid="page-next"]')
            ok, second = await until(pager, lambda t: len(t["shown"]) == PER_PAGE
                                     and not set(t["shown"]) & set(first), 10)
            checks["paging_shows_the_next_two"] = ok
            checks["page_label"] = second["label"] in ("Trang 2/2", "Page 2 of 2")
            flow = await decoding(pager, media_s)
            checks["paging_changes_what_is_decoded"] = flow["ok"] and flow["grew"] == second[
                "shown"]
            result["paged"] = flow
            await pager.page.screenshot(path=str(work / "second-page.png"))
        finally:
            result["problems"] = {b.username: b.problems for b in browsers}
            for b in browsers:
                await b.context.close()
    checks["no_page_problems"] = not any(result["problems"].values())
    return result


def main() -> int:
    return run_meeting_scenario(__doc__.splitlines()[0], prepare, scenario, timeout=40.0)


if __name__ == "__main__":
    sys.exit(main())
