"""The forwarding path's clock readings agree with aiortc's."""

from __future__ import annotations

from aiortc import clock

from sfu.clock import ms_now, ntp_now


def test_ntp_time_matches_aiortc() -> None:
    ours, theirs = ntp_now(), clock.current_ntp_time()
    assert abs(ours - theirs) < (1 << 32) // 100  # within 10 ms


def test_milliseconds_match_aiortc() -> None:
    assert abs(ms_now() - clock.current_ms()) <= 10


def test_the_fraction_is_32_bits() -> None:
    for _ in range(1000):
        value = ntp_now()
        assert 0 <= value & 0xFFFFFFFF < 1 << 32 and value >> 32 > 3_900_000_000
