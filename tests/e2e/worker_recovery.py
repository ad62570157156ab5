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
