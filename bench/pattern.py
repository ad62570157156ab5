"""The benchmark's test picture, drawn and read directly in YUV 4:2:0.

Top: the frame number as a 16-bit bar code (one cell per bit, white = 1).
Middle: a flat body in the publisher's colour.
Bottom: a band of fresh low-amplitude noise in every frame, so the encoder has real
work and spends its whole bitrate, as a camera picture would make it.

Everything is built in YUV so neither side pays for an RGB conversion. Reading the
frame number only samples a few luma pixels through the plane's buffer, cheap
enough for every decoded frame; the full check (body colour) is for a sample.
"""

from __future__ import annotations

import fractions
from typing import Any, cast

import numpy as np
from av import VideoFrame

WIDTH, HEIGHT = 640, 480
FPS = 30
VIDEO_CLOCK = 90000
TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK)
BITS = 16
CELL_W = WIDTH // BITS
BAR_H = 32
NOISE_H = 64
NOISE_AMPLITUDE = 24
NOISE_POOL = 8
Y_ON, Y_OFF = 235, 16
FRAME_MOD = 1 << BITS

# (Y, U, V) of each publisher's body colour (BT.601, limited range).
COLOURS_YUV = [(82, 90, 240), (112, 90, 70), (60, 200, 110), (150, 50, 150), (90, 160, 170)]


class PatternSource:
    """Produces the frames of one publisher: call `frame(n)` for frame number n."""

    def __init__(self, index: int, seed: int = 1) -> None:
        self.index = index
        y, u, v = COLOURS_YUV[index % len(COLOURS_YUV)]
        self._y = np.full((HEIGHT, WIDTH), y, dtype=np.uint8)
        self._u = np.full((HEIGHT // 2, WIDTH // 2), u, dtype=np.uint8)
        self._v = np.full((HEIGHT // 2, WIDTH // 2), v, dtype=np.uint8)
        self._y[:BAR_H] = Y_OFF
        self._u[:BAR_H // 2] = 128
        self._v[:BAR_H // 2] = 128
        self._u[(HEIGHT - NOISE_H) // 2:] = 128
        self._v[(HEIGHT - NOISE_H) // 2:] = 128
        rng = np.random.default_rng(seed)
        self._noise = [
            (128 + rng.integers(-NOISE_AMPLITUDE, NOISE_AMPLITUDE + 1, (NOISE_H, WIDTH)))
            .astype(np.uint8) for _ in range(NOISE_POOL)]

    def frame(self, number: int) -> VideoFrame:
        n = number % FRAME_MOD
        for bit in range(BITS):
            on = (n >> (BITS - 1 - bit)) & 1
            self._y[:BAR_H, bit * CELL_W:(bit + 1) * CELL_W] = Y_ON if on else Y_OFF
        self._y[HEIGHT - NOISE_H:] = self._noise[number % NOISE_POOL]
        packed = np.concatenate([self._y.reshape(-1), self._u.reshape(-1), self._v.reshape(-1)])
        frame = VideoFrame.from_ndarray(packed.reshape(HEIGHT * 3 // 2, WIDTH), format="yuv420p")
        frame.pts = int(number * VIDEO_CLOCK / FPS)
        frame.time_base = TIME_BASE
        return frame


_SAMPLE_ROWS = np.array([BAR_H // 2 - 4, BAR_H // 2, BAR_H // 2 + 4])
_SAMPLE_COLS = np.array([bit * CELL_W + CELL_W // 2 for bit in range(BITS)])
_WEIGHTS = np.array([1 << (BITS - 1 - bit) for bit in range(BITS)], dtype=np.int64)


def _plane(frame: VideoFrame, index: int, height: int) -> np.ndarray:
    plane = frame.planes[index]
    data: np.ndarray = np.frombuffer(cast(Any, plane), dtype=np.uint8)
    return data[:plane.line_size * height].reshape(height, plane.line_size)


def read_number(frame: VideoFrame) -> int | None:
    """The frame number in a decoded frame, or None when it is not our picture size."""
    if frame.width != WIDTH or frame.height != HEIGHT or frame.format.name != "yuv420p":
        return None
    y = _plane(frame, 0, HEIGHT)
    cells = y[np.ix_(_SAMPLE_ROWS, _SAMPLE_COLS)].mean(axis=0)
    bits = (cells > (Y_ON + Y_OFF) / 2).astype(np.int64)
    return int((bits * _WEIGHTS).sum())


def verify(frame: VideoFrame, index: int, number: int) -> bool:
    """Full check of one decoded frame: publisher colour and a readable bar code."""
    if read_number(frame) != number:
        return False
    y = _plane(frame, 0, HEIGHT)[:, :WIDTH]
    u = _plane(frame, 1, HEIGHT // 2)[:, :WIDTH // 2]
    v = _plane(frame, 2, HEIGHT // 2)[:, :WIDTH // 2]
    top, bottom = BAR_H + 8, HEIGHT - NOISE_H - 8
    expected = COLOURS_YUV[index % len(COLOURS_YUV)]
    got = (float(y[top:bottom].mean()), float(u[top // 2:bottom // 2].mean()),
           float(v[top // 2:bottom // 2].mean()))
    if max(abs(a - b) for a, b in zip(got, expected, strict=True)) > 12:
        return False
    # Each cell must be clearly white or black, not a smear of its neighbours.
    cells = y[4:BAR_H - 4].reshape(BAR_H - 8, BITS, CELL_W)[:, :, 6:-6].mean(axis=(0, 2))
    return bool(np.all((cells > Y_ON - 40) | (cells < Y_OFF + 40)))


def frame_gap(previous: int, current: int, modulus: int = FRAME_MOD) -> int:
    """Frame numbers skipped between two consecutive decoded frames; -1 if out of order.

    Frame numbers run modulo `modulus` (a replayed picture repeats sooner than 2^16).
    """
    step = (current - previous) % modulus
    if step == 0 or step >= modulus // 2:
        return -1
    return step - 1
