"""Who is speaking: a pure rule over the RFC 6464 audio levels of a router's producers.

Every browser puts the level of each audio packet in a header extension (RFC 6464:
0 is the loudest, 127 is silence, in -dBov). The forwarding path only adds each level
to its producer's running sum; every `TICK_S` this detector turns the sums into a
loudness (127 - level, so louder is higher), smooths it, and decides:

- a producer counts as speaking when its smoothed loudness is above `SPEAKING_MIN`
  (louder than -70 dBov);
- a new speaker takes over only when louder than the current one by `MARGIN` for
  `HOLD_TICKS` ticks in a row (hysteresis: no flicker between two people talking);
- the current speaker stays highlighted through short pauses, until someone else
  takes over or everyone has been silent for `SILENCE_S`;
- a change is reported at most once per `MIN_INTERVAL_S` (about twice a second).

The detector counts its ticks and the changes it reported (`announcements`), which the
router's stats carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

TICK_S = 0.25
SMOOTHING = 0.5
"""Weight of the newest tick in the moving average (about a one-second window)."""
SPEAKING_MIN = 57.0
"""Loudness (127 - level) above which a producer is speaking: louder than -70 dBov."""
MARGIN = 6.0
HOLD_TICKS = 2
SILENCE_S = 2.0
MIN_INTERVAL_S = 0.5

UNCHANGED = object()
"""`tick` returns this when the active speaker stays the same."""


@dataclass
class SpeakerDetector:
    smoothed: dict[str, float] = field(default_factory=dict)
    current: str | None = None
    _challenger: str | None = None
    _held: int = 0
    _silent_since: float | None = None
    _last_change: float = float("-inf")
    ticks: int = 0
    announcements: int = 0

    def tick(self, loudness: Mapping[str, float | None], now: float) -> object:
        """Feed one tick: the mean loudness of each live audio producer since the last
        tick (None when it sent no levels). Returns the new speaker id, None when
        nobody speaks any more, or UNCHANGED."""
        self.ticks += 1
        for key in list(self.smoothed):
            if key not in loudness:
                del self.smoothed[key]
        for key, value in loudness.items():
            previous = self.smoothed.get(key, 0.0)
            sample = 0.0 if value is None else value
            self.smoothed[key] = (1 - SMOOTHING) * previous + SMOOTHING * sample
        if self.current is not None and self.current not in self.smoothed:
            return self._change(None, now)
        speaking = {k: v for k, v in self.smoothed.items() if v > SPEAKING_MIN}
        if not speaking:
            self._challenger, self._held = None, 0
            if self.current is None:
                return UNCHANGED
            if self._silent_since is None:
                self._silent_since = now
            if now - self._silent_since >= SILENCE_S:
                return self._change(None, now)
            return UNCHANGED
        self._silent_since = None
        loudest = max(speaking, key=lambda k: speaking[k])
        if loudest == self.current:
            self._challenger, self._held = None, 0
            return UNCHANGED
        current_level = self.smoothed.get(self.current, 0.0) if self.current else 0.0
        if self.current is not None and speaking[loudest] < current_level + MARGIN:
            self._challenger, self._held = None, 0
            return UNCHANGED
        self._held = self._held + 1 if loudest == self._challenger else 1
        self._challenger = loudest
        if self._held < HOLD_TICKS and self.current is not None:
            return UNCHANGED
        return self._change(loudest, now)

    def _change(self, speaker: str | None, now: float) -> object:
        if now - self._last_change < MIN_INTERVAL_S:
            return UNCHANGED
        self.current = speaker
        self._challenger, self._held = None, 0
        self._last_change = now
        self.announcements += 1
        return speaker
