"""A worker whose supervisor is gone stops by itself, even when the supervisor died before
the worker could ask the kernel for a death signal."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from sfu.config import SfuSettings
from sfu.wire import encode_settings

LAUNCHER = """
import subprocess, sys
worker = subprocess.Popen([sys.executable, "-m", "sfu.worker", "--socket", sys.argv[1],
                           "--index", "0", "--settings", sys.argv[2],
                           "--parent", str(__import__("os").getpid())],
                          stderr=open(sys.argv[3], "w"))
print(worker.pid, flush=True)
"""


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_a_worker_started_by_a_supervisor_that_died_at_once_stops(tmp_path: Path) -> None:
    settings = json.dumps(encode_settings(SfuSettings(announced_addresses=["127.0.0.1"])))
    log = tmp_path / "worker.log"
    # The launcher exits as soon as the worker is spawned, before the worker's
    # interpreter has started: its death signal is set too late to fire.
    launched = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(tmp_path / "w.sock"), settings, str(log)],
        capture_output=True, text=True, check=True, timeout=60)
    pid = int(launched.stdout.strip())
    deadline = time.monotonic() + 60
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    still_alive = alive(pid)
    if still_alive:
        subprocess.run(["kill", "-9", str(pid)], check=False)
    assert not still_alive, "the worker outlived its supervisor"
    assert "supervisor" in log.read_text() and "is gone" in log.read_text()
