"""Helpers to check recorded media: decode files and read the test patterns back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from signaling.records.compose_layout import Rect, fit, grid
from tests.integration.media import HEIGHT, WIDTH, dominant_frequency, read_pattern


@dataclass
class DecodedVideo:
    times: list[float] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.times[-1] - self.times[0] if self.times else 0.0


def decode_video(path: Path) -> DecodedVideo:
    out = DecodedVideo()
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.video[0]):
            img = frame.to_ndarray(format="rgb24")
            index, number = read_pattern(img)
            out.times.append(float(frame.time))
            out.indexes.append(index)
            out.numbers.append(number)
    return out


def decode_audio(path: Path) -> tuple[np.ndarray, float, float]:
    """Mono samples at 48 kHz, the first frame's time, and the end time."""
    parts: list[np.ndarray] = []
    resampler = av.AudioResampler(format="flt", layout="mono", rate=48000)
    first: float | None = None
    end = 0.0
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.audio[0]):
            if first is None:
                first = float(frame.time)
            end = float(frame.time) + frame.samples / frame.sample_rate
            for out in resampler.resample(frame):
                parts.append(out.to_ndarray().reshape(-1))
    samples = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    return samples, first or 0.0, end


def tone_of(path: Path) -> float:
    samples, _, _ = decode_audio(path)
    return dominant_frequency(samples[-48000:].astype(np.float64), 48000)


def tone_strength(samples: np.ndarray, frequency: float, rate: int = 48000) -> float:
    """Share of the spectrum's energy within 10 Hz of `frequency`."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    band = (freqs > frequency - 10) & (freqs < frequency + 10)
    return float(spectrum[band].sum() / max(spectrum.sum(), 1e-12))


def tile_patterns(img: np.ndarray, count: int) -> list[tuple[int, int]]:
    """(publisher index, frame number) read from each tile of a grid of `count`."""
    height, width, _ = img.shape
    found = []
    for box in grid(count, width, height):
        place: Rect = fit(WIDTH, HEIGHT, box)
        crop = img[place.y:place.y + place.height, place.x:place.x + place.width]
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(crop), format="rgb24")
        small = frame.reformat(width=WIDTH, height=HEIGHT).to_ndarray(format="rgb24")
        found.append(read_pattern(small))
    return found
