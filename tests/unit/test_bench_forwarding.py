"""The forwarding benchmark runs end to end for one subscriber and reports its schema.

Besides the smoke run (real processes, real aiortc peers on 127.0.0.1, about 30 s),
the pure parts are checked without a network: the test picture's frame numbers and
colour survive a VP8 round trip, and the result rows and ratios are computed right.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.forwarding import make_row, ratios
from bench.pattern import FRAME_MOD, PatternSource, frame_gap, read_number, verify

REPO = Path(__file__).resolve().parents[2]

ROW_KEYS = {
    "impl": str, "subscribers": int, "us_per_packet": float, "cpu_per_stream": float,
    "fps_min": float, "lost_frames": int, "packets_per_s": float, "cpu_s_per_s": float,
    "verified_frames": int, "seconds": float,
}


def test_pattern_survives_a_vp8_round_trip() -> None:
    from aiortc.codecs.vpx import Vp8Decoder, Vp8Encoder, VpxPayloadDescriptor
    from aiortc.jitterbuffer import JitterFrame

    source = PatternSource(index=1)
    encoder, decoder = Vp8Encoder(), Vp8Decoder()
    numbers = []
    for number in (0, 1, 2, 40000, 65535):
        payloads, timestamp = encoder.encode(source.frame(number))
        data = b"".join(VpxPayloadDescriptor.parse(p)[1] for p in payloads)
        for frame in decoder.decode(JitterFrame(data=data, timestamp=timestamp)):
            numbers.append(read_number(frame))
            assert verify(frame, 1, number)
            assert not verify(frame, 2, number), "another publisher's colour must not pass"
    assert numbers == [0, 1, 2, 40000, 65535]


def test_frame_gaps_count_skipped_numbers_across_the_wrap() -> None:
    assert frame_gap(10, 11) == 0
    assert frame_gap(10, 14) == 3
    assert frame_gap(FRAME_MOD - 1, 1) == 1
    assert frame_gap(10, 10) == -1
    assert frame_gap(10, 9) == -1


def _sfu(t: float, cpu: float, sent: int) -> dict[str, object]:
    return {"t": t, "cpu": cpu, "sent": sent, "received": sent // 2, "waiting_keyframe": 0}


def _load(t: float, decoded: tuple[int, int], gaps: int) -> dict[str, object]:
    subs = {name: {"decoded": frames, "gaps": gaps, "verified": frames // 30,
                   "verify_failed": 0, "packets": frames * 7, "packets_lost": 0}
            for name, frames in zip(("s1", "s2"), decoded, strict=True)}
    return {"t": t, "cpu": t / 10, "subs": subs}


def test_row_and_ratio_arithmetic() -> None:
    start = [_sfu(100.0, 5.0, 1000), {"t": 100.0, "cpu": 1.0, "frames": 0, "packets": 0},
             _load(100.0, (0, 0), 0)]
    end = [_sfu(110.0, 6.0, 5000), {"t": 110.0, "cpu": 2.0, "frames": 300, "packets": 2000},
           _load(110.0, (300, 270), 2)]
    row = make_row("giaoban", 2, start, end)
    assert row["us_per_packet"] == 250.0  # 1 CPU-s over 4000 packets
    assert row["cpu_s_per_s"] == 0.1
    assert row["cpu_per_stream"] == 0.05  # per subscriber (its video + audio)
    assert row["fps_min"] == 27.0 and row["fps_mean"] == 28.5
    assert row["lost_frames"] == 4
    assert row["frames_short_max"] == 30
    relay = dict(row, impl="mediarelay", cpu_per_stream=0.5)
    assert ratios([row, relay, {"impl": "giaoban", "subscribers": 4, "error": "x"}]) == {"2": 10.0}


@pytest.mark.timeout(150)
def test_smoke_run_prints_one_json_object() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "forwarding.py"), "--subscribers", "1",
         "--seconds", "3", "--warmup", "1", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=140)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert set(report) >= {"rows", "ratios", "config", "machine"}
    assert [(r["impl"], r["subscribers"]) for r in report["rows"]] == [
        ("giaoban", 1), ("mediarelay", 1)]
    for row in report["rows"]:
        for key, kind in ROW_KEYS.items():
            assert isinstance(row[key], kind) or (kind is float and isinstance(row[key], int)), \
                (key, row[key])
        assert row["packets_per_s"] > 50, row
        assert row["fps_min"] > 10, row
        assert row["verified_frames"] >= 1 and row["verify_failures"] == 0, row
    assert set(report["ratios"]) == {"1"} and report["ratios"]["1"] > 0
    assert "N=1 giaoban: measuring 3 s" in result.stderr
