"""A page whose two peer connections and socket fail in the same moment rejoins once
for that loss and decodes the other again; the other page does not rejoin.

The server and both browsers run in a private network namespace; the scenario itself
is tests/e2e/simultaneous_loss.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.scenario import run_scenario


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_a_page_rejoins_once_when_all_its_connections_fail_at_once(tmp_path: Path) -> None:
    result = run_scenario("simultaneous_loss.py", tmp_path, timeout=160)
    assert result["joins_after_loss"]["minister"]["joins"] == 1
    assert result["phases_after_loss"].count(["reconnecting", 1]) == 1
