"""`giaoban serve` with the shipped configuration, traced by strace, through start-up
and a meeting of two aiortc peers; run inside a network namespace holding only
loopback (see test_outbound_connections.py):

    python -m tests.integration.web.outbound_child --out DIRECTORY

Every connect, sendto, sendmsg and sendmmsg system call of the server and of every
process it starts (its SFU workers) is written to DIRECTORY/strace.log, also those
that fail, whichever event loop or library makes them. Writes DIRECTORY/result.json:
the meeting's outcome and the server's process ids.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from tests.e2e.two_browsers import cli, wait_healthy
from tests.integration.client import MeetingClient
from tests.integration.live.test_meeting_media import audio_from, frames_from, join_and_publish

REPO = Path(__file__).resolve().parents[3]
PORT = 8090
USERS = (("an", "leader"), ("binh", "official"))
PASSWORD = "outbound-test-42"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
TRACED = "connect,sendto,sendmsg,sendmmsg"


def configure(work: Path) -> Path:
    """configs/example.toml as shipped, but for its data directory, its port, and the
    loopback address the media server must announce in a namespace holding nothing else."""
    text = (REPO / "configs" / "example.toml").read_text(encoding="utf-8")
    for old, new in (('data_dir = "data"', f'data_dir = "{work / "data"}"'),
                     ("port = 8080", f"port = {PORT}"),
                     ("announced_addresses = []", 'announced_addresses = ["127.0.0.1"]')):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    config = work / "config.toml"
    config.write_text(text, encoding="utf-8")
    return config


async def sign_in(base: str, username: str) -> str:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(base + "/login") as response:
            match = CSRF_INPUT.search(await response.text())
        assert match, "no CSRF field on /login"
        async with http.post(base + "/login", allow_redirects=False, data={
                "csrf_token": match.group(1), "username": username, "password": PASSWORD,
        }) as response:
            assert response.status == 302, await response.text()
        return str(next(c.value for c in jar if c.key == "giaoban_session"))


async def meet(base: str, meeting_id: str) -> dict[str, Any]:
    names = [name for name, _ in USERS]
    clients = [MeetingClient(base, await sign_in(base, name), name, i)
               for i, name in enumerate(names)]
    try:
        for c in clients:
            await join_and_publish(c, meeting_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 40
        while loop.time() < deadline:
            frames = {c.username: [frames_from(c, o) for o in names if o != c.username]
                      + [audio_from(c, o) for o in names if o != c.username]
                      for c in clients}
            if all(min(counts) >= 30 for counts in frames.values()):
                break
            await asyncio.sleep(0.2)
        return {"received": frames, "errors": [c.errors for c in clients]}
    finally:
        for c in clients:
            await c.close()


def children_of(pid: int) -> list[int]:
    """Every descendant of `pid`, depth first (a thread or process that ends meanwhile
    is left out)."""
    found = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found.append(int(child))
            found.extend(children_of(int(child)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    work = parser.parse_args().out
    work.mkdir(parents=True, exist_ok=True)
    config = configure(work)
    for username, role in USERS:
        cli(config, "accounts", "create", "--username", username, "--display-name",
            username.title(), "--role", role, "--password-stdin", stdin=PASSWORD + "\n")
    meeting = json.loads(cli(config, "meetings", "create", "--title", "Giao ban",
                             "--organizer", USERS[0][0], "--invite", USERS[1][0], "--json"))
    log = open(work / "server.log", "wb")  # noqa: SIM115 - closed below
    tracer = subprocess.Popen(
        ["strace", "-f", "-qq", "--seccomp-bpf", "-e", f"trace={TRACED}", "-e", "signal=none",
         "-o", str(work / "strace.log"), sys.executable, "-m", "web.cli.main", "serve",
         "--config", str(config)], cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    result: dict[str, Any] = {}
    try:
        base = f"http://127.0.0.1:{PORT}"
        wait_healthy(base, tracer, timeout=60)
        result = asyncio.run(meet(base, str(meeting["id"])))
        result["processes"] = children_of(tracer.pid)
    finally:
        # The server is strace's child: stopped, it stops its workers, then strace ends.
        for pid in children_of(tracer.pid)[:1]:
            os.kill(pid, signal.SIGTERM)
        try:
            tracer.wait(timeout=30)
        except subprocess.TimeoutExpired:
            for pid in children_of(tracer.pid):
                os.kill(pid, signal.SIGKILL)
            tracer.kill()
            tracer.wait()
        log.close()
    (work / "result.json").write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
