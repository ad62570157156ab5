"""Known media for tests: each publisher sends a recognisable picture and tone.

Video: the whole frame is the publisher's colour, with the frame number written as a
16-bit bar code across the top. A decoded frame is checked for both, so a test
proves the subscriber got that publisher's own frames, in order.
Audio: a sine tone at the publisher's own frequency; checked by its spectrum peak.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from dataclasses import dataclass, field

import numpy as np
from aiortc import MediaStreamTrack
from av import AudioFrame, VideoFrame

WIDTH, HEIGHT = 320, 240
BITS = 12
BAR_H = 48
VIDEO_CLOCK = 90000
SMALL = (160, 120)
"""A thumbnail's size, for tests with many peers."""
SIZES = {(WIDTH, HEIGHT), SMALL}
"""The sizes test publishers send; decoded frames of any other size are skipped."""

COLOURS = [(200, 40, 40), (40, 170, 40), (40, 60, 200), (200, 180, 30), (160, 40, 160),
           (30, 170, 170), (230, 120, 40), (120, 120, 120)]
TONES = [440.0, 660.0, 880.0, 550.0, 770.0, 990.0, 330.0, 1100.0]


def draw_pattern(index: int, frame_no: int, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[:, :] = COLOURS[index % len(COLOURS)]
    bar_w = width // BITS
    for bit in range(BITS):
        on = (frame_no >> (BITS - 1 - bit)) & 1
        img[:BAR_H, bit * bar_w:(bit + 1) * bar_w] = 255 if on else 0
    return img


def read_pattern(img: np.ndarray) -> tuple[int, int]:
    """Return (publisher index, frame number) read from a decoded RGB frame."""
    height, width, _ = img.shape
    body = img[BAR_H + 8:, :].reshape(-1, 3).mean(axis=0)
    index = int(np.argmin([np.abs(body - np.array(c)).sum() for c in COLOURS]))
    bar_w = width // BITS
    frame_no = 0
    for bit in range(BITS):
        cell = img[4:BAR_H - 4, bit * bar_w + 4:(bit + 1) * bar_w - 4]
        frame_no = (frame_no << 1) | (1 if cell.mean() > 127 else 0)
    return index, frame_no


def colour_distance(img: np.ndarray, index: int) -> float:
    body = img[BAR_H + 8:, :].reshape(-1, 3).mean(axis=0)
    return float(np.abs(body - np.array(COLOURS[index])).max())


class PatternVideoTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self, index: int, fps: int = 30, width: int = WIDTH,
                 height: int = HEIGHT) -> None:
        super().__init__()
        self.index = index
        self.fps = fps
        self.size = (width, height)
        self.frame_no = 0
        self._start: float | None = None

    async def recv(self) -> VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        target = self._start + self.frame_no / self.fps
        delay = target - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        frame = VideoFrame.from_ndarray(draw_pattern(self.index, self.frame_no % (1 << BITS),
                                                     *self.size),
                                        format="rgb24")
        frame.pts = int(self.frame_no * VIDEO_CLOCK / self.fps)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self.frame_no += 1
        return frame


class ToneAudioTrack(MediaStreamTrack):
    kind = "audio"
    RATE = 48000
    SAMPLES = 960  # 20 ms

    def __init__(self, index: int, amplitude: int = 8000) -> None:
        super().__init__()
        self.freq = TONES[index % len(TONES)]
        self.amplitude = amplitude
        self.sent = 0
        self._start: float | None = None

    async def recv(self) -> AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        target = self._start + self.sent / self.RATE
        delay = target - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        t = (np.arange(self.SAMPLES) + self.sent) / self.RATE
        samples = (np.sin(2 * np.pi * self.freq * t) * self.amplitude).astype(np.int16)
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.RATE
        frame.pts = self.sent
        frame.time_base = fractions.Fraction(1, self.RATE)
        self.sent += self.SAMPLES
        return frame


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    return float(freqs[int(np.argmax(spectrum[1:])) + 1])


@dataclass
class ReceivedVideo:
    frames: int = 0
    indexes: list[int] = field(default_factory=list)
    frame_numbers: list[int] = field(default_factory=list)
    worst_colour_distance: float = 0.0
    first_frame_at: float | None = None


@dataclass
class ReceivedAudio:
    frames: int = 0
    samples: list[np.ndarray] = field(default_factory=list)

    def frequency(self) -> float:
        data = np.concatenate(self.samples[-100:]).astype(np.float64)
        return dominant_frequency(data, 48000)


async def drain_video(track: MediaStreamTrack, out: ReceivedVideo,
                      expected_index: int | None = None) -> None:
    while True:
        frame = await track.recv()
        img = frame.to_ndarray(format="rgb24")
        if (img.shape[1], img.shape[0]) not in SIZES:
            continue
        index, number = read_pattern(img)
        if out.first_frame_at is None:
            out.first_frame_at = time.monotonic()
        out.frames += 1
        out.indexes.append(index)
        out.frame_numbers.append(number)
        if expected_index is not None:
            out.worst_colour_distance = max(out.worst_colour_distance,
                                            colour_distance(img, expected_index))


async def drain_audio(track: MediaStreamTrack, out: ReceivedAudio) -> None:
    while True:
        frame = await track.recv()
        data = frame.to_ndarray()
        # aiortc decodes Opus to interleaved stereo s16: keep the first channel.
        mono = data.reshape(-1, len(frame.layout.channels))[:, 0]
        out.frames += 1
        out.samples.append(mono.copy())
        if len(out.samples) > 200:
            del out.samples[:100]
