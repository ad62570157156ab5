"""Chromium and Firefox ESR join one meeting and decode each other's video and audio.

Chromium prefers H.264 for its camera; Firefox ESR offline has no H.264, so the
server must steer Chromium to VP8. A screen Chromium offers as H.264 only is rejected
by Firefox, which is told so while the rest flows. The server and both browsers run
in a private network namespace; the scenario itself is tests/e2e/firefox_chromium.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.firefox_page import missing
from tests.e2e.scenario import run_scenario


@pytest.mark.e2e
@pytest.mark.timeout(200)
def test_chromium_and_firefox_decode_each_other(tmp_path: Path) -> None:
    problem = missing()
    if problem is not None:
        pytest.fail(problem)
    result = run_scenario("firefox_chromium.py", tmp_path, "--timeout", "30", timeout=180)
    assert result["chromium"]["offered"] == "H264"
    assert result["chromium"]["sent"]["camera"]["codec"] == "video/VP8"
    assert result["sharing"][1]["rejected"] == 1
    for state, sender in ((result["chromium"], "secretary"),
                          (result["firefox_state"], "minister")):
        assert state["received"][f"{sender}/camera"]["frames"] > 0
        assert state["received"][f"{sender}/microphone"]["energy"] > 0
