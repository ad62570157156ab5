"""Per-consumer sequence and timestamp rewriting."""

from __future__ import annotations

import random

from sfu.rewrite import SEQ_MOD, TS_MOD, SequenceRewriter


def test_continuous_run_keeps_spacing() -> None:
    r = SequenceRewriter(90000, random.Random(1))
    out = [r.rewrite(111, 65534 + i, 4_294_960_000 + 3000 * i, now=i / 30) for i in range(5)]
    seqs = [s for s, _ in out]
    assert [(b - a) % SEQ_MOD for a, b in zip(seqs, seqs[1:])] == [1, 1, 1, 1]
    stamps = [t for _, t in out]
    assert [(b - a) % TS_MOD for a, b in zip(stamps, stamps[1:])] == [3000] * 4


def test_resync_continues_without_a_hole() -> None:
    r = SequenceRewriter(90000, random.Random(2))
    last, last_ts = r.rewrite(1, 100, 1000, now=0.0)
    r.resync()
    nxt, nxt_ts = r.rewrite(1, 5000, 777_777, now=0.5)  # far ahead: dropped packets
    assert nxt == (last + 1) % SEQ_MOD
    assert (nxt_ts - last_ts) % TS_MOD == 45000  # 0.5 s of real time at 90 kHz


def test_new_source_ssrc_starts_a_new_run() -> None:
    r = SequenceRewriter(48000, random.Random(3))
    a, _ = r.rewrite(1, 10, 0, now=0.0)
    b, _ = r.rewrite(2, 60000, 5, now=0.02)
    assert b == (a + 1) % SEQ_MOD


def test_reordered_packet_keeps_its_place() -> None:
    r = SequenceRewriter(90000, random.Random(4))
    first, _ = r.rewrite(1, 10, 0, now=0.0)
    third, _ = r.rewrite(1, 12, 0, now=0.0)
    second, _ = r.rewrite(1, 11, 0, now=0.0)
    assert (second - first) % SEQ_MOD == 1 and (third - first) % SEQ_MOD == 2
    fourth, _ = r.rewrite(1, 13, 0, now=0.0)
    assert (fourth - first) % SEQ_MOD == 3


def test_random_start_differs_per_consumer() -> None:
    starts = {SequenceRewriter(90000).rewrite(1, 0, 0, now=0.0)[0] for _ in range(20)}
    assert len(starts) > 1
    assert all(s < SEQ_MOD for s in starts)


def test_a_resumed_run_advances_the_timestamp_by_the_time_that_passed() -> None:
    rw = SequenceRewriter(90_000, random.Random(7))
    _, ts1 = rw.rewrite(0x1111, 100, 5_000, now=10.0)
    rw.resync()
    seq2, ts2 = rw.rewrite(0x2222, 900, 77, now=12.0)  # 2 s later, another source
    assert (ts2 - ts1) % TS_MOD == 180_000
    rw.resync()
    _, ts3 = rw.rewrite(0x2222, 5_000, 123_456, now=12.0)  # no time passed: one tick on
    assert (ts3 - ts2) % TS_MOD == 1


def test_a_late_packet_does_not_move_the_anchor() -> None:
    rw = SequenceRewriter(90_000, random.Random(8))
    first, _ = rw.rewrite(0x1111, 10, 1_000, now=1.0)
    newest, newest_ts = rw.rewrite(0x1111, 11, 4_000, now=1.1)
    late, _ = rw.rewrite(0x1111, 9, 0, now=1.2)  # reordered: older than the newest
    assert (late - first) % SEQ_MOD == SEQ_MOD - 1
    assert (rw.last_seq, rw.last_ts) == (newest, newest_ts)
    rw.resync()
    resumed, _ = rw.rewrite(0x3333, 40_000, 0, now=1.3)
    assert resumed == (newest + 1) % SEQ_MOD


def test_a_forward_jump_below_half_the_range_moves_the_anchor() -> None:
    rw = SequenceRewriter(90_000, random.Random(9))
    start, _ = rw.rewrite(0x1111, 0, 0, now=1.0)
    jumped, jumped_ts = rw.rewrite(0x1111, 30_000, 90, now=1.1)  # forward, past a third
    assert (rw.last_seq, rw.last_ts) == (jumped, jumped_ts)
    back, _ = rw.rewrite(0x1111, 30_000 - SEQ_MOD // 2, 0, now=1.2)  # exactly half back
    assert (rw.last_seq, rw.last_ts) == (jumped, jumped_ts)
    assert (back - start) % SEQ_MOD == 30_000 - SEQ_MOD // 2 + SEQ_MOD
