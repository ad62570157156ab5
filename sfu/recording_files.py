"""How a meeting's recording lies on disk; read by the recorder and by the composer.

A meeting directory holds, for each recorded track (one producer):
- `segments/NNNNNN-<track>.<ext>`: the track's encoded frames, cut into segments of
  bounded length. A segment being written ends in `.part`; it is renamed when it is
  finished, so every file without `.part` is complete and playable.
- `tracks/<track>.json`: the track's manifest, rewritten atomically after each
  segment: codec, the wall-clock time of its media time 0, and its finished segments
  with their start and end on the track's own clock.

Segment numbers run across the whole directory, so a recorder started again on the
same directory (say after a worker restart) continues the numbering.
This module imports no aiortc and no av.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SEGMENTS_DIR = "segments"
TRACKS_DIR = "tracks"
PART_SUFFIX = ".part"
SEGMENT_NAME = re.compile(r"^(\d{6})-([A-Za-z0-9_-]+)\.(webm|mkv)(\.part)?$")


def extension_for(codec: str) -> str:
    """WebM for VP8 and Opus, Matroska for H.264."""
    return "mkv" if codec.lower() == "video/h264" else "webm"


def segment_name(number: int, track: str, codec: str) -> str:
    return f"{number:06d}-{track}.{extension_for(codec)}"


def next_segment_number(directory: Path) -> int:
    """One more than the highest segment number in the directory (1 when empty)."""
    highest = 0
    folder = directory / SEGMENTS_DIR
    if folder.is_dir():
        for entry in os.scandir(folder):
            match = SEGMENT_NAME.match(entry.name)
            if match:
                highest = max(highest, int(match.group(1)))
    return highest + 1


@dataclass(slots=True)
class Segment:
    file: str
    """File name inside `segments/`."""
    number: int
    start: float
    """Seconds on the track's clock (0 = the track's `wall_start`)."""
    end: float
    frames: int
    bytes: int


@dataclass(slots=True)
class TrackManifest:
    track: str
    """The producer id; unique in the meeting directory."""
    transport: str
    """The publisher's transport: the tracks of one participant share it."""
    kind: str
    codec: str
    clock_rate: int
    wall_start: float
    """Unix time of the track's media time 0."""
    width: int = 0
    height: int = 0
    ended: bool = False
    """True once the track was closed cleanly (not cut off by a crash)."""
    segments: list[Segment] = field(default_factory=list)

    @property
    def start(self) -> float:
        return self.segments[0].start if self.segments else 0.0

    @property
    def end(self) -> float:
        return self.segments[-1].end if self.segments else 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrackManifest:
        segments = [Segment(**s) for s in data.get("segments", [])]
        values = {k: v for k, v in data.items() if k != "segments"}
        return cls(**values, segments=segments)


def manifest_path(directory: Path, track: str) -> Path:
    return directory / TRACKS_DIR / f"{track}.json"


def write_manifest(directory: Path, manifest: TrackManifest) -> None:
    """Write atomically: a crash leaves the previous manifest or the new one."""
    path = manifest_path(directory, manifest.track)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(manifest.to_json(), handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_manifests(directory: Path) -> list[TrackManifest]:
    """Every track manifest of a meeting directory, by wall-clock start."""
    folder = directory / TRACKS_DIR
    found: list[TrackManifest] = []
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.json")):
        try:
            found.append(TrackManifest.from_json(json.loads(path.read_text("utf-8"))))
        except (ValueError, TypeError, KeyError):
            continue  # unreadable manifest: its track cannot be lined up
    found.sort(key=lambda m: (m.wall_start + m.start, m.track))
    return found


def joined_track_name(manifest: TrackManifest) -> str:
    """The file a track's segments are joined into once the meeting is over."""
    return f"{manifest.track}.{extension_for(manifest.codec)}"
