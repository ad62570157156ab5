"""The IT dashboard watches two real Chromium browsers in one meeting, live.

Run it inside a private network namespace, like two_browsers.py:

    unshare -n sh -c 'ip link set lo up; exec python tests/e2e/it_dashboard.py --out DIR'

Two browsers (a leader and a secretary) sign in and join a meeting; a third browser,
signed in as IT staff, opens /it. It checks that the dashboard lists the live meeting
with both participants, that their figures (bitrate, packets) keep updating, that the
browsers' own getStats() reports are taken (frame rate, candidate type), that a
participant's drill-down draws charts, that the SFU worker is shown, and that the
meeting pages show a network-quality indicator on the tiles. Writes DIR/result.json
and exits 1 on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright

from tests.e2e.two_browsers import (
    USERS,
    Browser,
    cli,
    open_browser,
    serve_and_run,
    sign_in_and_join,
)

IT_USER = ("kythuat", "Lê Văn Kỹ", "it", "ky-thuat-pass-1")

DASHBOARD = """() => {
  const g = window.giaobanIt;
  const root = document.getElementById("it-app");
  const rows = [...document.querySelectorAll('[data-testid="it-participant"]')];
  return {
    updates: g ? g.updates : 0,
    state: root.dataset.state,
    meetings: [...document.querySelectorAll('[data-testid="it-meeting"]')]
      .map((m) => m.dataset.meetingId),
    participants: rows.map((r) => ({
      username: r.dataset.participant, state: r.dataset.state,
      streams: [...r.querySelectorAll('[data-testid="it-stream"]')].map((s) => ({
        key: s.dataset.stream, state: s.dataset.state,
        bitrate: s.querySelector('[data-field="bitrate"]').textContent,
      })),
    })),
    workers: [...document.querySelectorAll('[data-testid="it-worker"]')]
      .map((w) => w.dataset.alive),
    workerChart: Boolean(document.querySelector('#it-worker-chart canvas')),
    detailShown: !document.getElementById("it-detail").hidden,
    detailCharts: document.querySelectorAll('#it-detail-charts [data-testid="it-chart"] canvas')
      .length,
    snapshot: g ? g.last : null,
  };
}"""

TILES = """() => [...document.querySelectorAll('[data-testid="participant-tile"]')].map((t) => {
  const q = t.querySelector('[data-testid="quality-indicator"]');
  return [t.dataset.participant, q && !q.hidden ? q.dataset.state : null];
})"""


def prepare(work: Path, port: int) -> tuple[Path, str]:
    config = work / "config.toml"
    config.write_text(
        f'data_dir = "{work / "data"}"\n'
        'log_level = "info"\n'
        "[http]\n"
        'host = "127.0.0.1"\n'
        f"port = {port}\n"
        "[sfu]\n"
        'announced_addresses = ["127.0.0.1"]\n'
        "workers = 1\n"
        "stats_interval_ms = 1000\n"
        "[quality]\n"
        "dashboard_interval_ms = 1000\n",
        encoding="utf-8",
    )
    for username, name, role, password in (*USERS, IT_USER):
        cli(config, "accounts", "create", "--username", username, "--display-name", name,
            "--role", role, "--password-stdin", stdin=password + "\n")
    meeting = json.loads(cli(config, "meetings", "create", "--title", "Giao ban tuần",
                             "--organizer", USERS[0][0], "--invite", USERS[1][0], "--json"))
    return config, str(meeting["id"])


async def sign_in(browser: Browser, base: str, path: str, password: str) -> None:
    page = browser.page
    await page.goto(f"{base}/login?next={path}")
    await page.fill("input[name=username]", browser.username)
    await page.fill("input[name=password]", password)
    await page.click('[data-testid="login-button"]')
    await page.wait_for_url(f"{base}{path}")


async def until(read: Any, check: Any, within_s: float) -> tuple[bool, Any]:
    deadline = time.monotonic() + within_s
    while True:
        value = await read()
        if check(value):
            return True, value
        if time.monotonic() > deadline:
            return False, value
        await asyncio.sleep(0.5)


def figures(state: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(p["username"], s["key"]): s["bitrate"]
            for p in state["participants"] for s in p["streams"]}


def both_flowing(state: dict[str, Any], everyone: list[str]) -> bool:
    people = sorted(p["username"] for p in state["participants"])
    if people != everyone:
        return False
    for p in state["participants"]:
        keys = {s["key"] for s in p["streams"]}
        if not {"up:microphone", "up:camera", "down:audio", "down:video"} <= keys:
            return False
        if any(s["bitrate"] in ("–", "0") for s in p["streams"]):
            return False
    return True


async def scenario(work: Path, base: str, meeting_id: str, media_s: float) -> dict[str, Any]:
    result: dict[str, Any] = {"meeting_id": meeting_id, "checks": {}}
    checks = result["checks"]
    everyone = sorted(u[0] for u in USERS)
    async with async_playwright() as pw:
        browsers = [await open_browser(pw, work, base, u[0]) for u in USERS]
        it = await open_browser(pw, work, base, IT_USER[0])
        try:
            await sign_in(it, base, "/it", IT_USER[3])
            await asyncio.gather(*(sign_in_and_join(b, base, meeting_id, u[3])
                                   for b, u in zip(browsers, USERS, strict=True)))

            async def dashboard() -> dict[str, Any]:
                return dict(await it.page.evaluate(DASHBOARD))

            ok, state = await until(dashboard, lambda s: s["meetings"] == [meeting_id]
                                    and both_flowing(s, everyone), media_s)
            checks["meeting_and_participants_listed"] = ok
            result["first"] = {k: v for k, v in state.items() if k != "snapshot"}
            before_updates, before = state["updates"], figures(state)
            await it.page.screenshot(path=str(work / "it-dashboard.png"), full_page=True)

            ok, later = await until(dashboard, lambda s: s["updates"] >= before_updates + 3
                                    and figures(s) != before and both_flowing(s, everyone), 15)
            checks["figures_update"] = ok
            result["later"] = {k: v for k, v in later.items() if k != "snapshot"}
            checks["worker_shown"] = later["workers"] == ["true"] and later["workerChart"]

            # The browsers' own reports arrive and are taken: frame rate and candidate type.
            def reported(s: dict[str, Any]) -> bool:
                snap = s["snapshot"] or {}
                people = [p for m in snap.get("meetings", []) for p in m["participants"]]
                cameras = [st for p in people for st in p["streams"] if st["key"] == "up:camera"]
                return (snap.get("reports", {}).get("accepted", 0) >= 2
                        and len(people) == 2
                        and all(p["candidate"] and p["candidate"]["local_type"] == "host"
                                for p in people)
                        and len(cameras) == 2 and all(c["fps"] for c in cameras))

            ok, state = await until(dashboard, reported, 20)
            checks["browser_reports_taken"] = ok
            snap = state["snapshot"] or {}
            result["reports"] = snap.get("reports")
            checks["no_report_dropped"] = bool(snap) and snap["reports"]["dropped"] == {
                "malformed": 0, "oversized": 0, "too_frequent": 0, "not_joined": 0}

            # Drill-down: the minister's recent figures, drawn as charts.
            minister = USERS[0][0]
            row = it.page.locator(f'[data-testid="it-participant"][data-participant="{minister}"]')
            await row.locator('[data-testid="it-details"]').click()
            ok, state = await until(dashboard, lambda s: s["detailShown"]
                                    and s["detailCharts"] >= 4, 10)
            checks["drill_down_charts"] = ok
            await it.page.screenshot(path=str(work / "it-detail.png"), full_page=True)

            # The meeting pages show everyone's network quality on the tiles.
            for b in browsers:
                async def tiles(b: Browser = b) -> list[list[Any]]:
                    return list(await b.page.evaluate(TILES))

                ok, shown = await until(tiles, lambda ts: len(ts) == 2 and all(
                    state in ("good", "warning", "poor") for _, state in ts), 15)
                checks[f"{b.username}_tile_indicators"] = ok
                result.setdefault("tiles", {})[b.username] = shown
        finally:
            result["problems"] = {b.username: b.problems for b in (*browsers, it)}
            for b in (*browsers, it):
                await b.context.close()
    checks["no_page_problems"] = not any(result["problems"].values())
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    work: Path = args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)
    prepared: dict[str, str] = {}

    def prepare_server(port: int) -> Path:
        config, prepared["meeting"] = prepare(work, port)
        return config

    return serve_and_run(work, {}, prepare_server,
                         lambda base, _: scenario(work, base, prepared["meeting"], args.timeout))


if __name__ == "__main__":
    sys.exit(main())
