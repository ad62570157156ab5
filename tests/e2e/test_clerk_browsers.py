"""The clerk's whole path in headless Chromium inside a private network namespace:
pick people by name into a saved group, schedule the weekly briefing with it and a
whole unit and a link for guests (copied with its button), move
one occurrence, cancel another, and read the updated invitation. The scenario is
tests/e2e/clerk_browsers.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.scenario import run_scenario


@pytest.mark.e2e
@pytest.mark.timeout(150)
def test_clerk_schedules_moves_and_cancels_the_weekly_briefing(tmp_path: Path) -> None:
    result = run_scenario("clerk_browsers.py", tmp_path, timeout=120)
    assert result["checks"]["moved_one_overrides"]
    assert result["checks"]["cancelled_one_excluded"]
    assert result["checks"]["group_and_unit_add_their_members"]
    assert result["checks"]["guest_links_shown"] and result["checks"]["guest_link_copied"]
