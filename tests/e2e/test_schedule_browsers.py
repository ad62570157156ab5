"""Scheduling in headless Chromium inside a private network namespace: the clerk's week
view with a clash shown inline, and a room kiosk that joins its booked meeting by itself.
The scenarios are tests/e2e/schedule_browsers.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.scenario import run_scenario


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_clerk_books_room_2_in_the_week_view_and_sees_a_clash(tmp_path: Path) -> None:
    result = run_scenario("schedule_browsers.py", tmp_path, "--scenario", "week", timeout=150)
    assert "Họp giao ban" in result["conflict_text"]


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_room_kiosk_joins_its_booked_meeting_by_itself(tmp_path: Path) -> None:
    result = run_scenario("schedule_browsers.py", tmp_path, "--scenario", "kiosk", timeout=200)
    assert result["checks"]["kiosk_joined"] and result["checks"]["left_at_end"]
