"""Five headless Chromium browsers, two tiles a page: each decodes only the cameras it
shows, and paging changes which. The scenario itself is tests/e2e/tile_pages.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.scenario import run_scenario


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_five_browsers_decode_only_the_tiles_they_show(tmp_path: Path) -> None:
    result = run_scenario("tile_pages.py", tmp_path, "--timeout", "60", timeout=280)
    for flow in result["decoding"].values():
        assert flow["grew"] == flow["shown"] and len(flow["shown"]) == 2
