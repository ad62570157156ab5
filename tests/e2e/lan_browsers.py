"""A leader's PC and the server on two hosts of a LAN, each its own network namespace.

Run it inside a private network namespace (the server's host); it creates a second one
(the leader's PC), joins them with a veth pair (server 10.77.0.1, PC 10.77.0.2), starts
`giaoban serve` on 10.77.0.1 and runs Chromium inside the PC's namespace:

    unshare -n sh -c 'ip link set lo up; exec python tests/e2e/lan_browsers.py --out DIR --tls'

With --tls the server serves HTTPS with a certificate written by `giaoban tls
self-signed`, and Chromium trusts exactly that certificate by its key pin
(--ignore-certificate-errors-spki-list); two users join, and each must decode the
other's video and receive their audio over the veth pair, with every request of each
browser going to the server's origin, and a browser pinning another key is refused.
Without --tls the page is plain HTTP on a LAN address, which is not a secure context:
the meeting page must say so, in Vietnamese and in English (and the sign-in page warns
first), and joining to watch and listen must still work. Writes DIR/result.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Playwright, async_playwright

from tests.e2e.two_browsers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO,
    USERS,
    Browser,
    cli,
    counters_from,
    media_flows,
    poll,
    prepare,
    stop,
)
from web.cli.tls import new_key
from web.tls import spki_pin

SERVER_ADDRESS = "10.77.0.1"
PC_ADDRESS = "10.77.0.2"
PORT = 8443


def run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=30)


def make_pc_namespace(work: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """A process holding the PC's network namespace, wired to this one by a veth pair;
    returns it and a Chromium launcher that runs inside that namespace."""
    holder = subprocess.Popen(["unshare", "-n", "sleep", "3600"])
    own = os.readlink("/proc/self/ns/net")
    deadline = time.monotonic() + 10
    while os.readlink(f"/proc/{holder.pid}/ns/net") == own:
        if time.monotonic() > deadline:
            raise RuntimeError("the PC's network namespace was not created")
        time.sleep(0.05)
    run("ip", "link", "add", "gbsrv", "type", "veth", "peer", "name", "gbpc")
    run("ip", "link", "set", "gbpc", "netns", str(holder.pid))
    run("ip", "addr", "add", f"{SERVER_ADDRESS}/24", "dev", "gbsrv")
    run("ip", "link", "set", "gbsrv", "up")
    inside = ("nsenter", "-t", str(holder.pid), "-n")
    run(*inside, "ip", "link", "set", "lo", "up")
    run(*inside, "ip", "addr", "add", f"{PC_ADDRESS}/24", "dev", "gbpc")
    run(*inside, "ip", "link", "set", "gbpc", "up")
    launcher = work / "chromium-on-the-pc.sh"
    launcher.write_text(f'#!/bin/sh\nexec nsenter -t {holder.pid} -n {CHROMIUM} "$@"\n',
                        encoding="utf-8")
    launcher.chmod(0o755)
    return holder, launcher


def configure(work: Path, tls: bool) -> tuple[Path, str, str]:
    """Accounts, a meeting and a configuration serving on the veth address; returns the
    configuration, the meeting id and the key pin ('' without TLS)."""
    config, meeting_id = prepare(work, PORT)
    text = config.read_text(encoding="utf-8").replace('host = "127.0.0.1"',
                                                      f'host = "{SERVER_ADDRESS}"')
    text = text.replace('announced_addresses = ["127.0.0.1"]',
                        f'announced_addresses = ["{SERVER_ADDRESS}"]')
    pin = ""
    if tls:
        printed = cli(config, "tls", "self-signed", "--host", SERVER_ADDRESS,
                      "--out", str(work / "tls"))
        pin = printed.split("--ignore-certificate-errors-spki-list=", 1)[1].split()[0]
        text = text.replace("[sfu]\n", f'tls_certificate = "{work / "tls" / "giaoban.crt"}"\n'
                            f'tls_private_key = "{work / "tls" / "giaoban.key"}"\n[sfu]\n')
    config.write_text(text, encoding="utf-8")
    return config, meeting_id, pin


def wait_healthy(base: str, server: subprocess.Popen[bytes], cafile: Path | None) -> None:
    context = ssl.create_default_context(cafile=str(cafile)) if cafile else None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2, context=context) as answer:
                if json.load(answer) == {"status": "ok"}:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not answer /healthz in time")


async def open_pc_browser(pw: Playwright, work: Path, launcher: Path, username: str,
                          extra: list[str], requests: list[str]) -> Browser:
    context = await pw.chromium.launch_persistent_context(
        str(work / f"profile-{username}"), executable_path=str(launcher), headless=False,
        args=[*CHROMIUM_ARGS, *extra], viewport={"width": 1280, "height": 800},
    )
    page = context.pages[0] if context.pages else await context.new_page()
    browser = Browser(username, context, page)
    page.on("console", lambda m: browser.problems.append(f"console: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda error: browser.problems.append(f"page error: {error}"))
    page.on("request", lambda request: requests.append(request.url))
    page.on("websocket", lambda socket: requests.append(socket.url))
    return browser


async def sign_in(browser: Browser, base: str, meeting_id: str, password: str) -> str | None:
    """Sign in on the way to the meeting page; returns the sign-in page's insecure-address
    notice as shown (None when hidden)."""
    page = browser.page
    await page.goto(f"{base}/m/{meeting_id}")
    await page.wait_for_url(lambda url: urlsplit(url).path == "/login")
    await page.wait_for_load_state("load")
    notice = page.locator('[data-testid="insecure-context"]')
    shown = await notice.inner_text() if await notice.is_visible() else None
    await page.fill("input[name=username]", browser.username)
    await page.fill("input[name=password]", password)
    await page.click('[data-testid="login-button"]')
    await page.wait_for_url(lambda url: urlsplit(url).path == f"/m/{meeting_id}")
    return shown


def off_origin(requests: list[str], base: str) -> list[str]:
    origin = urlsplit(base)
    socket_scheme = "wss" if origin.scheme == "https" else "ws"
    return [url for url in requests
            if urlsplit(url).scheme in ("http", "https", "ws", "wss")
            and (urlsplit(url).netloc != origin.netloc
                 or urlsplit(url).scheme not in (origin.scheme, socket_scheme))]


async def meet_over_tls(work: Path, launcher: Path, base: str, meeting_id: str,
                        pin: str) -> dict[str, Any]:
    result: dict[str, Any] = {"checks": {}}
    checks = result["checks"]
    requests: dict[str, list[str]] = {u[0]: [] for u in USERS}
    extra = [f"--ignore-certificate-errors-spki-list={pin}"]
    async with async_playwright() as pw:
        browsers = [await open_pc_browser(pw, work, launcher, u[0], extra, requests[u[0]])
                    for u in USERS]
        try:
            for browser, user in zip(browsers, USERS, strict=True):
                notice = await sign_in(browser, base, meeting_id, user[3])
                checks[f"{browser.username}_no_insecure_notice"] = notice is None
                checks[f"{browser.username}_secure_context"] = await browser.page.evaluate(
                    "() => window.isSecureContext && Boolean(navigator.mediaDevices)")
                await browser.page.wait_for_function(
                    "() => document.querySelector('#camera-select option')?.value !== ''",
                    timeout=15_000)
                await browser.page.click('[data-testid="join-button"]')
            everyone = sorted(u[0] for u in USERS)

            def both_ways(b: Browser, s: dict[str, Any]) -> bool:
                other = next(u[0] for u in USERS if u[0] != b.username)
                counts = counters_from(s, other)
                return (media_flows(s) and s["tiles"] == everyone
                        and counts["camera_frames"] > 0 and counts["audio_packets"] > 0)

            ok, states = await poll(browsers, both_ways, 45)
            checks["each_decodes_the_other"] = ok
            result["joined"] = dict(zip((b.username for b in browsers), states, strict=True))
            checks["veth_pair_selected"] = all(s["pairs"] for s in states) and all(
                sorted(pair) == [SERVER_ADDRESS, PC_ADDRESS] for s in states for pair in s["pairs"])
            for b in browsers:
                await b.page.screenshot(path=str(work / f"tls-{b.username}.png"))
            # Only that certificate is trusted: a browser pinning another key is refused.
            wrong = [f"--ignore-certificate-errors-spki-list={spki_pin(new_key().public_key())}"]
            stranger = await open_pc_browser(pw, work, launcher, "stranger", wrong, [])
            try:
                await stranger.page.goto(f"{base}/login")
                result["other_pin"] = "page loaded"
            except PlaywrightError as exc:
                result["other_pin"] = str(exc).splitlines()[0]
            finally:
                await stranger.context.close()
            checks["another_pin_is_refused"] = "ERR_CERT" in result["other_pin"]
        finally:
            result["problems"] = {b.username: b.problems for b in browsers}
            for b in browsers:
                await b.context.close()
    result["requests"] = requests
    checks["every_request_to_the_origin"] = all(
        reqs and not off_origin(reqs, base) for reqs in requests.values())
    checks["websocket_is_wss"] = all(
        any(url.startswith(f"wss://{SERVER_ADDRESS}:{PORT}/") for url in reqs)
        for reqs in requests.values())
    checks["no_page_problems"] = not any(result["problems"].values())
    return result


async def plain_http_page(work: Path, launcher: Path, base: str,
                          meeting_id: str) -> dict[str, Any]:
    result: dict[str, Any] = {"checks": {}}
    checks = result["checks"]
    requests: list[str] = []
    catalogs = {lang: json.loads((REPO / "web" / "locales" / f"{lang}.json").read_text("utf-8"))
                for lang in ("vi", "en")}
    async with async_playwright() as pw:
        username, _name, _role, password = USERS[1]
        browser = await open_pc_browser(pw, work, launcher, username, [], requests)
        try:
            notice = await sign_in(browser, base, meeting_id, password)
            result["sign_in_notice"] = notice
            checks["sign_in_notice_vi"] = (notice or "").strip() == catalogs["vi"][
                "login.insecure_context"]
            checks["not_a_secure_context"] = await browser.page.evaluate(
                "() => !window.isSecureContext && !navigator.mediaDevices")
            for lang in ("vi", "en"):
                if lang == "en":
                    await browser.page.goto(f"{base}/m/{meeting_id}?lang=en")
                message = browser.page.locator('[data-testid="device-message"]')
                await message.wait_for(state="visible", timeout=15_000)
                shown = await message.inner_text()
                expected = catalogs[lang]["js.insecure_context"].replace("{address}", base)
                result[f"message_{lang}"] = shown
                checks[f"message_{lang}"] = shown.strip() == expected
            await browser.page.screenshot(path=str(work / "plain-http.png"))
            await browser.page.click('[data-testid="join-button"]')
            await browser.page.wait_for_function(
                "() => window.giaoban.state.phase === 'joined'", timeout=20_000)
            checks["joins_to_watch_and_listen"] = True
        finally:
            result["problems"] = {username: browser.problems}
            await browser.context.close()
    result["requests"] = requests
    checks["every_request_to_the_origin"] = bool(requests) and not off_origin(requests, base)
    checks["no_page_problems"] = not browser.problems
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for results and logs")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS and meet over it")
    args = parser.parse_args()
    work: Path = args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)
    base = f"{'https' if args.tls else 'http'}://{SERVER_ADDRESS}:{PORT}"
    result: dict[str, Any] = {"ok": False, "base": base, "server_log": str(work / "server.log")}
    server: subprocess.Popen[bytes] | None = None
    holder: subprocess.Popen[bytes] | None = None
    try:
        holder, launcher = make_pc_namespace(work)
        config, meeting_id, pin = configure(work, args.tls)
        with open(work / "server.log", "wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "web.cli.main", "serve", "--config", str(config)],
                cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        wait_healthy(base, server, work / "tls" / "giaoban.crt" if args.tls else None)
        scenario = (meet_over_tls(work, launcher, base, meeting_id, pin) if args.tls
                    else plain_http_page(work, launcher, base, meeting_id))
        result.update(asyncio.run(scenario))
        result["ok"] = all(result["checks"].values())
    except Exception as exc:  # the JSON result must say what went wrong
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        if server is not None:
            stop(server)
        if holder is not None:
            holder.kill()
            holder.wait()
    text = json.dumps(result, ensure_ascii=False, indent=2, default=str)
    (work / "result.json").write_text(text, encoding="utf-8")
    print(text)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
