"""Two headless Chromium browsers join one meeting and receive each other's media.

The server and both browsers run in a private network namespace, so nothing can
leave 127.0.0.1. The scenario itself is tests/e2e/two_browsers.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.scenario import run_scenario


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_two_browsers_see_and_hear_each_other(tmp_path: Path) -> None:
    result = run_scenario("two_browsers.py", tmp_path, "--timeout", "30", "--rejoin",
                          timeout=200)
    for state in result["joined"].values():
        assert state["tiles"] == ["minister", "secretary"]
        video = [r for r in state["inbound"] if r["kind"] == "video"]
        audio = [r for r in state["inbound"] if r["kind"] == "audio"]
        assert video and video[0]["framesDecoded"] > 0
        assert audio and audio[0]["packetsReceived"] > 0
