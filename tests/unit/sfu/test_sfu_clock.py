"""The forwarding path's clock readings agree with aiortc's."""

from __future__ import annotations

import time

from aiortc import clock

from sfu.clock import NTP_OFFSET_S, ms_now, ntp_now


def test_ntp_time_matches_aiortc() -> None:
    ours, theirs = ntp_now(), clock.current_ntp_time()
    assert abs(ours - theirs) < (1 << 32) // 100  # within 10 ms


def test_milliseconds_match_aiortc() -> None:
    assert abs(ms_now() - clock.current_ms()) <= 10


def test_the_fraction_is_32_bits() -> None:
    """The high 32 bits are NTP seconds, the low 32 bits the fraction of a second: read
    back together they give the time of the call."""
    fractions = set()
    for _ in range(1000):
        before = time.time()
        value = ntp_now()
        after = time.time()
        assert 0 < value < 1 << 64 and value >> 32 > 3_900_000_000
        fraction = (value & 0xFFFFFFFF) / (1 << 32)
        fractions.add(value & 0xFFFFFFFF)
        read_back = (value >> 32) - NTP_OFFSET_S + fraction
        assert before - 1e-6 <= read_back <= after + 1e-6, (before, read_back, after)
    assert len(fractions) > 1  # the fraction moves within a second
