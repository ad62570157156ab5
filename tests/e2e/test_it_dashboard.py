"""The IT dashboard shows a live meeting of two real Chromium browsers, updating.

Runs tests/e2e/it_dashboard.py in a private network namespace, like the two-browser
test, so nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .test_two_browsers import namespace_command
from .two_browsers import CHROMIUM

SCENARIO = Path(__file__).with_name("it_dashboard.py")
REPO = SCENARIO.parents[2]


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_it_dashboard_watches_two_browsers_live(tmp_path: Path) -> None:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs chromium")
    namespace = namespace_command()
    if namespace is None:
        pytest.fail("cannot create a private network namespace (unshare -n / -rn)")
    done = subprocess.run(
        [*namespace, sys.executable, str(SCENARIO), "--out", str(tmp_path), "--timeout", "40"],
        cwd=REPO, capture_output=True, text=True, timeout=200,
    )
    result_file = tmp_path / "result.json"
    log_file = tmp_path / "server.log"
    server_log = log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else ""
    context = (f"exit status {done.returncode}\n--- scenario stderr\n{done.stderr[-4000:]}\n"
               f"--- server log (end)\n{server_log[-6000:]}")
    assert result_file.exists(), context
    result = json.loads(result_file.read_text(encoding="utf-8"))
    failed = [name for name, ok in result.get("checks", {}).items() if not ok]
    assert result.get("ok") and done.returncode == 0, (
        f"failed checks: {failed}; error: {result.get('error')}\n"
        f"problems: {result.get('problems')}\nfirst: {result.get('first')}\n"
        f"later: {result.get('later')}\ntiles: {result.get('tiles')}\n{context}")
    people = {p["username"]: p for p in result["later"]["participants"]}
    assert sorted(people) == ["minister", "secretary"]
    assert all(s["bitrate"] not in ("–", "0") for p in people.values() for s in p["streams"])
    assert result["reports"]["accepted"] >= 2
