"""Pure rules of the composed picture: where each video goes, and who is speaking.

Tested without decoding anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rect:
    x: int
    y: int
    width: int
    height: int


def grid(count: int, width: int, height: int) -> list[Rect]:
    """`count` equal tiles filling the canvas, as square a grid as fits it."""
    if count <= 0:
        return []
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    tile_w, tile_h = width // columns, height // rows
    rects = []
    for index in range(count):
        row, column = divmod(index, columns)
        in_row = min(columns, count - row * columns)
        offset = (width - in_row * tile_w) // 2  # centre a short last row
        rects.append(Rect(offset + column * tile_w, row * tile_h, tile_w, tile_h))
    return rects


def speaker(count: int, width: int, height: int) -> list[Rect]:
    """The first tile large across the top, the others in a strip below it."""
    if count <= 0:
        return []
    if count == 1:
        return [Rect(0, 0, width, height)]
    strip_h = height // 4
    main = Rect(0, 0, width, height - strip_h)
    others = count - 1
    tile_w = min(width // others, strip_h * 16 // 9)
    offset = (width - tile_w * others) // 2
    return [main] + [Rect(offset + i * tile_w, height - strip_h, tile_w, strip_h)
                     for i in range(others)]


def fit(source_w: int, source_h: int, box: Rect) -> Rect:
    """The largest rectangle of the source's shape centred in `box` (even sizes)."""
    if source_w <= 0 or source_h <= 0:
        return box
    scale = min(box.width / source_w, box.height / source_h)
    w = max(2, int(source_w * scale) // 2 * 2)
    h = max(2, int(source_h * scale) // 2 * 2)
    return Rect(box.x + (box.width - w) // 2, box.y + (box.height - h) // 2, w, h)


class SpeakerTracker:
    """Follows the loudest participant, without flickering between two voices.

    Each step gets every participant's audio energy; levels are smoothed, and the
    speaker changes only once someone else has been clearly louder for `hold_s`.
    """

    def __init__(self, step_s: float, smoothing_s: float = 0.5, hold_s: float = 1.0,
                 margin: float = 1.5, floor: float = 1e-4) -> None:
        self.alpha = min(1.0, step_s / smoothing_s)
        self.hold_steps = max(1, round(hold_s / step_s))
        self.margin = margin
        self.floor = floor
        self.levels: dict[str, float] = {}
        self.current: str | None = None
        self._challenger: str | None = None
        self._count = 0

    def step(self, energies: dict[str, float]) -> str | None:
        for key in set(self.levels) | set(energies):
            level = self.levels.get(key, 0.0)
            self.levels[key] = level + self.alpha * (energies.get(key, 0.0) - level)
        loudest = max(self.levels, key=lambda k: self.levels[k], default=None)
        if loudest is None or self.levels[loudest] < self.floor:
            return self.current
        if self.current is None or self.current not in self.levels:
            self.current = loudest
            return self.current
        if loudest != self.current and (
                self.levels[loudest] > self.margin * self.levels[self.current]):
            if self._challenger == loudest:
                self._count += 1
            else:
                self._challenger, self._count = loudest, 1
            if self._count >= self.hold_steps:
                self.current, self._challenger, self._count = loudest, None, 0
        else:
            self._challenger, self._count = None, 0
        return self.current


def close_gaps(spans: list[tuple[float, float]], longest_gap_s: float) -> list[float]:
    """How far to move each span (start, end) earlier so that stretches longer than
    `longest_gap_s` in which no span is running are cut out of the timeline (a meeting
    that went live twice is composed without the hour in between)."""
    order = sorted(range(len(spans)), key=lambda i: spans[i][0])
    shifts = [0.0] * len(spans)
    removed = 0.0
    covered_until: float | None = None
    for i in order:
        start, end = spans[i]
        if covered_until is not None and start - covered_until > longest_gap_s:
            removed += start - covered_until - longest_gap_s
        shifts[i] = removed
        covered_until = end if covered_until is None else max(covered_until, end)
    return shifts


def progress(done_s: float, total_s: float, elapsed_s: float) -> tuple[float, float | None]:
    """(percent, seconds remaining) of a job that has covered `done_s` of `total_s`."""
    if total_s <= 0:
        return 100.0, 0.0
    fraction = max(0.0, min(1.0, done_s / total_s))
    if fraction <= 0:
        return 0.0, None
    return round(100 * fraction, 1), round(elapsed_s * (1 - fraction) / fraction, 1)
