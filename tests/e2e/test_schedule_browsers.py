"""Scheduling in headless Chromium inside a private network namespace: the clerk's week
view with a clash shown inline, and a room kiosk that joins its booked meeting by itself.
The scenarios are tests/e2e/schedule_browsers.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .test_two_browsers import namespace_command
from .two_browsers import CHROMIUM

SCENARIO = Path(__file__).with_name("schedule_browsers.py")
REPO = SCENARIO.parents[2]


def run_scenario(name: str, out: Path, timeout: float) -> dict[str, Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs chromium")
    namespace = namespace_command()
    if namespace is None:
        pytest.fail("cannot create a private network namespace (unshare -n / -rn)")
    done = subprocess.run(
        [*namespace, sys.executable, str(SCENARIO), "--scenario", name, "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=timeout,
    )
    result_file = out / "result.json"
    log_file = out / "server.log"
    server_log = log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else ""
    context = (f"exit status {done.returncode}\n--- scenario stderr\n{done.stderr[-4000:]}\n"
               f"--- server log (end)\n{server_log[-6000:]}")
    assert result_file.exists(), context
    result: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    failed = [check for check, ok in result.get("checks", {}).items() if not ok]
    assert result.get("ok") and done.returncode == 0, (
        f"failed checks: {failed}; error: {result.get('error')}\n"
        f"problems: {result.get('problems')}\nresult: {json.dumps(result)[:3000]}\n{context}")
    return result


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_clerk_books_room_2_in_the_week_view_and_sees_a_clash(tmp_path: Path) -> None:
    result = run_scenario("week", tmp_path, timeout=150)
    assert "Họp giao ban" in result["conflict_text"]


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_room_kiosk_joins_its_booked_meeting_by_itself(tmp_path: Path) -> None:
    result = run_scenario("kiosk", tmp_path, timeout=200)
    assert result["checks"]["kiosk_joined"] and result["checks"]["left_at_end"]
