"""A host and a participant run a meeting in two headless Chromium browsers: a raised
hand, a host mute and a spotlight, each seen on both pages. The scenario itself is
tests/e2e/host_browsers.py; it runs in a private network namespace."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.scenario import run_scenario


@pytest.mark.e2e
@pytest.mark.timeout(150)
def test_a_host_runs_the_meeting_in_two_browsers(tmp_path: Path) -> None:
    result = run_scenario("host_browsers.py", tmp_path, "--timeout", "30", timeout=120)
    assert result["checks"]["spotlight_large_on_both"]
