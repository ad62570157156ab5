"""Four real Chromium browsers in one meeting, and how the meeting page uses the window.

Run it inside a private network namespace, as tests/e2e/two_browsers.py is:

    unshare -n sh -c 'ip link set lo up; exec python -m tests.e2e.meeting_layout --out DIR'

The minister (the host) joins first and is told when each other person joins; one of
them has no microphone (the browser may not use it), one raises a hand with the H key,
one shares a screen. On the minister's page, at 1366×768, 390×844 and 844×390, with and
without the chat and participant panels open and while the screen is shared, it checks
from the page's own boxes (getBoundingClientRect, elementFromPoint) that every tile's
caption (name, unit, mic badge, hand) is inside the window and on top, that neither the
toolbar, the bar nor a panel covers it, that no tiles overlap, that videos have a size
and that the tiles fill at least half the stage. The M key flips the microphone
button's aria-pressed (not while typing); a host's tile menu mutes someone. Screenshots
(layout-*.png, panels-*.png, share-*.png) go to DIR with result.json; exits 1 on failure.
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
    CHROMIUM,
    CHROMIUM_ARGS,
    Browser,
    cli,
    run_meeting_scenario,
    sign_in_and_join,
)

USERS = [
    ("minister", "Nguyễn Văn An", "leader", "an-secret-pass-1", "Văn phòng Bộ"),
    ("secretary", "Trần Thị Bình", "secretary", "binh-secret-pass-1", "Vụ Tổ chức cán bộ"),
    ("deputy", "Lê Văn Cường", "leader", "cuong-secret-pass-1", "Vụ Kế hoạch - Tài chính"),
    ("expert", "Phạm Thị Dung", "official", "dung-secret-pass-1", "Cục Công nghệ thông tin"),
]
NO_MIC = "expert"
SHARER = "deputy"
HAND = "secretary"
VIEWPORTS = [(1366, 768), (390, 844), (844, 390)]
PHONE_UPRIGHT_MAX = 600  # meeting.css: narrower, a side panel takes the screen

# Every box that matters on the page, and what is wrong with them.
LAYOUT = (Path(__file__).parent / "meeting_layout.js").read_text(encoding="utf-8")

# Everyone's camera shows on the host's page, the one without a microphone says so and
# the hand is up: the state the layout is judged in (waited for again at every size, as
# a peer the loaded machine drops comes back by itself).
EVERYONE = f"""() => [...document.querySelectorAll('[data-testid="participant-tile"]')]
  .filter((t) => t.classList.contains('has-video')).length === {len(USERS)}
  && document.querySelectorAll('[data-testid="no-mic-indicator"]:not([hidden])').length === 1
  && document.querySelector(
    '[data-participant="{HAND}"] [data-testid="hand-indicator"]')?.hidden === false"""
SCREEN = EVERYONE.replace("() =>", """() => document.querySelector(
  '[data-testid="screen-tile"] video')?.videoWidth > 0 &&""", 1)

# Notices come and go; the layout is judged without them (they are above the tiles).
DISMISS_NOTICES = "() => document.querySelectorAll('.toast-close').forEach((b) => b.click())"

# A panel as a phone shows it: the whole window, its close button on top.
PHONE_PANEL = """(id) => {
  const panel = document.getElementById(id);
  const close = panel.querySelector('.panel-close').getBoundingClientRect();
  const hit = document.elementFromPoint(close.left + close.width / 2, close.top + close.height / 2);
  const side = document.getElementById('side-panels').getBoundingClientRect();
  return { closeOnTop: Boolean(hit && hit.closest('.panel-close')),
           fullWindow: side.width >= innerWidth - 1 && side.height >= innerHeight - 1 };
}"""


def prepare(work: Path, port: int) -> tuple[Path, str]:
    """Configuration, four accounts with their units and a meeting the minister chairs."""
    config = work / "config.toml"
    config.write_text(
        f'data_dir = "{work / "data"}"\nlog_level = "info"\n[http]\nhost = "127.0.0.1"\n'
        f'port = {port}\n[sfu]\nannounced_addresses = ["127.0.0.1"]\nworkers = 1\n',
        encoding="utf-8")
    for username, name, role, password, unit in USERS:
        cli(config, "accounts", "create", "--username", username, "--display-name", name,
            "--role", role, "--unit", unit, "--password-stdin", stdin=password + "\n")
    meeting = json.loads(cli(config, "meetings", "create", "--title", "Giao ban tuần",
                             "--organizer", USERS[0][0], "--invite",
                             *(u[0] for u in USERS[1:]), "--json"))
    return config, str(meeting["id"])


async def open_browser(pw: Any, work: Path, username: str) -> Browser:
    """A browser with a fake camera and microphone; NO_MIC's may not use its microphone."""
    args = CHROMIUM_ARGS
    grant: dict[str, Any] = {}
    if username == NO_MIC:
        args = [a for a in CHROMIUM_ARGS if a != "--use-fake-ui-for-media-stream"]
        grant = {"permissions": ["camera"]}
    context = await pw.chromium.launch_persistent_context(
        str(work / f"profile-{username}"), executable_path=CHROMIUM, headless=False,
        args=args, viewport={"width": 1366, "height": 768}, **grant)
    page = context.pages[0] if context.pages else await context.new_page()
    browser = Browser(username, context, page)
    page.on("console", lambda m: browser.problems.append(f"console: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda error: browser.problems.append(f"page error: {error}"))
    return browser


async def join(browser: Browser, base: str, meeting_id: str, password: str) -> None:
    await sign_in_and_join(browser, base, meeting_id, password)
    await browser.page.wait_for_function(
        "() => document.getElementById('meeting-app').dataset.state === 'joined'", timeout=20_000)


async def settle(page: Any) -> None:
    """Let the stage lay itself out again (a resize, a panel, a new tile)."""
    await page.evaluate(
        "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    await page.wait_for_timeout(150)


async def phone_panels(page: Any, work: Path, size: str, result: dict[str, Any]) -> bool:
    """On a phone held upright, each panel in turn takes the window, its close button on top."""
    good = True
    for button, panel, close in (("chat-button", "chat-panel", "chat-close"),
                                 ("participants-button", "participants-panel",
                                  "participants-close")):
        await page.click(f'[data-testid="{button}"]')
        await settle(page)
        seen = await page.evaluate(PHONE_PANEL, panel)
        result["layouts"][f"{panel}-{size}"] = seen
        await page.screenshot(path=str(work / f"{panel}-{size}.png"))
        good = good and seen["closeOnTop"] and seen["fullWindow"]
        await page.click(f'[data-testid="{close}"]')
    return good


def layout_ok(seen: dict[str, Any], expect_unit: dict[str, str]) -> bool:
    if seen["problems"] or not seen["toolbarInside"] or seen["tiles"] < len(USERS):
        return False
    if seen["panelCoversToolbar"]:
        return False
    people = [c for c in seen["captions"] if c["who"].startswith("participant-tile")]
    of = {c["who"].split(":", 1)[1]: c for c in people}
    named = all(c["unit"] == expect_unit[name] and c["mic"] for name, c in of.items())
    badges = of[NO_MIC]["mic"] == "none" and of[HAND]["hand"]
    return named and badges and seen["stageShare"] >= 0.5


async def check_layout(host: Browser, work: Path, name: str, units: dict[str, str],
                       result: dict[str, Any], ready: str, *, panels: bool = False) -> bool:
    """Every viewport: the boxes as LAYOUT reads them once `ready`, and a screenshot."""
    ok = True
    page = host.page
    for width, height in VIEWPORTS:
        await page.set_viewport_size({"width": width, "height": height})
        await page.wait_for_function(ready, timeout=60_000)
        await page.evaluate(DISMISS_NOTICES)
        await settle(page)
        seen = await page.evaluate(LAYOUT)
        good = layout_ok(seen, units)
        result["layouts"][f"{name}-{width}x{height}"] = seen
        await page.screenshot(path=str(work / f"{name}-{width}x{height}.png"))
        if panels and width <= PHONE_UPRIGHT_MAX:
            good = good and await phone_panels(page, work, f"{width}x{height}", result)
        elif panels:
            await page.click('[data-testid="chat-button"]')
            await page.click('[data-testid="participants-button"]')
            await settle(page)
            opened = await page.evaluate(LAYOUT)
            result["layouts"][f"panels-{width}x{height}"] = opened
            await page.screenshot(path=str(work / f"panels-{width}x{height}.png"))
            stacked = sorted(opened["panels"]) == ["chat-panel", "participants-panel"]
            good = good and stacked and layout_ok(opened, units)
            await page.click('[data-testid="chat-close"]')
            await page.click('[data-testid="participants-close"]')
        result["checks"][f"{name}_{width}x{height}"] = good
        ok = ok and good
    await page.set_viewport_size({"width": 1366, "height": 768})
    return ok


async def scenario(work: Path, base: str, meeting_id: str, media_s: float) -> dict[str, Any]:
    result: dict[str, Any] = {"meeting_id": meeting_id, "checks": {}, "layouts": {}}
    checks = result["checks"]
    units = {u[0]: u[4] for u in USERS}
    async with async_playwright() as pw:
        browsers = [await open_browser(pw, work, u[0]) for u in USERS]
        host = browsers[0]
        by_name = {b.username: b for b in browsers}
        page = host.page
        started = time.monotonic()
        seconds = result["seconds"] = {}

        def mark(what: str) -> None:
            seconds[what] = round(time.monotonic() - started, 1)

        try:
            await join(host, base, meeting_id, USERS[0][3])
            await asyncio.gather(*(join(b, base, meeting_id, u[3])
                                   for b, u in zip(browsers[1:], USERS[1:], strict=True)))
            # A join notice on the host's page, in its language, for someone who joined.
            names = [u[1] for u in USERS[1:]]
            notices = await page.locator('[data-testid="toast"]').all_inner_texts()
            checks["join_notice"] = any(n in t and "đã tham gia" in t
                                        for t in notices for n in names)
            # The H key raises a hand, seen on the host's page with everyone's camera.
            await by_name[HAND].page.keyboard.press("h")
            await page.wait_for_function(EVERYONE, timeout=media_s * 1000)
            mark("joined")
            checks["layout"] = await check_layout(host, work, "layout", units, result, EVERYONE,
                                                  panels=True)
            mark("layout")
            # The sharer starts now; the screen is judged once it shows (below).
            await by_name[SHARER].page.click('[data-testid="screen-button"]')
            # The M key mutes and unmutes (aria-pressed), but not while typing in the chat.
            mic = page.locator('[data-testid="mic-button"]')
            await page.locator("body").click(position={"x": 5, "y": 5})
            await page.keyboard.press("m")
            muted = await mic.get_attribute("aria-pressed")
            await page.keyboard.press("m")
            unmuted = await mic.get_attribute("aria-pressed")
            await page.keyboard.press("c")
            typed_in = await page.evaluate("() => document.activeElement.id")
            await page.keyboard.type("m")
            while_typing = await mic.get_attribute("aria-pressed")
            await page.click('[data-testid="chat-close"]')
            checks["m_key_flips_mic"] = (muted, unmuted, typed_in, while_typing) == (
                "true", "false", "chat-input", "false")
            # A host's tile menu holds the participant list's controls.
            tile = page.locator(f'[data-testid="participant-tile"][data-participant="{HAND}"]')
            await tile.locator('[data-testid="tile-menu-button"]').click()
            menu = page.locator('[data-testid="tile-menu"]')
            held = sorted(set(await menu.locator("button").evaluate_all(
                "(bs) => bs.map((b) => b.dataset.testid)")))
            checks["tile_menu_controls"] = {"mute-participant", "stop-video-participant",
                                            "spotlight-participant", "remove-participant",
                                            "make-cohost"} <= set(held)
            result["tile_menu"] = held
            await menu.locator('[data-testid="mute-participant"]').click()
            await page.wait_for_function(
                f"""() => !document.querySelector(
                  '[data-participant="{HAND}"] [data-testid="mic-off-indicator"]').hidden""",
                timeout=10_000)
            checks["tile_menu_mutes"] = True
            mark("menu")
            # A shared screen takes the stage; the people go in a strip.
            await page.wait_for_function(SCREEN, timeout=media_s * 1000)
            mark("shared")
            checks["share"] = await check_layout(host, work, "share", units, result, SCREEN)
            checks["share_is_focus"] = all(v["layout"] == "focus"
                                           for k, v in result["layouts"].items()
                                           if k.startswith("share-"))
            mark("share")
        finally:
            result["problems"] = {b.username: b.problems for b in browsers}
            for b in browsers:
                await b.context.close()
    checks["no_page_problems"] = not any(
        p for b, ps in result["problems"].items() for p in ps
        if b != NO_MIC or "microphone" not in p)
    return result


def main() -> int:
    return run_meeting_scenario(__doc__.splitlines()[0], prepare, scenario)


if __name__ == "__main__":
    sys.exit(main())
