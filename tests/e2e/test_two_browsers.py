"""Two headless Chromium browsers join one meeting and receive each other's media.

The server and both browsers run in a private network namespace, so nothing can
leave 127.0.0.1. The scenario itself is tests/e2e/two_browsers.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .two_browsers import CHROMIUM

SCENARIO = Path(__file__).with_name("two_browsers.py")
REPO = SCENARIO.parents[2]
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


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_two_browsers_see_and_hear_each_other(tmp_path: Path) -> None:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs chromium")
    namespace = namespace_command()
    if namespace is None:
        pytest.fail("cannot create a private network namespace (unshare -n / -rn)")
    done = subprocess.run(
        [*namespace, sys.executable, str(SCENARIO), "--out", str(tmp_path), "--timeout", "30",
         "--rejoin"],
        cwd=REPO, capture_output=True, text=True, timeout=200,
    )
    result_file = tmp_path / "result.json"
    log_file = tmp_path / "server.log"
    server_log = log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else ""
    context = (
        f"exit status {done.returncode}\n--- scenario stderr\n{done.stderr[-4000:]}\n"
        f"--- server log (end)\n{server_log[-8000:]}"
    )
    assert result_file.exists(), context
    result = json.loads(result_file.read_text(encoding="utf-8"))
    failed = [name for name, ok in result.get("checks", {}).items() if not ok]
    assert result.get("ok") and done.returncode == 0, (
        f"failed checks: {failed}; error: {result.get('error')}\n"
        f"problems: {result.get('problems')}\nscreenshots: {result.get('screenshots')}\n{context}"
    )
    for state in result["joined"].values():
        assert state["tiles"] == ["minister", "secretary"]
        video = [r for r in state["inbound"] if r["kind"] == "video"]
        audio = [r for r in state["inbound"] if r["kind"] == "audio"]
        assert video and video[0]["framesDecoded"] > 0
        assert audio and audio[0]["packetsReceived"] > 0
