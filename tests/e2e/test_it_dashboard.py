"""The IT dashboard shows a live meeting of two real Chromium browsers, updating.

Runs tests/e2e/it_dashboard.py in a private network namespace, like the two-browser
test, so nothing leaves 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.scenario import run_scenario


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_it_dashboard_watches_two_browsers_live(tmp_path: Path) -> None:
    result = run_scenario("it_dashboard.py", tmp_path, "--timeout", "40", timeout=200)
    people = {p["username"]: p for p in result["later"]["participants"]}
    assert sorted(people) == ["minister", "secretary"]
    assert all(s["bitrate"] not in ("–", "0") for p in people.values() for s in p["streams"])
    assert result["reports"]["accepted"] >= 2
