"""`--mode briefing` runs end to end on a tiny meeting, and its figures add up.

The smoke run: 4 participants, 2 of them speakers, 2 tiles a page, one speaker change,
real processes and real aiortc peers through `WorkerPool` on 127.0.0.1.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.briefing_report import briefing_table, compare

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.timeout(150)
def test_smoke_run_of_a_small_briefing() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "forwarding.py"), "--mode", "briefing",
         "--participants", "4", "--speakers", "2", "--tiles-per-page", "2", "--workers", "1",
         "--baseline-participants", "0", "--switch-every", "5", "--seconds", "2",
         "--warmup", "1", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=140)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    [row] = report["rows"]
    for key in ("participants", "workers", "forwarded_pps", "sfu_cpu", "us_per_packet",
                "fps_min_speaker", "lost_frames", "speaker_switch_s"):
        assert row[key] is not None, key
    assert (row["participants"], row["workers"], row["visibility"]) == (4, 1, True)
    # Each page shows 2 of the 3 others: the third camera is paused, so nothing of it
    # arrives, and the speakers' cameras are what is shown.
    assert row["shown_per_subscriber"] == 2.0, row
    assert row["unshown_frames"] == 0, row
    assert row["fps_min_speaker"] > 10, row
    assert row["verified_frames"] >= 1 and row["verify_failures"] == 0, row
    assert row["switch_missing"] == 0 and row["speaker_switch_s"] < 10, row
    assert row["speaker_detect_s"] is not None, "the SFU's own detection found the new speaker"
    assert row["forwarded_pps"] > 0 and row["sfu_cpu"] > 0, row
    assert "P=4 workers=1: measuring 2 s" in result.stderr


def test_comparison_is_per_participant_and_capacity_against_one_worker() -> None:
    def row(p: int, workers: int, visibility: bool, pps: float, cpu: float,
            capacity: float) -> dict[str, object]:
        return {"participants": p, "workers": workers, "visibility": visibility,
                "check_pps_per_participant": pps, "check_cpu_per_participant": cpu,
                "forwarded_pps": capacity, "sfu_cpu": 1.0, "us_per_packet": 10.0,
                "worker_cpu_s_per_s": [1.0] * workers, "fps_min_speaker": 30.0,
                "lost_frames": 0, "speaker_switch_s": 1.2}

    rows = [row(150, 1, True, 400.0, 0.004, 50000.0), row(150, 2, True, 400.0, 0.004, 90000.0),
            row(20, 1, False, 1000.0, 0.012, 40000.0)]
    comparison = compare(rows + [{"workers": 3, "error": "gone"}])
    assert comparison["scaling"] == {"1": 1.0, "2": 1.8}
    assert comparison["without_visibility"] == {
        "participants": 20, "against": 150, "pps_per_participant": 2.5,
        "cpu_per_participant": 3.0}
    text = briefing_table(rows, comparison)
    assert "2 workers: 1.80×" in text and "2.50× the forwarded packets" in text
    assert "30.0 ✓" in text and "1.2 ✓" in text
    missed = briefing_table([{**rows[0], "fps_min_speaker": 20.0, "lost_frames": 3}], {})
    assert "20.0 ✗" in missed and "3 ✗" in missed
