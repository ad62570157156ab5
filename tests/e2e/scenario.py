"""Run a browser scenario script in a private network namespace and read its result.

Each scenario (two_browsers.py, admin_account.py, …) starts its own server and
Chromium inside `unshare -n`, so nothing can leave 127.0.0.1, and writes
`result.json` (with `ok` and named `checks`) and `server.log` into its --out folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.two_browsers import CHROMIUM

REPO = Path(__file__).parents[2]
LOOPBACK_UP = 'ip link set lo up && exec "$0" "$@"'


def namespace_command() -> list[str] | None:
    """`unshare -n` as root, else `unshare -rn`; None when neither is allowed here."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return None
    for flags in ("-n", "-rn"):
        probe = subprocess.run(["unshare", flags, "sh", "-c", "ip link set lo up"],
                               capture_output=True, timeout=10)
        if probe.returncode == 0:
            return ["unshare", flags, "sh", "-c", LOOPBACK_UP]
    return None


def run_scenario(script: str, out: Path, *args: str, timeout: float) -> dict[str, Any]:
    """Run tests/e2e/`script` with `args`; fail with its checks, stderr and the server's
    log unless every check passed. Returns the scenario's result."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs chromium")
    namespace = namespace_command()
    if namespace is None:
        pytest.fail("cannot create a private network namespace (unshare -n / -rn)")
    done = subprocess.run(
        [*namespace, sys.executable, "-m", f"tests.e2e.{Path(script).stem}", "--out", str(out),
         *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout,
    )
    result_file = out / "result.json"
    log_file = out / "server.log"
    server_log = log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else ""
    context = (f"exit status {done.returncode}\n--- scenario stderr\n{done.stderr[-4000:]}\n"
               f"--- server log (end)\n{server_log[-8000:]}")
    assert result_file.exists(), context
    result: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    failed = [name for name, ok in result.get("checks", {}).items() if not ok]
    assert result.get("ok") and done.returncode == 0, (
        f"failed checks: {failed}; error: {result.get('error')}\n"
        f"problems: {result.get('problems')}\nresult: {json.dumps(result)[:3000]}\n{context}")
    return result
