"""Pure rule: rewrite a publisher's RTP sequence numbers and timestamps for one consumer.

Each consumer has its own random starting point. When the consumer resumes after a
gap (waiting for a keyframe, a pause, a publisher restart), the next packet continues
the consumer's numbering without a hole, and its timestamp advances by the real time
that passed, so the subscriber's jitter buffer sees one continuous stream.
"""

from __future__ import annotations

import random

SEQ_MOD = 1 << 16
TS_MOD = 1 << 32


class SequenceRewriter:
    __slots__ = ("clock_rate", "_seq_offset", "_ts_offset", "_source_ssrc", "last_seq",
                 "last_ts", "_last_time")

    def __init__(self, clock_rate: int, rng: random.Random | None = None) -> None:
        r = rng or random.Random()
        self.clock_rate = clock_rate
        self._seq_offset: int | None = None
        self._ts_offset = 0
        self._source_ssrc: int | None = None
        # Start in the lower half of the range, as aiortc does, so SRTP rollover is far.
        self.last_seq = r.randrange(0, SEQ_MOD // 2)
        self.last_ts = r.randrange(0, TS_MOD)
        self._last_time: float | None = None

    def resync(self) -> None:
        """The next packet starts a new run: recompute the offsets from it."""
        self._seq_offset = None

    def rewrite(self, ssrc: int, seq: int, ts: int, now: float) -> tuple[int, int]:
        """Map one incoming (seq, ts) to the consumer's numbering; `now` is in seconds."""
        if self._seq_offset is None or ssrc != self._source_ssrc:
            self._source_ssrc = ssrc
            next_seq = (self.last_seq + 1) % SEQ_MOD
            elapsed = 0.0 if self._last_time is None else max(0.0, now - self._last_time)
            next_ts = (self.last_ts + max(1, int(elapsed * self.clock_rate))) % TS_MOD
            self._seq_offset = (next_seq - seq) % SEQ_MOD
            self._ts_offset = (next_ts - ts) % TS_MOD
        out_seq = (seq + self._seq_offset) % SEQ_MOD
        out_ts = (ts + self._ts_offset) % TS_MOD
        # Only move forward: a late (reordered) packet must not rewind the anchor.
        if ((out_seq - self.last_seq) % SEQ_MOD) < SEQ_MOD // 2:
            self.last_seq = out_seq
            self.last_ts = out_ts
            self._last_time = now
        return out_seq, out_ts
