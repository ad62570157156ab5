"""The Recorder: a router's consumer that writes every track to disk, without decoding.

Each producer gets a `TrackRecorder`, attached as a packet sink. On the forwarding
path it only puts the packet on a queue. One writer thread per recorder takes the
packets, reassembles encoded frames (sfu.depacketize) and muxes them with `av` into
WebM/Matroska segments of bounded length (see sfu.recording_files for the layout).
Video segments start on a keyframe; the recorder asks the publisher for one when it
attaches, when a segment is due, and after losing a frame.

Times: each frame's media time comes from its RTP timestamp (unwrapped), anchored to
the wall clock when the track starts, and anchored again when the source changes or
its clock strays from the wall clock, so tracks can be lined up afterwards.

Free disk space is checked while recording; below the floor the recorder finishes
every open segment and stops with reason 'low_disk'. A write error stops it with
reason 'error'. The files already finished stay playable either way.
"""

from __future__ import annotations

import asyncio
import collections
import fractions
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
from aiortc.rtp import RtpPacket

from .config import RecorderSettings
from .depacketize import EncodedFrame, FrameAssembler, h264_sps_size, vp8_frame_size
from .producer import Producer
from .recording_files import (
    PART_SUFFIX,
    SEGMENTS_DIR,
    Segment,
    TrackManifest,
    manifest_path,
    next_segment_number,
    read_manifests,
    segment_name,
    write_manifest,
)

logger = logging.getLogger(__name__)

MAX_QUEUED_PACKETS = 5000
"""Beyond this backlog the writer is stalled; packets are dropped (video then waits
for a keyframe) rather than memory growing without bound."""
BATCH_INTERVAL_S = 0.05
"""The writer thread wakes this often and writes everything queued meanwhile."""
KEYFRAME_REQUEST_INTERVAL_S = 1.0
RESYNC_AFTER_S = 3.0
"""A track's RTP clock further than this from the wall clock is anchored again."""
CODEC_NAMES = {"video/vp8": "vp8", "video/h264": "h264", "audio/opus": "opus"}
_STOP = object()


class LowDiskSpace(Exception):
    """Free space under the recording directory is below the configured floor."""

    def __init__(self, free_mb: int, floor_mb: int) -> None:
        super().__init__(f"only {free_mb} MB free on the recording disk; "
                         f"recording needs at least {floor_mb} MB")
        self.free_mb = free_mb
        self.floor_mb = floor_mb


def free_mb(directory: Path) -> int:
    """Free megabytes on the file system holding `directory` (or its nearest parent)."""
    path = directory
    while not path.exists() and path != path.parent:
        path = path.parent
    return int(shutil.disk_usage(path).free // (1024 * 1024))


def check_free_space(directory: Path, floor_mb: int) -> None:
    available = free_mb(directory)
    if available < floor_mb:
        raise LowDiskSpace(available, floor_mb)


class TrackRecorder:
    """One producer's packets to segment files. `on_packet` runs on the event loop;
    everything else on the recorder's writer thread."""

    def __init__(self, recorder: Recorder, producer: Producer) -> None:
        self.recorder = recorder
        self.producer = producer
        self.track = str(producer.id)
        self.kind = producer.kind
        self.codec = producer.codec.mimeType.lower()
        self.clock_rate = int(producer.codec.clockRate)
        self._time_base = fractions.Fraction(1, self.clock_rate)
        self.dropped = 0
        # writer thread state
        self._assembler = FrameAssembler(self.codec) if self.kind == "video" else None
        self._manifest: TrackManifest | None = None
        self._container: Any = None
        self._stream: Any = None
        self._segment_path: Path | None = None
        self._segment_number = 0
        self._segment_start = 0
        self._segment_frames = 0
        self._segment_bytes = 0
        self._anchor_ext = 0
        self._anchor_pts = 0
        self._ssrc: int | None = None
        self._ext_ts = 0
        self._last_pts = -1
        self._last_delta = 0
        self._last_audio_seq: int | None = None
        self._last_keyframe_request = 0.0
        self._due_keyframe_asked = False
        self._last_wall = 0.0

    # ------------------------------------------------------------ event loop side

    def on_packet(self, packet: RtpPacket, now: float) -> None:
        pending = self.recorder.pending
        if len(pending) > MAX_QUEUED_PACKETS:
            self.dropped += 1
            return
        pending.append((self, packet, now))

    # ------------------------------------------------------------ writer thread side

    def process(self, packet: RtpPacket, now: float) -> None:
        if not packet.payload:
            if self._assembler is not None:
                self._assembler.push(packet.sequence_number, packet.timestamp, bool(packet.marker),
                                     b"", packet.ssrc)
            return
        wall = now + self.recorder.wall_offset
        if self._assembler is None:
            seq = packet.sequence_number
            if self._last_audio_seq is not None and 0 < (self._last_audio_seq - seq) & 0xFFFF \
                    < 0x8000 and packet.ssrc == self._ssrc:
                return  # an old packet arriving late
            self._last_audio_seq = seq
            self._write(EncodedFrame(packet.payload, packet.timestamp, True, packet.ssrc), wall)
            return
        frames = self._assembler.push(packet.sequence_number, packet.timestamp, bool(packet.marker),
                                      packet.payload, packet.ssrc)
        if self._assembler.keyframe_wanted:
            self._assembler.keyframe_wanted = False
            self._ask_keyframe(wall)
        for frame in frames:
            self._write(frame, wall)

    def _ask_keyframe(self, wall: float) -> None:
        if wall - self._last_keyframe_request >= KEYFRAME_REQUEST_INTERVAL_S:
            self._last_keyframe_request = wall
            self.recorder.request_keyframe(self.producer)

    def _media_time(self, frame: EncodedFrame, wall: float) -> int:
        """The frame's presentation time in clock ticks since the track's wall_start."""
        manifest = self._manifest
        assert manifest is not None
        wall_ticks = round((wall - manifest.wall_start) * self.clock_rate)
        if self._ssrc != frame.ssrc:
            self._ssrc = frame.ssrc
            self._ext_ts = frame.timestamp
            self._anchor_ext, self._anchor_pts = frame.timestamp, max(wall_ticks,
                                                                      self._last_pts + 1)
        else:
            delta = (frame.timestamp - self._ext_ts) & 0xFFFFFFFF
            if delta >= 0x80000000:
                delta -= 0x100000000
            self._ext_ts += delta
        pts = self._anchor_pts + (self._ext_ts - self._anchor_ext)
        if abs(pts - wall_ticks) > RESYNC_AFTER_S * self.clock_rate:
            self._anchor_ext, self._anchor_pts = self._ext_ts, max(wall_ticks, self._last_pts + 1)
            pts = self._anchor_pts
        return pts

    def _write(self, frame: EncodedFrame, wall: float) -> None:
        if self._manifest is None:
            self._manifest = self._load_or_create_manifest(wall)
        pts = self._media_time(frame, wall)
        if pts <= self._last_pts:
            if self.kind == "video" and pts == self._last_pts:
                return  # a repeated frame
            pts = self._last_pts + 1
        if self._container is not None:
            elapsed = (pts - self._segment_start) / self.clock_rate
            if elapsed >= self.recorder.settings.segment_seconds:
                if self.kind == "audio" or frame.keyframe:
                    self.finish_segment()
                elif not self._due_keyframe_asked:
                    self._due_keyframe_asked = True
                    self.recorder.request_keyframe(self.producer)
        if self._container is None:
            if self.kind == "video" and not frame.keyframe:
                self._ask_keyframe(wall)
                return
            self._open_segment(frame, pts)
        self._last_wall = wall
        if self._last_pts >= 0:
            self._last_delta = pts - self._last_pts
        self._last_pts = pts
        packet = av.Packet(frame.data)
        packet.stream = self._stream
        packet.pts = packet.dts = pts
        packet.time_base = self._time_base
        packet.is_keyframe = frame.keyframe
        self._container.mux(packet)
        self._segment_frames += 1
        self._segment_bytes += len(frame.data)

    def _load_or_create_manifest(self, wall: float) -> TrackManifest:
        path = manifest_path(self.recorder.directory, self.track)
        if path.exists():  # recording of this track stopped and started again
            for manifest in read_manifests(self.recorder.directory):
                if manifest.track == self.track:
                    manifest.ended = False
                    self._last_pts = round(manifest.end * self.clock_rate)
                    return manifest
        manifest = TrackManifest(track=self.track, transport=str(self.producer.transport_id),
                                 kind=self.kind, codec=self.codec, clock_rate=self.clock_rate,
                                 wall_start=wall)
        write_manifest(self.recorder.directory, manifest)
        return manifest

    def _open_segment(self, frame: EncodedFrame, pts: int) -> None:
        manifest = self._manifest
        assert manifest is not None
        number = self.recorder.allocate_segment_number()
        name = segment_name(number, self.track, self.codec)
        path = self.recorder.directory / SEGMENTS_DIR / (name + PART_SUFFIX)
        fmt = "matroska" if name.endswith(".mkv") else "webm"
        container = av.open(str(path), "w", format=fmt)
        codec_name = CODEC_NAMES[self.codec]
        if self.kind == "video":
            size = (vp8_frame_size(frame.data) if self.codec == "video/vp8"
                    else h264_sps_size(frame.data))
            if size is not None:
                manifest.width, manifest.height = size
            stream = container.add_mux_stream(codec_name, width=manifest.width,
                                              height=manifest.height)
        else:
            stream = container.add_mux_stream(codec_name, rate=self.clock_rate)
        stream.time_base = fractions.Fraction(1, self.clock_rate)
        self._container, self._stream, self._segment_path = container, stream, path
        self._segment_number = number
        self._segment_start = pts
        self._segment_frames = self._segment_bytes = 0
        self._due_keyframe_asked = False

    def finish_segment(self) -> None:
        """Close the open segment, give it its final name and list it in the manifest."""
        container, path, manifest = self._container, self._segment_path, self._manifest
        if container is None or path is None or manifest is None:
            return
        self._container = self._stream = self._segment_path = None
        container.close()
        final = path.with_name(path.name.removesuffix(PART_SUFFIX))
        os.replace(path, final)
        end = self._last_pts + max(self._last_delta, 1)
        manifest.segments.append(Segment(
            file=final.name, number=self._segment_number,
            start=self._segment_start / self.clock_rate, end=end / self.clock_rate,
            frames=self._segment_frames, bytes=final.stat().st_size))
        write_manifest(self.recorder.directory, manifest)

    def finish_if_idle(self, wall: float) -> None:
        """A track that sends nothing (muted) does not keep a segment open: a crash
        during a long silence must not take the minutes before it along."""
        if (self._container is not None
                and wall - self._last_wall > self.recorder.settings.segment_seconds):
            self.finish_segment()

    def finish(self) -> None:
        """The track ended (or recording stops): finish its segment, mark it ended."""
        self.finish_segment()
        if self._manifest is not None:
            self._manifest.ended = True
            write_manifest(self.recorder.directory, self._manifest)

    def abandon(self) -> None:
        """After a write error: close what can be closed; a broken file keeps `.part`."""
        try:
            self.finish_segment()
        except (OSError, av.FFmpegError):
            logger.warning("recorder: segment of track %s left unfinished", self.track)


class Recorder:
    """Records every track of one router into one meeting directory."""

    def __init__(self, router_id: str, directory: Path, settings: RecorderSettings,
                 on_stopped: Callable[[str], None]) -> None:
        self.router_id = router_id
        self.directory = directory
        self.settings = settings
        self.pending: collections.deque[tuple[Any, RtpPacket | None, float]] = \
            collections.deque()
        """Packets and control items for the writer thread, which drains it in batches
        (appending to a deque takes no lock and wakes no thread)."""
        self.wall_offset = time.time() - time.monotonic()
        self.tracks: dict[str, TrackRecorder] = {}
        self.stopped_reason: str | None = None
        self._on_stopped = on_stopped
        self._loop = asyncio.get_running_loop()
        self._next_number = 1
        self._thread = threading.Thread(target=self._run, name=f"recorder-{router_id}",
                                         daemon=True)

    def start(self) -> None:
        """Refuse (LowDiskSpace) below the floor; otherwise start the writer thread."""
        check_free_space(self.directory, self.settings.min_free_mb)
        (self.directory / SEGMENTS_DIR).mkdir(parents=True, exist_ok=True)
        self._next_number = next_segment_number(self.directory)
        self._thread.start()
        logger.info("router %s: recording into %s (from segment %d)", self.router_id,
                    self.directory, self._next_number)

    def allocate_segment_number(self) -> int:
        number = self._next_number
        self._next_number += 1
        return number

    def request_keyframe(self, producer: Producer) -> None:
        """From the writer thread: ask the producer for a keyframe on the event loop."""
        try:
            self._loop.call_soon_threadsafe(producer.request_keyframe)
        except RuntimeError:
            pass  # the loop is closing

    def attach(self, producer: Producer) -> None:
        if self.stopped_reason is not None or str(producer.id) in self.tracks:
            return
        track = TrackRecorder(self, producer)
        self.tracks[track.track] = track
        producer.add_sink(track)

    def detach(self, producer: Producer) -> None:
        track = self.tracks.pop(str(producer.id), None)
        if track is not None:
            producer.remove_sink(track)
            self.pending.append((track, None, 0.0))

    async def stop(self, reason: str = "stopped") -> None:
        """Detach from every producer, finish every segment and end the writer thread."""
        for track in list(self.tracks.values()):
            self.detach(track.producer)
        if self.stopped_reason is None:
            self.stopped_reason = reason
        self.pending.append((_STOP, None, 0.0))
        if self._thread.is_alive():
            await asyncio.to_thread(self._thread.join)

    # ------------------------------------------------------------ writer thread

    def _run(self) -> None:
        interval = self.settings.disk_check_ms / 1000
        last_check = time.monotonic()
        open_tracks: dict[int, TrackRecorder] = {}
        pending = self.pending
        failed = False
        while True:
            if not pending:
                time.sleep(BATCH_INTERVAL_S)
            stop = False
            try:
                while pending:
                    track, packet, now = pending.popleft()
                    if track is _STOP:
                        stop = True
                        break
                    if failed or not isinstance(track, TrackRecorder):
                        continue
                    if packet is None:
                        open_tracks.pop(id(track), None)
                        track.finish()
                    else:
                        open_tracks[id(track)] = track
                        track.process(packet, now)
                if not failed and time.monotonic() - last_check >= interval:
                    last_check = time.monotonic()
                    check_free_space(self.directory, self.settings.min_free_mb)
                    wall = time.time()
                    for open_track in open_tracks.values():
                        open_track.finish_if_idle(wall)
            except LowDiskSpace as exc:
                logger.error("ALERT router %s: recording stopped: %s", self.router_id, exc)
                self._finish_all(open_tracks)
                failed = True
                self._stopped_from_thread("low_disk")
            except (OSError, av.FFmpegError, ValueError) as exc:
                logger.error("ALERT router %s: recording failed: %s", self.router_id, exc)
                for open_track in open_tracks.values():
                    open_track.abandon()
                open_tracks.clear()
                failed = True
                self._stopped_from_thread("error")
            if stop:
                break
        if not failed:
            self._finish_all(open_tracks)
        logger.info("router %s: recording finished (%s)", self.router_id,
                    self.stopped_reason or "stopped")

    def _finish_all(self, open_tracks: dict[int, TrackRecorder]) -> None:
        for track in open_tracks.values():
            try:
                track.finish()
            except (OSError, av.FFmpegError) as exc:
                logger.error("router %s: track %s not finished: %s", self.router_id,
                             track.track, exc)
        open_tracks.clear()

    def _stopped_from_thread(self, reason: str) -> None:
        def stopped() -> None:
            if self.stopped_reason is None:
                self.stopped_reason = reason
            for track in list(self.tracks.values()):
                track.producer.remove_sink(track)
            self.tracks.clear()
            self._on_stopped(reason)

        try:
            self._loop.call_soon_threadsafe(stopped)
        except RuntimeError:
            pass
