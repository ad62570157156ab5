"""Compose one MP4 (H.264 + AAC) from a meeting's recorded tracks.

Run as a low-priority child process by the composition queue:

    python -m signaling.records.compose SPEC.json

SPEC names the meeting directory, the output file, the layout and the tracks to use
(with who published them and from which source). First each track's segments are
joined into one file per track (packets copied, nothing re-encoded); then the tracks
are decoded, lined up on one timeline from their wall-clock starts, laid out (grid,
or the active speaker large), the audio mixed, and the result encoded. Progress goes
to stdout as JSON lines: {"percent": P, "remaining_s": S}; the last line is
{"done": {...}} with the files written.
"""

from __future__ import annotations

import fractions
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np

from sfu.recording_files import (
    PART_SUFFIX,
    SEGMENTS_DIR,
    TrackManifest,
    joined_track_name,
    read_manifests,
)
from signaling.records.compose_layout import (
    Rect,
    SpeakerTracker,
    close_gaps,
    fit,
    grid,
    progress,
    speaker,
)

logger = logging.getLogger(__name__)

WIDTH, HEIGHT, FPS = 1280, 720, 15
RATE = 48000
BACKGROUND = 24
HOLD_S = 1.0
"""A video that sends nothing for longer than this shows as an empty tile."""
JOIN_SHARE = 10.0
"""Percent of the progress bar given to joining the segments."""
NICE = 10
LONGEST_GAP_S = 5.0
"""Longer stretches with nothing recorded (between two sessions) are cut out."""

Progress = Callable[[float, float | None], None]


class ComposeError(Exception):
    """The recording cannot be composed (nothing recorded, unreadable files)."""


@dataclass(frozen=True, slots=True)
class TrackInfo:
    track: str
    username: str = ""
    source: str = ""


@dataclass
class Spec:
    directory: Path
    output: Path
    layout: str = "grid"
    tracks: list[TrackInfo] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    fps: int = FPS

    @classmethod
    def load(cls, path: Path) -> Spec:
        data = json.loads(path.read_text("utf-8"))
        return cls(directory=Path(data["directory"]), output=Path(data["output"]),
                   layout=data.get("layout", "grid"),
                   tracks=[TrackInfo(**t) for t in data.get("tracks", [])],
                   width=data.get("width", WIDTH), height=data.get("height", HEIGHT),
                   fps=data.get("fps", FPS))


# ---------------------------------------------------------------- joining segments


def join_track(directory: Path, manifest: TrackManifest) -> Path:
    """Copy a track's finished segments, in order, into one file; returns its path.

    When the segments are gone (joined by an earlier run), the joined file is kept.
    """
    target = directory / joined_track_name(manifest)
    segments = [directory / SEGMENTS_DIR / s.file for s in manifest.segments]
    if not all(p.exists() for p in segments):
        if target.exists():
            return target
        raise ComposeError(f"track {manifest.track}: segment files are missing")
    tmp = target.with_name(target.name + PART_SUFFIX)
    fmt = "matroska" if target.suffix == ".mkv" else "webm"
    with av.open(str(tmp), "w", format=fmt) as out:
        out_stream = None
        for path in segments:
            with av.open(str(path)) as segment:
                stream = segment.streams[0]
                if out_stream is None:
                    out_stream = out.add_stream_from_template(stream)
                for packet in segment.demux(stream):
                    if packet.dts is None:
                        continue
                    packet.stream = out_stream
                    out.mux(packet)
    os.replace(tmp, target)
    return target


def remove_segments(directory: Path, manifest: TrackManifest) -> None:
    for segment in manifest.segments:
        (directory / SEGMENTS_DIR / segment.file).unlink(missing_ok=True)


# ---------------------------------------------------------------- decoding


@dataclass
class VideoSource:
    key: str
    info: TrackInfo
    start: float
    """Timeline seconds of the track's first frame."""
    end: float
    frames: Iterator[tuple[float, av.VideoFrame]]
    current: av.VideoFrame | None = None
    current_at: float = -1.0
    upcoming: tuple[float, av.VideoFrame] | None = None
    scaled: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)

    def advance(self, t: float) -> None:
        """Make `current` the last frame at or before timeline time t."""
        while True:
            if self.upcoming is None:
                self.upcoming = next(self.frames, None)
                if self.upcoming is None:
                    return
            at, frame = self.upcoming
            if at > t:
                return
            self.current, self.current_at, self.upcoming = frame, at, None
            self.scaled.clear()

    def visible(self, t: float) -> bool:
        return self.start <= t <= self.end + HOLD_S

    def picture(self, t: float, width: int, height: int) -> np.ndarray | None:
        if self.current is None or t - self.current_at > HOLD_S:
            return None
        key = (width, height)
        if key not in self.scaled:
            self.scaled[key] = self.current.reformat(width=width, height=height,
                                                     format="rgb24").to_ndarray()
        return self.scaled[key]


def _video_frames(path: Path, offset: float) -> Iterator[tuple[float, av.VideoFrame]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                if frame.time is not None:
                    yield offset + float(frame.time), frame
        except av.FFmpegError as exc:
            logger.warning("%s: decoding stopped early: %s", path.name, exc)


@dataclass
class AudioSource:
    key: str
    info: TrackInfo
    chunks: Iterator[tuple[int, np.ndarray]]
    pending: list[tuple[int, np.ndarray]] = field(default_factory=list)
    exhausted: bool = False

    def mix_into(self, out: np.ndarray, first: int) -> float:
        """Add this track's samples of [first, first + len(out)) into out; returns the
        energy (mean square) it added."""
        last = first + len(out)
        while not self.exhausted and (not self.pending or
                                      self.pending[-1][0] < last):
            chunk = next(self.chunks, None)
            if chunk is None:
                self.exhausted = True
            else:
                self.pending.append(chunk)
        energy = 0.0
        keep: list[tuple[int, np.ndarray]] = []
        for start, samples in self.pending:
            end = start + len(samples)
            lo, hi = max(start, first), min(end, last)
            if hi > lo:
                part = samples[lo - start:hi - start]
                out[lo - first:hi - first] += part
                energy += float(np.square(part).sum())
            if end > last:
                keep.append((start, samples))
        self.pending = keep
        return energy / max(1, len(out))


def _audio_chunks(path: Path, offset: float) -> Iterator[tuple[int, np.ndarray]]:
    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        try:
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                position = round((offset + float(frame.time)) * RATE)
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1).astype(np.float32)
                    yield position, samples
                    position += len(samples)
        except av.FFmpegError as exc:
            logger.warning("%s: decoding stopped early: %s", path.name, exc)


# ---------------------------------------------------------------- composing


def compose(spec: Spec, on_progress: Progress) -> dict[str, Any]:
    """Join the tracks, then write the composed MP4; returns what was written."""
    started = time.monotonic()
    wanted = {t.track: t for t in spec.tracks}
    manifests = [m for m in read_manifests(spec.directory)
                 if m.segments and (not wanted or m.track in wanted)]
    if not manifests:
        raise ComposeError("nothing was recorded in this meeting")
    joined: dict[str, Path] = {}
    for index, manifest in enumerate(manifests):
        joined[manifest.track] = join_track(spec.directory, manifest)
        on_progress(JOIN_SHARE * (index + 1) / len(manifests), None)
    origin = min(m.wall_start + m.start for m in manifests)
    shifts = close_gaps([(m.wall_start + m.start - origin, m.wall_start + m.end - origin)
                         for m in manifests], LONGEST_GAP_S)
    duration = max(m.wall_start + m.end - origin - shift for m, shift in zip(manifests, shifts))
    videos: list[VideoSource] = []
    audios: list[AudioSource] = []
    for m, shift in zip(manifests, shifts):
        info = wanted.get(m.track, TrackInfo(m.track))
        offset = m.wall_start - origin - shift
        if m.kind == "video":
            videos.append(VideoSource(m.transport, info, offset + m.start, offset + m.end,
                                      _video_frames(joined[m.track], offset)))
        else:
            audios.append(AudioSource(m.transport, info, _audio_chunks(joined[m.track],
                                                                         offset)))
    tmp = spec.output.with_name(spec.output.name + PART_SUFFIX)
    compose_started = time.monotonic()

    def report(t: float) -> None:
        percent, _ = progress(t, duration, time.monotonic() - compose_started)
        fraction = percent / 100
        done = JOIN_SHARE + (100 - JOIN_SHARE) * fraction
        _, remaining = progress(done, 100.0, time.monotonic() - started)
        on_progress(done, remaining)

    _encode(spec, tmp, duration, videos, audios, report)
    os.replace(tmp, spec.output)
    for manifest in manifests:
        if manifest.ended or joined[manifest.track].exists():
            remove_segments(spec.directory, manifest)
    on_progress(100.0, 0.0)
    return {
        "composite": {"path": str(spec.output), "bytes": spec.output.stat().st_size,
                      "duration": round(duration, 3)},
        "tracks": {m.track: {"path": str(joined[m.track]),
                             "bytes": joined[m.track].stat().st_size,
                             "kind": m.kind} for m in manifests},
    }


def _encode(spec: Spec, path: Path, duration: float, videos: list[VideoSource],
            audios: list[AudioSource], report: Callable[[float], None]) -> None:
    fps = spec.fps
    samples_per_frame = RATE // fps
    frames = max(1, int(round(duration * fps)))
    tracker = SpeakerTracker(step_s=1 / fps)
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = spec.width, spec.height, "yuv420p"
        video.options = {"preset": "veryfast", "crf": "26"}
        audio = out.add_stream("aac", rate=RATE)
        audio.layout = "stereo"
        last_report = 0.0
        for index in range(frames):
            t = index / fps
            mix = np.zeros(samples_per_frame, dtype=np.float32)
            energies = {a.key: a.mix_into(mix, index * samples_per_frame) for a in audios}
            current = tracker.step(energies)
            canvas = _draw(spec, videos, t, current)
            frame = av.VideoFrame.from_ndarray(canvas, format="rgb24")
            frame.pts = index
            frame.time_base = fractions.Fraction(1, fps)
            out.mux(video.encode(frame))
            pcm = np.clip(mix, -1.0, 1.0)
            sound = av.AudioFrame.from_ndarray(np.vstack([pcm, pcm]), format="fltp",
                                               layout="stereo")
            sound.sample_rate = RATE
            sound.pts = index * samples_per_frame
            out.mux(audio.encode(sound))
            if time.monotonic() - last_report >= 1.0:
                last_report = time.monotonic()
                report(t)
        out.mux(video.encode(None))
        out.mux(audio.encode(None))


def _draw(spec: Spec, videos: list[VideoSource], t: float,
          speaker_key: str | None) -> np.ndarray:
    canvas = np.full((spec.height, spec.width, 3), BACKGROUND, dtype=np.uint8)
    for source in videos:
        source.advance(t)
    shown = [v for v in videos if v.visible(t)]
    if spec.layout == "speaker" and len(shown) > 1:
        screens = [v for v in shown if v.info.source == "screen"]
        talking = [v for v in shown if v.key == speaker_key and v.info.source != "screen"]
        first = (screens or talking or shown)[:1]
        shown = first + [v for v in shown if v not in first]
        rects = speaker(len(shown), spec.width, spec.height)
    else:
        rects = grid(len(shown), spec.width, spec.height)
    for source, box in zip(shown, rects):
        _paste(canvas, source, t, box)
    return canvas


def _paste(canvas: np.ndarray, source: VideoSource, t: float, box: Rect) -> None:
    frame = source.current
    if frame is None:
        return
    place = fit(frame.width, frame.height, box)
    picture = source.picture(t, place.width, place.height)
    if picture is not None:
        canvas[place.y:place.y + place.height, place.x:place.x + place.width] = picture


# ---------------------------------------------------------------- child process


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m signaling.records.compose SPEC.json", file=sys.stderr)
        return 2
    try:
        os.nice(NICE)
    except OSError:
        pass
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    def say(percent: float, remaining: float | None) -> None:
        print(json.dumps({"percent": round(percent, 1), "remaining_s": remaining}), flush=True)

    try:
        result = compose(Spec.load(Path(args[0])), say)
    except (ComposeError, OSError, av.FFmpegError, ValueError, KeyError) as exc:
        print(f"composition failed: {exc}", file=sys.stderr, flush=True)
        return 1
    print(json.dumps({"done": result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
