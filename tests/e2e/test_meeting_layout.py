"""Four headless Chromium browsers in one meeting: on the host's page, at a laptop's and
a phone's sizes (upright and on its side), with panels open and a screen shared, every
tile's caption is inside the window and uncovered, the tiles fill the stage, the M key
flips the microphone button and a tile's host menu works. The scenario itself is
tests/e2e/meeting_layout.py; it runs in a private network namespace."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.scenario import run_scenario


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_the_meeting_fills_the_window_and_covers_no_caption(tmp_path: Path) -> None:
    result = run_scenario("meeting_layout.py", tmp_path, "--timeout", "60", timeout=280)
    for size in ("1366x768", "390x844", "844x390"):
        assert result["checks"][f"layout_{size}"] and result["checks"][f"share_{size}"]
        assert (tmp_path / f"layout-{size}.png").exists()
        assert (tmp_path / f"share-{size}.png").exists()
    assert result["checks"]["m_key_flips_mic"] and result["checks"]["join_notice"]
