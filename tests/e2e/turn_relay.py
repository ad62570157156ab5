"""Leaders whose PC can reach the web server and a TURN relay, but not the SFU's media
address, still see and hear each other: through Debian's real coturn.

Run it inside a private network namespace (the server's host):

    unshare -n sh -c 'ip link set lo up; exec python -m tests.e2e.turn_relay --out DIR'

The PC's namespace is the one of tests/e2e/lan_browsers.py (a veth pair: server
10.77.0.1, PC 10.77.0.2). The server's host also has a second interface, 10.78.0.1,
which the SFU announces and binds; the PC has no route to it, so no UDP or TCP packet of
the PC can reach the SFU (checked from inside the PC's namespace). HTTPS on 10.77.0.1
and coturn on 10.77.0.1:3478 (its own configuration, ports and log here) are all the PC
can reach. The server hands each page TURN credentials made from `[sfu] turn_secret`,
the same value as coturn's `static-auth-secret`.

Two leaders join from that PC: each must decode the other's video and receive their
audio, over a selected candidate pair whose local candidate is a `relay` one, and
coturn's log must show an allocation for each account; the secret must be in no
response, socket frame, command line or log line. Then both leave, coturn is started
again with another secret, and both rejoin (each join brings new credentials): the pages
get no media, and each says, in its language (one page is in Vietnamese, the other in
English), that the audio and video connection was lost. Writes DIR/result.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from playwright.async_api import Page, Response, WebSocket, async_playwright

from tests.e2e.lan_browsers import (
    PORT,
    SERVER_ADDRESS,
    configure,
    make_pc_namespace,
    open_pc_browser,
    run,
    sign_in,
    wait_healthy,
)
from tests.e2e.two_browsers import (
    PAGE_STATE,
    REPO,
    USERS,
    Browser,
    counters_from,
    media_flows,
    poll,
    stop,
)

MEDIA_ADDRESS = "10.78.0.1"
"""The SFU's only address: on the server's host, unreachable from the PC."""
MEDIA_PORTS = "40000-40049"
TURN_PORT = 3478
RELAY_PORTS = (49160, 49199)

# The selected pair and the state of each of the page's two connections.
CONNECTIONS = """async () => {
  const g = window.giaoban;
  const out = {};
  for (const role of ["publish", "subscribe"]) {
    const pc = g && g[role + "Pc"];
    if (!pc) continue;
    const stats = await pc.getStats();
    const byId = new Map();
    stats.forEach((r) => byId.set(r.id, r));
    let pair = null;
    stats.forEach((r) => {
      if (r.type === "transport" && r.selectedCandidatePairId) {
        pair = byId.get(r.selectedCandidatePairId);
      }
    });
    const local = pair ? byId.get(pair.localCandidateId) || {} : {};
    const remote = pair ? byId.get(pair.remoteCandidateId) || {} : {};
    out[role] = {
      state: pc.connectionState, pairState: pair ? pair.state : null,
      local: [local.candidateType ?? null, local.address ?? null, local.relayProtocol ?? null],
      remote: [remote.candidateType ?? null, remote.address ?? null, remote.port ?? null],
    };
  }
  return out;
}"""

# Every text the status banner shows, kept from the moment the page has loaded.
KEEP_BANNERS = """() => {
  window.bannersShown = [];
  const banner = document.querySelector('[data-testid="banner"]');
  new MutationObserver(() => {
    if (!banner.hidden) window.bannersShown.push(banner.textContent);
  }).observe(banner, { childList: true, characterData: true, subtree: true, attributes: true });
}"""


def add_media_interface() -> None:
    """A second interface on the server's host carrying the SFU's address."""
    run("ip", "link", "add", "gbmedia", "type", "veth", "peer", "name", "gbmedia-end")
    run("ip", "addr", "add", f"{MEDIA_ADDRESS}/24", "dev", "gbmedia")
    run("ip", "link", "set", "gbmedia", "up")
    run("ip", "link", "set", "gbmedia-end", "up")


REACH = """
import errno, json, socket, sys
out = {}
for kind, port in (("udp", int(sys.argv[2])), ("tcp", int(sys.argv[3]))):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect((sys.argv[1], port)); s.send(b"x"); out[kind] = "sent"
    except OSError as exc:
        out[kind] = errno.errorcode.get(exc.errno, str(exc))
print(json.dumps(out))
"""


def reach_from_pc(holder: subprocess.Popen[bytes], address: str) -> dict[str, str]:
    """What a UDP datagram to the first media port and a TCP connection to the web port,
    from the PC to `address`, come to."""
    ports = (MEDIA_PORTS.split("-")[0], str(PORT))
    done = subprocess.run(["nsenter", "-t", str(holder.pid), "-n", sys.executable, "-c", REACH,
                           address, *ports], capture_output=True, text=True, timeout=20,
                          check=True)
    outcome: dict[str, str] = json.loads(done.stdout)
    return outcome


def start_coturn(work: Path, name: str, secret: str) -> subprocess.Popen[bytes]:
    """Debian's coturn on the server's host, with the TURN REST scheme and `secret`."""
    conf = work / f"{name}.conf"
    conf.write_text("\n".join([
        f"listening-ip={SERVER_ADDRESS}", f"listening-port={TURN_PORT}",
        f"relay-ip={SERVER_ADDRESS}", f"min-port={RELAY_PORTS[0]}", f"max-port={RELAY_PORTS[1]}",
        "realm=giaoban.test", "use-auth-secret", f"static-auth-secret={secret}",
        "fingerprint", "no-tls", "no-dtls", "no-cli", "verbose", "simple-log",
        # As README's example: relay to the media server only.
        "denied-peer-ip=0.0.0.0-255.255.255.255", f"allowed-peer-ip={MEDIA_ADDRESS}",
        f"log-file={work / f'{name}.log'}", f"pidfile={work / f'{name}.pid'}",
        f"userdb={work / f'{name}.sqlite'}", "",
    ]), encoding="utf-8")
    turn = subprocess.Popen(["turnserver", "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    log = work / f"{name}.log"
    deadline = time.monotonic() + 15
    while "Total General servers" not in (log.read_text("utf-8", "replace")
                                          if log.exists() else ""):
        if turn.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"coturn did not start; see {log}")
        time.sleep(0.1)
    return turn


def turn_requests(log: Path) -> dict[str, list[str]]:
    """The outcomes coturn logged for each TURN username's requests, such as
    "ALLOCATE success" or "message error 401"."""
    found: dict[str, set[str]] = {}
    pattern = r"user <([^>]+)>: incoming packet (\w+) processed, (success|error \d+)"
    for line in log.read_text("utf-8", "replace").splitlines():
        if match := re.search(pattern, line):
            found.setdefault(match[1], set()).add(f"{match[2]} {match[3]}")
    return {user: sorted(outcomes) for user, outcomes in found.items()}


def relayed_bytes(log: Path) -> int:
    """Bytes coturn relayed to and from peers, as its log's usage lines count them."""
    return sum(int(rb) + int(sb) for rb, sb in re.findall(
        r"peer usage: .*rb=(\d+), sp=\d+, sb=(\d+)", log.read_text("utf-8", "replace")))


def of_account(found: dict[str, list[str]], username: str) -> set[str]:
    return {o for user, outcomes in found.items() if user.endswith(f":{username}")
            for o in outcomes}


class Recorder:
    """Everything a page receives: response bodies and socket frames."""

    def __init__(self) -> None:
        self.bodies: list[asyncio.Future[bytes]] = []
        self.frames: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("response", self._response)
        page.on("websocket", self._socket)

    def _response(self, response: Response) -> None:
        self.bodies.append(asyncio.ensure_future(response.body()))

    def _socket(self, socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: self.frames.append(str(payload)))

    async def texts(self) -> list[str]:
        bodies = await asyncio.gather(*self.bodies, return_exceptions=True)
        return [b.decode("utf-8", "replace") for b in bodies if isinstance(b, bytes)] + self.frames


LANGS = ("vi", "en")
"""The minister's page is in Vietnamese, the secretary's in English."""


async def join(browser: Browser, base: str, meeting_id: str, password: str, lang: str) -> None:
    await sign_in(browser, base, meeting_id, password)
    if lang != "vi":
        await browser.page.goto(f"{base}/m/{meeting_id}?lang={lang}")
    await browser.page.evaluate(KEEP_BANNERS)
    await browser.page.wait_for_function(
        "() => document.querySelector('#camera-select option')?.value !== ''", timeout=15_000)
    await browser.page.click('[data-testid="join-button"]')


def relayed(connections: dict[str, Any]) -> bool:
    """Both connections are up over a pair from a relay candidate to the SFU's address."""
    return set(connections) == {"publish", "subscribe"} and all(
        c["state"] == "connected" and c["local"][0] == "relay"
        and c["remote"][1] == MEDIA_ADDRESS for c in connections.values())


def turn_usernames(frames: list[str]) -> list[str]:
    """The TURN usernames of every `joined` message among socket frames."""
    names = []
    for frame in frames:
        message = json.loads(frame) if frame.startswith("{") else {}
        if message.get("type") == "joined":
            names += [s["username"] for s in message["ice_servers"] if "username" in s]
    return names


async def meet_through_the_relay(browsers: list[Browser]) -> tuple[dict[str, Any],
                                                                   dict[str, bool]]:
    everyone = sorted(u[0] for u in USERS)

    def both_ways(b: Browser, s: dict[str, Any]) -> bool:
        other = next(u[0] for u in USERS if u[0] != b.username)
        counts = counters_from(s, other)
        return (media_flows(s) and s["tiles"] == everyone
                and counts["camera_frames"] > 0 and counts["audio_packets"] > 0)

    ok, states = await poll(browsers, both_ways, 45)
    result: dict[str, Any] = {
        "media": {b.username: {u[0]: counters_from(s, u[0]) for u in USERS}
                  for b, s in zip(browsers, states, strict=True)},
        "connections": {b.username: await b.page.evaluate(CONNECTIONS) for b in browsers}}
    checks = {"each_decodes_the_other": ok,
              "relay_candidate_selected": all(map(relayed, result["connections"].values()))}
    return result, checks


async def fail_without_the_right_secret(browsers: list[Browser]) -> tuple[dict[str, Any],
                                                                          dict[str, bool]]:
    """Both pages rejoin while coturn knows another secret: they must get no media, and
    say in their language that the audio and video connection was lost."""
    reasons = {lang: json.loads((REPO / "web" / "locales" / f"{lang}.json").read_text("utf-8"))[
        "js.reconnect_reason_media_lost"] for lang in LANGS}
    said: dict[str, list[str]] = {lang: [] for lang in LANGS}
    states: dict[str, set[str]] = {lang: set() for lang in LANGS}
    packets = dict.fromkeys(LANGS, 0)
    for b in browsers:
        await b.page.evaluate("() => { window.bannersShown = []; }")
        await b.page.click('[data-testid="rejoin-button"]')

    def told(lang: str) -> bool:
        return any(text.startswith(reasons[lang]) for text in said[lang])

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(map(told, LANGS)):
        await asyncio.sleep(0.5)
        for b, lang in zip(browsers, LANGS, strict=True):
            said[lang] = await b.page.evaluate("() => window.bannersShown")
            states[lang].update(c["state"] for c in (await b.page.evaluate(CONNECTIONS)).values())
            inbound = (await b.page.evaluate(PAGE_STATE))["inbound"]
            packets[lang] = max(packets[lang], sum(r["packetsReceived"] for r in inbound))
    result = {"banners": said, "connection_states": {k: sorted(v) for k, v in states.items()},
              "packets_received": packets}
    checks = {}
    for lang in LANGS:
        checks[f"media_lost_said_{lang}"] = told(lang)
        checks[f"no_media_{lang}"] = "connected" not in states[lang] and packets[lang] == 0
    return result, checks


async def scenario(work: Path, launcher: Path, base: str, meeting_id: str, pin: str,
                   secret: str, coturn: list[subprocess.Popen[bytes]]) -> dict[str, Any]:
    """The meeting through the relay; then both leave, coturn is started again with
    another secret, and both rejoin."""
    result: dict[str, Any] = {}
    checks: dict[str, bool] = {}
    recorder = Recorder()
    extra = [f"--ignore-certificate-errors-spki-list={pin}"]
    async with async_playwright() as pw:
        browsers = [await open_pc_browser(pw, work, launcher, u[0], extra, []) for u in USERS]
        try:
            for browser, user, lang in zip(browsers, USERS, LANGS, strict=True):
                recorder.watch(browser.page)
                await join(browser, base, meeting_id, user[3], lang)
            started = time.monotonic()
            result["relay"], found = await meet_through_the_relay(browsers)
            checks.update(found)
            result["seconds_through_the_relay"] = round(time.monotonic() - started, 1)
            for b in browsers:
                await b.page.screenshot(path=str(work / f"relay-{b.username}.png"))
                await b.page.click('[data-testid="leave-button"]')
            stop(coturn.pop())
            coturn.append(start_coturn(work, "turn-other-secret", secrets.token_urlsafe(24)))
            started = time.monotonic()
            result["wrong_secret"], found = await fail_without_the_right_secret(browsers)
            checks.update(found)
            result["seconds_with_a_wrong_secret"] = round(time.monotonic() - started, 1)
            for b in browsers:
                await b.page.screenshot(path=str(work / f"wrong-secret-{b.username}.png"))
        finally:
            result["problems"] = {b.username: b.problems for b in browsers}
            for b in browsers:
                await b.context.close()
    texts = await recorder.texts()
    result["responses_and_frames"] = len(texts)
    usernames = turn_usernames(recorder.frames)
    result["turn_usernames"] = usernames
    checks["fresh_credentials_on_every_join"] = len(usernames) >= 2 * len(USERS) and len(
        set(usernames)) == len(usernames)
    checks["secret_reaches_no_page"] = bool(texts) and not any(secret in t for t in texts)
    checks["no_page_problems"] = not any(result["problems"].values())
    result["checks"] = checks
    return result


def secret_elsewhere(secret: str, work: Path) -> list[str]:
    """Command lines of this machine's processes and the server's log holding `secret`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if secret.encode() in cmdline.read_bytes():
                found.append(str(cmdline))
        except OSError:
            continue
    if secret in (work / "server.log").read_text("utf-8", "replace"):
        found.append("server.log")
    return found


def configure_turn(work: Path, secret: str) -> tuple[Path, str, str]:
    """The HTTPS configuration of lan_browsers.py, with the SFU on the media address and
    the TURN relay handed to pages with credentials made from `secret`."""
    config, meeting_id, pin = configure(work, tls=True)
    text = config.read_text(encoding="utf-8").replace(
        f'announced_addresses = ["{SERVER_ADDRESS}"]', f'announced_addresses = ["{MEDIA_ADDRESS}"]')
    text += (f'udp_ports = "{MEDIA_PORTS}"\n'
             f'turn_secret = "{secret}"\n'
             "turn_credential_seconds = 600\n"
             "[[sfu.ice_servers]]\n"
             f'urls = ["turn:{SERVER_ADDRESS}:{TURN_PORT}?transport=udp", '
             f'"turn:{SERVER_ADDRESS}:{TURN_PORT}?transport=tcp"]\n')
    config.write_text(text, encoding="utf-8")
    return config, meeting_id, pin


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for results and logs")
    args = parser.parse_args()
    work: Path = args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)
    base = f"https://{SERVER_ADDRESS}:{PORT}"
    secret = secrets.token_urlsafe(24)
    result: dict[str, Any] = {"ok": False, "base": base, "server_log": str(work / "server.log")}
    checks: dict[str, bool] = {}
    processes: list[subprocess.Popen[bytes]] = []
    holder: subprocess.Popen[bytes] | None = None
    try:
        holder, launcher = make_pc_namespace(work)
        add_media_interface()
        config, meeting_id, pin = configure_turn(work, secret)
        with open(work / "server.log", "wb") as log:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "web.cli.main", "serve", "--config", str(config)],
                cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"}))
        coturn = [start_coturn(work, "turn", secret)]
        wait_healthy(base, processes[0], work / "tls" / "giaoban.crt")
        reach = {"sfu": reach_from_pc(holder, MEDIA_ADDRESS),
                 "server": reach_from_pc(holder, SERVER_ADDRESS)}
        result["pc_reaches"] = reach
        checks["pc_cannot_reach_the_sfu"] = reach["sfu"] == {"udp": "ENETUNREACH",
                                                             "tcp": "ENETUNREACH"}
        checks["pc_reaches_the_web_server"] = reach["server"]["tcp"] == "sent"
        try:
            outcome = asyncio.run(scenario(work, launcher, base, meeting_id, pin, secret, coturn))
        finally:
            for process in coturn:
                stop(process)
        checks.update(outcome.pop("checks"))
        result.update(outcome)
        found = turn_requests(work / "turn.log")
        result["coturn"] = {"requests": found, "relayed_bytes": relayed_bytes(work / "turn.log")}
        checks["coturn_relayed_for_each"] = all(
            {"ALLOCATE success", "CHANNEL_BIND success"} <= of_account(found, u[0])
            for u in USERS)
        refused = turn_requests(work / "turn-other-secret.log")
        result["coturn_with_another_secret"] = refused
        checks["coturn_refused_each"] = all(
            (outcomes := of_account(refused, u[0])) and not any("success" in o for o in outcomes)
            for u in USERS)
        checks["secret_in_no_command_line_or_log"] = not secret_elsewhere(secret, work)
        result["ok"] = all(checks.values())
    except Exception as exc:  # the JSON result must say what went wrong
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        result["checks"] = checks
        for process in reversed(processes):
            stop(process)
        if holder is not None:
            holder.kill()
            holder.wait()
    text = json.dumps(result, ensure_ascii=False, indent=2, default=str)
    (work / "result.json").write_text(text, encoding="utf-8")
    print(text)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
