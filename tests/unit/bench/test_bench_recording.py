"""The recording benchmark's summary: CPU with recording on against off."""

from __future__ import annotations

import pytest

from bench.recording import parse_args, summarize


def test_summary_is_the_ratio_of_mean_cpu_on_and_off() -> None:
    windows = [{"recording": False, "cpu_s_per_s": 0.10}, {"recording": True, "cpu_s_per_s": 0.11},
               {"recording": False, "cpu_s_per_s": 0.12}, {"recording": True, "cpu_s_per_s": 0.12}]
    result = summarize(windows)
    assert result["cpu_off_s_per_s"] == 0.11 and result["cpu_on_s_per_s"] == 0.115
    assert result["ratio"] == pytest.approx(1.045, abs=1e-3)
    assert result["extra_percent"] == 4.5 and result["within_target"] is True
    assert summarize([{"recording": False, "cpu_s_per_s": 0.1},
                      {"recording": True, "cpu_s_per_s": 0.2}])["within_target"] is False
    with pytest.raises(ValueError):
        summarize([{"recording": True, "cpu_s_per_s": 0.1}])


def test_arguments_are_checked() -> None:
    assert parse_args([]).publishers == 3
    with pytest.raises(SystemExit):
        parse_args(["--rounds", "0"])
