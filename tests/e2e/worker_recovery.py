"""Two Chromium users in a meeting on a server with one media worker, which is killed
(--mode kill) or stopped for longer than ICE consent and continued (--mode stop): both
pages come back by themselves, without a reload, and a third user joining afterwards
sees and hears both. Attendance shows one row per person and stay.

Run it inside a private network namespace, as tests/e2e/two_browsers.py explains:

    unshare -n sh -c 'ip link set lo up; exec python tests/e2e/worker_recovery.py \
        --mode kill --out DIR'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.e2e.two_browsers import (  # noqa: E402
    PAGE_STATE,
    cli,
    counters_from,
    open_browser,
    poll,
    serve_and_run,
    sign_in_and_join,
)

USERS = (
    ("minister", "Nguyễn Văn An", "leader", "an-secret-pass-1"),
    ("secretary", "Trần Thị Bình", "secretary", "binh-secret-pass-1"),
    ("director", "Lê Văn Cường", "official", "cuong-secret-pass-1"),
)
SOCKET_RECORDER = """(() => {
  // What the page says on its sockets, what it is answered and when each socket ends,
  // for counting joins.
  const sent = [], received = [], ended = {};
  let sockets = 0;
  window.__socketLog = { sent, received, ended };
  const now = () => Math.round(performance.now());
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (!this.__socket) {
      const socket = this.__socket = ++sockets;
      this.addEventListener("message", (event) => {
        try {
          const m = JSON.parse(event.data);
          received.push({ type: m.type, code: m.code || null, request: m.request || null,
                          at: now() });
        } catch (err) { /* not ours */ }
      });
      this.addEventListener("close", () => { ended[socket] = ended[socket] ?? now(); });
    }
    try {
      sent.push({ type: JSON.parse(data).type, at: now(), socket: this.__socket });
    } catch (err) { /* not ours */ }
    return send.call(this, data);
  };
  const close = WebSocket.prototype.close;
  WebSocket.prototype.close = function (...args) {
    if (this.__socket) ended[this.__socket] = ended[this.__socket] ?? now();
    return close.apply(this, args);
  };
})();"""
SOCKET_MARK = "() => [window.__socketLog.sent.length, window.__socketLog.received.length]"
STOP_S = 40.0
"""How long --mode stop keeps the worker stopped: longer than Chromium's ICE consent."""


def prepare(work: Path, port: int, worker_wait_s: int | None = None) -> tuple[Path, str]:
    """Configuration, three accounts and a meeting inviting them; `worker_wait_s` sets
    how long a join waits for a restarting worker (the default when None)."""
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
        + ("" if worker_wait_s is None else f"worker_wait_seconds = {worker_wait_s}\n"),
        encoding="utf-8",
    )
    for username, name, role, password in USERS:
        cli(config, "accounts", "create", "--username", username, "--display-name", name,
            "--role", role, "--password-stdin", stdin=password + "\n")
    meeting = json.loads(cli(config, "meetings", "create", "--title", "Giao ban tuần",
                             "--organizer", USERS[0][0], "--invite", USERS[1][0],
                             "--invite", USERS[2][0], "--json"))
    return config, str(meeting["id"])


def worker_pid(data_dir: Path) -> int:
    """The pid of the media worker serving under `data_dir`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"sfu.worker" in command and any(str(data_dir).encode() in part for part in command):
            return int(entry.name)
    raise RuntimeError("no media worker process found")


def attendance(data_dir: Path, meeting_id: str) -> dict[str, list[bool]]:
    """For each username, whether each of their attendance rows is still open."""
    db = sqlite3.connect(data_dir / "giaoban.sqlite3")
    try:
        rows = db.execute("SELECT username, left_at IS NULL FROM attendance WHERE meeting_id = ?"
                          " ORDER BY joined_at", (meeting_id,)).fetchall()
    finally:
        db.close()
    out: dict[str, list[bool]] = {}
    for username, is_open in rows:
        out.setdefault(str(username), []).append(bool(is_open))
    return out


async def joins_since(page: Any, mark: list[int]) -> dict[str, Any]:
    """Joins the page sent since `mark`, the refusals of a join it was answered, and
    whether each join went out only once the previous one's socket had ended (one
    attempt at a time: a retry after a failed attempt, never two rejoins at once)."""
    log = await page.evaluate("() => window.__socketLog")
    joins = [m for m in log["sent"][mark[0]:] if m["type"] == "join"]
    ended = {int(k): v for k, v in log["ended"].items()}
    one_at_a_time = all(
        earlier["socket"] in ended and ended[earlier["socket"]] <= later["at"]
        for earlier, later in zip(joins, joins[1:], strict=False))
    return {"joins": len(joins),
            "refused": sum(m["type"] == "error" and m["request"] == "join"
                           for m in log["received"][mark[1]:]),
            "one_at_a_time": one_at_a_time,
            "at": [(m["at"], m["socket"], ended.get(m["socket"])) for m in joins]}


def decodes(state: dict[str, Any], others: list[str]) -> bool:
    """Joined, and decoding every one of `others` (camera frames and audio packets)."""
    if state["phase"] != "joined":
        return False
    return all(all(v > 0 for v in counters_from(state, o).values()) for o in others)


async def scenario(work: Path, base: str, meeting_id: str, mode: str) -> dict[str, Any]:
    result: dict[str, Any] = {"meeting_id": meeting_id, "mode": mode, "checks": {}}
    checks = result["checks"]
    data = work / "data"
    names = [u[0] for u in USERS]
    async with async_playwright() as pw:
        browsers = [await open_browser(pw, work, base, u[0]) for u in USERS]
        for b in browsers:
            await b.context.add_init_script(SOCKET_RECORDER)
        first_two = browsers[:2]
        try:
            await asyncio.gather(*(sign_in_and_join(b, base, meeting_id, u[3])
                                   for b, u in zip(first_two, USERS[:2], strict=True)))
            ok, states = await poll(first_two, lambda b, s: decodes(
                s, [n for n in names[:2] if n != b.username]), 60)
            checks["media_before"] = ok
            for b in first_two:  # a reload would lose this
                await b.page.evaluate("() => { window.__sameDocument = true; }")
            ids_before = [await b.page.evaluate("() => window.giaoban.state.participantId")
                          for b in first_two]
            result["participants_before"] = ids_before
            marks = [await b.page.evaluate(SOCKET_MARK) for b in first_two]
            pid = worker_pid(data)
            result["worker_pid"] = pid
            if mode == "kill":
                os.kill(pid, signal.SIGKILL)
                broken_at = time.monotonic()
            else:
                os.kill(pid, signal.SIGSTOP)
                try:
                    await asyncio.sleep(STOP_S)
                finally:
                    os.kill(pid, signal.SIGCONT)
                broken_at = time.monotonic()
            # Back: joined again (a new participant, after a kill) and decoding the other
            # anew (more frames than when the worker broke).
            at_break = [await b.page.evaluate(PAGE_STATE) for b in first_two]
            phases: set[str] = set()
            deadline = time.monotonic() + 60
            while True:
                states, fresh = [], []
                for b, old, was in zip(first_two, at_break, ids_before, strict=True):
                    state = await b.page.evaluate(PAGE_STATE)
                    now_id = await b.page.evaluate("() => window.giaoban.state.participantId")
                    phases.add(state["phase"])
                    other = next(n for n in names[:2] if n != b.username)
                    new_session = now_id != was
                    grew = all(v > old_v for v, old_v in zip(
                        counters_from(state, other).values(), counters_from(old, other).values()))
                    fresh.append(decodes(state, [other]) and (
                        new_session if mode == "kill" else (new_session or grew)))
                    states.append(state)
                if all(fresh) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
            result["recovered_after_s"] = round(time.monotonic() - broken_at, 1)
            result["phases_seen"] = sorted(phases)
            checks["both_decode_again"] = all(fresh)
            checks["reconnected_by_themselves"] = "reconnecting" in phases or mode == "stop"
            checks["no_reload"] = all([
                await b.page.evaluate("() => window.__sameDocument === true") for b in first_two])
            result["after"] = {b.username: {"phase": s["phase"], "inbound": s["inbound"]}
                               for b, s in zip(first_two, states, strict=True)}
            # One rejoin per loss, however many of the page's connections failed: its
            # joins went out one attempt at a time, each only once the previous one's
            # socket had ended (a join the page gave up on, or the server refused, is
            # retried; two rejoins at once never happen).
            joins = {b.username: await joins_since(b.page, mark)
                     for b, mark in zip(first_two, marks, strict=True)}
            result["joins_after_loss"] = joins
            checks["one_join_at_a_time"] = all(j["one_at_a_time"] and j["joins"] >= 1
                                               for j in joins.values())

            # A third user joining now sees and hears both.
            third = browsers[2]
            await sign_in_and_join(third, base, meeting_id, USERS[2][3])
            ok, states = await poll([third], lambda b, s: decodes(s, names[:2])
                                    and s["tiles"] == sorted(names), 60)
            checks["third_decodes_both"] = ok
            ok, _ = await poll(first_two, lambda b, s: decodes(
                s, [n for n in names if n != b.username]), 60)
            checks["both_decode_the_third"] = ok
            for b in browsers:
                await b.page.screenshot(path=str(work / f"{mode}-{b.username}.png"))

            # One row per person and stay: the lost stay closed, one open now.
            rows = attendance(data, meeting_id)
            result["attendance"] = rows
            checks["one_open_row_each"] = all(rows.get(n, []).count(True) == 1 for n in names)
            # A page that rejoined has its lost stay closed and one new one; no other row.
            checks["no_spurious_rows"] = all(
                rows.get(n) in ([False, True], [True]) for n in names[:2]) and (
                rows.get(names[2]) == [True])
            if mode == "kill":
                checks["lost_stay_closed"] = all(rows.get(n, []) == [False, True]
                                                 for n in names[:2])
        finally:
            result["problems"] = {b.username: [p for p in b.problems
                                               if "WebSocket" not in p and "ERR_" not in p]
                                  for b in browsers}
            for b in browsers:
                await b.context.close()
    checks["no_page_problems"] = not any(result["problems"].values())
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for results and logs")
    parser.add_argument("--mode", choices=("kill", "stop"), required=True)
    parser.add_argument("--worker-wait", type=int, default=None,
                        help="[sfu] worker_wait_seconds; 0 refuses joins while no worker runs")
    args = parser.parse_args()
    work: Path = args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)
    prepared: dict[str, str] = {}

    def prepare_server(port: int) -> Path:
        config, prepared["meeting"] = prepare(work, port, args.worker_wait)
        return config

    return serve_and_run(work, {"server_log": str(work / "server.log")}, prepare_server,
                         lambda base, _: scenario(work, base, prepared["meeting"], args.mode))


if __name__ == "__main__":
    sys.exit(main())
