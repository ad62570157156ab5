"""The quality charts' axes, run in Node on the page's own module (charts.js): times in
the page's language and the configured time zone, value axes from zero, one number of
decimals per axis, written as the language writes numbers."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from web.pages import views

CHARTS = views.WEB_DIR / "static" / "js" / "charts.js"
# 2026-12-02 04:48 UTC is 11:48 in Hà Nội; the next day's 00:10 there is 17:10 UTC.
PROBE = """
import { timeLabels, numberLabels, fromZero, decimalsFor } from "%s";
const out = {};
for (const lang of ["vi", "en"]) {
  out[lang] = {
    times: timeLabels(lang, "Asia/Ho_Chi_Minh")([1796186880, 1796187180]),
    days: timeLabels(lang, "Asia/Ho_Chi_Minh")([1796186880, 1796274600]),
    big: numberLabels(lang)([0, 2000, 4000]),
    small: numberLabels(lang)([0, 0.5, 1, 1.5]),
    mixed: numberLabels(lang)([0, 2187.5, 4375]),
  };
}
out.range = [fromZero(0, 0), fromZero(-3, 40), fromZero(0, 4.4)];
out.decimals = [decimalsFor(5), decimalsFor(0.5), decimalsFor(0.25), decimalsFor(0.001)];
console.log(JSON.stringify(out));
"""


def probe() -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: run `make test`, which installs nodejs")
    done = subprocess.run([node, "--input-type=module", "-e", PROBE % CHARTS.as_uri()],
                          capture_output=True, text=True, timeout=60, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_chart_axes_follow_the_language_and_time_zone() -> None:
    out = probe()
    assert out["vi"]["times"] == ["11:48", "11:53"]
    assert out["en"]["times"] == ["11:48", "11:53"]  # a 24-hour clock, never "11:48 am"
    assert out["vi"]["days"] == out["en"]["days"] == ["02/12 11:48", "03/12 12:10"]
    assert out["vi"]["big"] == ["0", "2.000", "4.000"]
    assert out["en"]["big"] == ["0", "2,000", "4,000"]
    assert out["vi"]["small"] == ["0,0", "0,5", "1,0", "1,5"]
    assert out["en"]["small"] == ["0.0", "0.5", "1.0", "1.5"]
    assert out["vi"]["mixed"] == ["0,0", "2.187,5", "4.375,0"]


def test_value_axes_never_go_below_zero() -> None:
    out = probe()
    assert out["range"][0] == [0, 1]
    assert out["range"][1][0] == 0 and out["range"][1][1] == pytest.approx(44)
    assert out["range"][2][0] == 0
    assert out["decimals"] == [0, 1, 2, 3]
