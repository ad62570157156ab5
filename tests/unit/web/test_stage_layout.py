"""Where the meeting page puts its tiles, run in Node on the page's own module
(meeting_layout.js): the grid that makes the tiles largest for their number and the
stage, tiles inside the stage and apart, the aspect ratio kept, and a shared screen's
strip beside a wide stage or below a tall one; and the bar's clock (meeting_bar.js)."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from typing import Any

import pytest

from web.pages import views

JS = views.WEB_DIR / "static" / "js"
PROBE = """
import { fitGrid, placeInBox, splitStage } from "%s";
import { clock } from "%s";
const grid = (n, w, h) => { const f = fitGrid(n, w, h); return [f.cols, f.rows]; };
const out = {
  grids: [grid(1, 1350, 640), grid(2, 1350, 640), grid(3, 1350, 640), grid(4, 1350, 640),
          grid(4, 374, 650), grid(9, 1350, 640)],
  placed: { wide: placeInBox(4, { x: 0, y: 0, w: 1350, h: 640 }),
            tall: placeInBox(4, { x: 0, y: 0, w: 374, h: 650 }),
            one: placeInBox(1, { x: 0, y: 0, w: 374, h: 650 }) },
  wide: splitStage(1350, 640),
  tall: splitStage(374, 650),
  clocks: [clock(0), clock(65), clock(3725), clock(-3)],
};
console.log(JSON.stringify(out));
"""


@functools.cache
def probe() -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: run `make test`, which installs nodejs")
    script = PROBE % ((JS / "meeting_layout.js").as_uri(), (JS / "meeting_bar.js").as_uri())
    done = subprocess.run([node, "--input-type=module", "-e", script],
                          capture_output=True, text=True, timeout=60, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def apart(a: dict[str, float], b: dict[str, float]) -> bool:
    return (a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"]
            or a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"])


def inside(r: dict[str, float], w: float, h: float) -> bool:
    return (r["x"] >= 0 and r["y"] >= 0
            and r["x"] + r["w"] <= w + 0.01 and r["y"] + r["h"] <= h + 0.01)


def test_the_grid_adapts_to_the_number_of_tiles_and_the_stage() -> None:
    out = probe()
    # One large tile, two side by side, three and four two by two, nine three by three;
    # on a tall stage (a phone upright) four tiles stack.
    assert out["grids"] == [[1, 1], [2, 1], [2, 2], [2, 2], [1, 4], [3, 3]]


def test_tiles_stay_inside_the_stage_apart_and_fill_it() -> None:
    out = probe()
    for name, (w, h) in {"wide": (1350, 640), "tall": (374, 650), "one": (374, 650)}.items():
        rects = out["placed"][name]
        assert all(inside(r, w, h) for r in rects), (name, rects)
        assert all(apart(a, b) for i, a in enumerate(rects) for b in rects[i + 1:]), name
        assert sum(r["w"] * r["h"] for r in rects) >= 0.5 * w * h, name
    assert all(abs(r["w"] / r["h"] - 16 / 9) < 0.01 for r in out["placed"]["wide"])


def test_a_shared_screen_has_its_strip_beside_a_wide_stage_and_below_a_tall_one() -> None:
    out = probe()
    wide, tall = out["wide"], out["tall"]
    assert wide["strip"]["x"] >= wide["focus"]["x"] + wide["focus"]["w"]
    assert wide["strip"]["h"] == 640 and wide["focus"]["w"] > 2 * wide["strip"]["w"]
    assert tall["strip"]["y"] >= tall["focus"]["y"] + tall["focus"]["h"]
    assert tall["strip"]["w"] == 374 and tall["focus"]["h"] >= 374 * 9 / 16 - 0.01


def test_the_bar_counts_time_in_minutes_then_hours() -> None:
    assert probe()["clocks"] == ["00:00", "01:05", "1:02:05", "00:00"]
