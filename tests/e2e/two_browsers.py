"""Two real Chromium browsers meet through a real Giao Ban server, on loopback only.

Run it inside a private network namespace, where 127.0.0.1 is the only address:

    unshare -n sh -c 'ip link set lo up; exec python tests/e2e/two_browsers.py --out DIR'

It writes a configuration, creates two accounts and a meeting with `python -m web.cli.main`,
starts `python -m web.cli.main serve`, then signs both browsers in, opens the meeting page
and presses Join. It checks, within a bounded time, what each browser really receives
(RTCPeerConnection.getStats of the subscribe connection) and shows, then mutes one
microphone and shares one screen, and leaves. With --rejoin, the secretary then joins
again and the minister must receive the new tracks. It prints a JSON result (also
written to DIR/result.json, next to screenshots and the server log) and exits 1 on
failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, ConsoleMessage, Page, Playwright, async_playwright

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream=fps=30",
    "--disable-features=WebRtcHideLocalIpsWithMdns", "--allow-loopback-in-peer-connection",
]
USERS = (
    ("minister", "Nguyễn Văn An", "leader", "an-secret-pass-1"),
    ("secretary", "Trần Thị Bình", "secretary", "binh-secret-pass-1"),
)

# What one page receives and shows, read in the browser.
PAGE_STATE = """async () => {
  const g = window.giaoban;
  const out = {
    phase: g ? g.state.phase : null,
    tiles: [...document.querySelectorAll('[data-testid="participant-tile"]')]
      .map((e) => e.dataset.participant).sort(),
    screens: [...document.querySelectorAll('[data-testid="screen-tile"]')]
      .map((e) => e.dataset.participant).sort(),
    micOff: [...document.querySelectorAll('[data-testid="participant-tile"]')]
      .filter((e) => !e.querySelector('[data-testid="mic-off-indicator"]').hidden)
      .map((e) => e.dataset.participant).sort(),
    inbound: [], pairs: [], consumers: {},
  };
  if (g && g.call) {
    for (const c of g.call.consumers.values()) {
      out.consumers[c.mid] = [c.username, c.kind, c.source];
    }
  }
  const pc = g && g.subscribePc;
  if (!pc) return out;
  const stats = await pc.getStats();
  const byId = new Map();
  stats.forEach((r) => byId.set(r.id, r));
  stats.forEach((r) => {
    if (r.type === "inbound-rtp") {
      out.inbound.push({
        kind: r.kind, mid: r.mid ?? null, packetsReceived: r.packetsReceived ?? 0,
        framesDecoded: r.framesDecoded ?? null, frameWidth: r.frameWidth ?? null,
        packetsLost: r.packetsLost ?? 0, jitter: r.jitter ?? null,
      });
    }
    if (r.type === "candidate-pair" && r.nominated && r.state === "succeeded") {
      const local = byId.get(r.localCandidateId) || {};
      const remote = byId.get(r.remoteCandidateId) || {};
      out.pairs.push([local.address ?? local.ip, remote.address ?? remote.ip]);
    }
  });
  return out;
}"""


@dataclass
class Browser:
    username: str
    context: BrowserContext
    page: Page
    problems: list[str] = field(default_factory=list)
    """Console errors, page errors, CSP refusals and requests leaving loopback."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(config: Path, *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-m", "web.cli.main", *args, "--config", str(config)],
        cwd=REPO, input=stdin, capture_output=True, text=True, timeout=60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"giaoban {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def prepare(work: Path, port: int) -> tuple[Path, str]:
    """Configuration, two accounts and a meeting that invites both; returns the meeting id."""
    config = work / "config.toml"
    config.write_text(
        f'data_dir = "{work / "data"}"\n'
        'log_level = "info"\n'
        "[http]\n"
        'host = "127.0.0.1"\n'
        f"port = {port}\n"
        "[sfu]\n"
        'announced_addresses = ["127.0.0.1"]\n'
        "workers = 1\n",
        encoding="utf-8",
    )
    for username, name, role, password in USERS:
        cli(config, "accounts", "create", "--username", username, "--display-name", name,
            "--role", role, "--password-stdin", stdin=password + "\n")
    meeting = json.loads(cli(config, "meetings", "create", "--title", "Giao ban tuần",
                             "--organizer", USERS[0][0], "--invite", USERS[1][0], "--json"))
    return config, str(meeting["id"])


def wait_healthy(base: str, server: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if json.load(response) == {"status": "ok"}:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not answer /healthz in time")


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


async def open_browser(pw: Playwright, work: Path, base: str, username: str) -> Browser:
    context = await pw.chromium.launch_persistent_context(
        str(work / f"profile-{username}"), executable_path=CHROMIUM, headless=False,
        args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 800},
    )
    page = context.pages[0] if context.pages else await context.new_page()
    browser = Browser(username, context, page)
    host = urlsplit(base).hostname

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            browser.problems.append(f"console: {message.text}")

    def on_request(url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != host:
            browser.problems.append(f"request outside loopback: {url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: browser.problems.append(f"page error: {error}"))
    page.on("request", lambda request: on_request(request.url))
    return browser


async def sign_in_and_join(browser: Browser, base: str, meeting_id: str, password: str) -> None:
    page = browser.page
    await page.goto(f"{base}/m/{meeting_id}")
    await page.wait_for_url(lambda url: urlsplit(url).path == "/login")
    await page.fill("input[name=username]", browser.username)
    await page.fill("input[name=password]", password)
    await page.click('[data-testid="login-button"]')
    await page.wait_for_url(lambda url: urlsplit(url).path == f"/m/{meeting_id}")
    await page.wait_for_function(
        "() => document.querySelector('#camera-select option')?.value !== ''", timeout=10_000
    )
    await page.click('[data-testid="join-button"]')


async def poll(pages: list[Browser], check: Any, within_s: float) -> tuple[bool, list[Any]]:
    """Read every page's state until `check(state)` holds for all of them, or time runs out."""
    deadline = time.monotonic() + within_s
    while True:
        states = [await b.page.evaluate(PAGE_STATE) for b in pages]
        if all(check(b, s) for b, s in zip(pages, states, strict=True)):
            return True, states
        if time.monotonic() > deadline:
            return False, states
        await asyncio.sleep(0.5)


def counters_from(state: dict[str, Any], username: str) -> dict[str, int]:
    """Frames decoded from `username`'s camera and audio packets received from them."""
    counts = {"camera_frames": 0, "audio_packets": 0}
    for r in state["inbound"]:
        owner = state["consumers"].get(r["mid"])
        if owner is None or owner[0] != username:
            continue
        if owner[2] == "camera":
            counts["camera_frames"] += r["framesDecoded"] or 0
        elif owner[1] == "audio":
            counts["audio_packets"] += r["packetsReceived"]
    return counts


async def still_receiving(browser: Browser, username: str, within_s: float) -> dict[str, Any]:
    """Whether `browser` keeps decoding `username`'s camera and receiving their audio."""
    before = counters_from(await browser.page.evaluate(PAGE_STATE), username)
    deadline = time.monotonic() + within_s
    while True:
        await asyncio.sleep(1.0)
        after = counters_from(await browser.page.evaluate(PAGE_STATE), username)
        grew = {k: after[k] - before[k] for k in after}
        if all(v > 0 for v in grew.values()) or time.monotonic() > deadline:
            return {"ok": all(v > 0 for v in grew.values()), "grew": grew}


def media_flows(state: dict[str, Any]) -> bool:
    video = [r for r in state["inbound"] if r["kind"] == "video" and (r["framesDecoded"] or 0) > 0]
    audio = [r for r in state["inbound"] if r["kind"] == "audio" and r["packetsReceived"] > 0]
    return bool(video) and bool(audio)


async def scenario(
    work: Path, base: str, meeting_id: str, media_s: float, rejoin: bool
) -> dict[str, Any]:
    result: dict[str, Any] = {"meeting_id": meeting_id, "checks": {}}
    checks = result["checks"]
    everyone = sorted(u[0] for u in USERS)
    async with async_playwright() as pw:
        browsers = [await open_browser(pw, work, base, u[0]) for u in USERS]
        try:
            await asyncio.gather(*(
                sign_in_and_join(b, base, meeting_id, u[3])
                for b, u in zip(browsers, USERS, strict=True)
            ))
            started = time.monotonic()
            ok, states = await poll(
                browsers, lambda b, s: media_flows(s) and s["tiles"] == everyone, media_s
            )
            checks["media_and_tiles"] = ok
            result["seconds_to_media"] = round(time.monotonic() - started, 1)
            result["joined"] = dict(zip((b.username for b in browsers), states, strict=True))
            checks["loopback_only"] = all(
                pair and all(a == "127.0.0.1" for a in pair)
                for s in states for pair in s["pairs"]
            ) and all(s["pairs"] for s in states)
            # Meetings are recorded by default: everyone sees the indicator.
            checks["recording_indicator_shown"] = all([
                await b.page.is_visible('[data-testid="recording-indicator"]') for b in browsers])
            minister, secretary = browsers
            for b, other in ((minister, secretary), (secretary, minister)):
                flow = await still_receiving(b, other.username, 10)
                checks[f"{b.username}_keeps_receiving"] = flow["ok"]
                result.setdefault("flow", {})[b.username] = flow["grew"]
                await b.page.screenshot(path=str(work / f"joined-{b.username}.png"))

            # The secretary mutes the microphone: the minister sees the indicator.
            await secretary.page.click('[data-testid="mic-button"]')
            ok, states = await poll(
                [minister], lambda b, s: s["micOff"] == [secretary.username], 10
            )
            checks["mute_shown"] = ok
            pressed = await secretary.page.get_attribute('[data-testid="mic-button"]',
                                                         "aria-pressed")
            checks["mute_button_pressed"] = pressed == "true"
            await secretary.page.click('[data-testid="mic-button"]')
            ok, states = await poll([minister], lambda b, s: s["micOff"] == [], 10)
            checks["unmute_shown"] = ok

            # The minister shares a screen: the secretary receives and shows it.
            await minister.page.click('[data-testid="screen-button"]')

            def sees_screen(b: Browser, s: dict[str, Any]) -> bool:
                frames = [r["framesDecoded"] or 0 for r in s["inbound"] if r["kind"] == "video"]
                return s["screens"] == [minister.username] and len(frames) >= 2 and min(frames) > 0

            ok, states = await poll([secretary], sees_screen, media_s)
            checks["screen_share_received"] = ok
            result["sharing"] = states[0]
            await secretary.page.screenshot(path=str(work / "screen-share.png"))
            await minister.page.click('[data-testid="screen-button"]')
            ok, _ = await poll([secretary], lambda b, s: s["screens"] == [], 10)
            checks["screen_share_stopped"] = ok

            # Leaving shows the panel; the other side loses the tile.
            await secretary.page.click('[data-testid="leave-button"]')
            ok, _ = await poll([minister], lambda b, s: s["tiles"] == [minister.username], 10)
            checks["leave_removes_tile"] = ok
            checks["left_panel_shown"] = await secretary.page.is_visible('[data-testid="ended"]')

            if rejoin:
                # Rejoining reuses the minister's subscribe m-lines for the new tracks.
                await secretary.page.click('[data-testid="rejoin-button"]')
                ok, _ = await poll(browsers, lambda b, s: s["tiles"] == everyone, media_s)
                checks["rejoin_tiles"] = ok
                flow = await still_receiving(minister, secretary.username, media_s)
                checks["rejoin_media_flows"] = flow["ok"]
                result["rejoin_flow"] = flow["grew"]
                result["rejoined"] = await minister.page.evaluate(PAGE_STATE)
                await minister.page.screenshot(path=str(work / "rejoined.png"))
        finally:
            result["problems"] = {b.username: b.problems for b in browsers}
            for b in browsers:
                await b.context.close()
    checks["no_page_problems"] = not any(result["problems"].values())
    return result


def run_meeting_scenario(description: str, prepare_meeting: Callable[[Path, int], tuple[Path, str]],
                         scenario: Callable[[Path, str, str, float],
                                            Awaitable[dict[str, Any]]],
                         timeout: float = 30.0) -> int:
    """The command line of a scenario in one prepared meeting: `--out` and `--timeout`,
    the server started with `prepare_meeting(work, port)`'s config, and
    `scenario(work, base, meeting, timeout)` run against it."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, required=True, help="directory for results and logs")
    parser.add_argument("--timeout", type=float, default=timeout,
                        help="seconds to wait for media")
    args = parser.parse_args()
    work: Path = args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)
    prepared: dict[str, str] = {}

    def prepare_server(port: int) -> Path:
        config, prepared["meeting"] = prepare_meeting(work, port)
        return config

    return serve_and_run(
        work, {"server_log": str(work / "server.log")}, prepare_server,
        lambda base, _: scenario(work, base, prepared["meeting"], args.timeout))


def serve_and_run(work: Path, result: dict[str, Any], prepare: Callable[[int], Path],
                  run: Callable[[str, Path], Awaitable[dict[str, Any]]]) -> int:
    """Start `giaoban serve` with the config `prepare(port)` writes, run the scenario
    `run(base, config)` against it, stop the server, and write `result.json` (with
    `ok`, the named checks and any error) into `work`. Returns the exit status."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    result.update({"ok": False, "base": base})
    server: subprocess.Popen[bytes] | None = None
    try:
        config = prepare(port)
        with open(work / "server.log", "wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "web.cli.main", "serve", "--config", str(config)],
                cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        wait_healthy(base, server)
        result.update(asyncio.run(run(base, config)))  # type: ignore[arg-type]
        result["ok"] = all(result["checks"].values())
        result["screenshots"] = sorted(str(p) for p in work.glob("*.png"))
    except Exception as exc:  # the JSON result must say what went wrong
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        if server is not None:
            stop(server)
    text = json.dumps(result, ensure_ascii=False, indent=2, default=str)
    (work / "result.json").write_text(text, encoding="utf-8")
    print(text)
    return 0 if result["ok"] else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for results and logs")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for media")
    parser.add_argument("--rejoin", action="store_true",
                        help="also leave, rejoin and check that media flows again")
    args = parser.parse_args()
    work: Path = args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)
    prepared: dict[str, str] = {}

    def prepare_server(port: int) -> Path:
        config, prepared["meeting"] = prepare(work, port)
        return config

    return serve_and_run(
        work, {"server_log": str(work / "server.log")}, prepare_server,
        lambda base, _: scenario(work, base, prepared["meeting"], args.timeout, args.rejoin))


if __name__ == "__main__":
    sys.exit(main())
