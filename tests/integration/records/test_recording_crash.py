"""Crash safety: an SFU process killed with SIGKILL mid-recording leaves every finished
segment playable; a recorder started again continues the numbering; low disk space
during a meeting stops the recording cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import av

from sfu.api import RecordingStarted, RecordingStopped, SfuEvent
from sfu.config import RecorderSettings, SfuSettings
from sfu.engine import Engine
from sfu.recording_files import PART_SUFFIX, SEGMENT_NAME, read_manifests
from signaling.records.compose import Spec, compose
from tests.integration.conftest import wait_until
from tests.integration.peers import Publisher
from tests.integration.recording_helpers import decode_video

REPO = Path(__file__).resolve().parents[3]
SEGMENT_S = 2
KILL_AFTER_S = 5.5


async def record_then_kill(directory: Path, index: int, seconds: float) -> float:
    """Run the recording child for `seconds` after it starts writing; SIGKILL it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.integration.record_child", str(directory), str(SEGMENT_S),
        str(index), cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        assert line.strip() == b"recording"
        started = time.monotonic()
        await asyncio.sleep(seconds)
        os.kill(process.pid, signal.SIGKILL)
        assert await asyncio.wait_for(process.wait(), timeout=10) == -signal.SIGKILL
        return time.monotonic() - started
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def segment_numbers(directory: Path) -> list[int]:
    return sorted(int(m.group(1)) for p in (directory / "segments").iterdir()
                  if (m := SEGMENT_NAME.match(p.name)) and not p.name.endswith(PART_SUFFIX))


async def test_sigkill_keeps_finished_segments_playable_and_resume_continues(
        tmp_path: Path) -> None:
    directory = tmp_path / "meeting"
    recorded = await record_then_kill(directory, 3, KILL_AFTER_S)
    manifests = read_manifests(directory)
    video = next(m for m in manifests if m.kind == "video")
    assert not video.ended, "the track was cut off, not closed"
    finished = [s for s in video.segments]
    assert len(finished) >= 2
    covered = finished[-1].end - finished[0].start
    # At most the open segment (plus the keyframe wait) is lost.
    assert covered >= recorded - 2 * SEGMENT_S - 0.5, (covered, recorded)
    numbers: list[int] = []
    for segment in finished:
        decoded = decode_video(directory / "segments" / segment.file)
        assert decoded.times, segment.file
        assert set(decoded.indexes) == {3}
        numbers.extend(decoded.numbers)
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    leftovers = [p.name for p in (directory / "segments").iterdir()
                 if p.name.endswith(PART_SUFFIX)]
    assert leftovers, "the segment being written when killed keeps its .part name"
    assert not any(s.file.endswith(PART_SUFFIX) for m in manifests for s in m.segments)

    # A recorder started again on the same directory continues the numbering.
    before = segment_numbers(directory)
    await record_then_kill(directory, 4, 2.5)
    after = segment_numbers(directory)
    new = [n for n in after if n not in before]
    assert new and min(new) > max(before)

    # What survived composes into a playable MP4.
    output = tmp_path / "composite.mp4"
    result = compose(Spec(directory=directory, output=output, width=640, height=360),
                     lambda percent, remaining: None)
    assert result["composite"]["duration"] > covered
    with av.open(str(output)) as container:
        assert sum(1 for _ in container.decode(container.streams.video[0])) > 30


async def test_low_disk_during_recording_stops_cleanly(tmp_path: Path) -> None:
    engine = Engine(SfuSettings(announced_addresses=["127.0.0.1"]),
                    recording=RecorderSettings(segment_seconds=SEGMENT_S, min_free_mb=10,
                                               disk_check_ms=200))
    await engine.start()
    events: list[SfuEvent] = []
    engine.add_listener(events.append)
    publisher = Publisher(index=5)
    directory = tmp_path / "meeting"
    try:
        router = await engine.create_router()
        await engine.start_recording(router, str(directory))
        transport = await engine.create_transport(router, "publish")
        result = await engine.publish(transport, await publisher.offer())
        await publisher.accept(result.answer_sdp)
        await wait_until(lambda: len(segment_numbers(directory)) >= 2, 20, "two segments")
        recorder = engine.routers[router].recorder
        assert recorder is not None
        # The disk fills up: the floor is now above the free space.
        recorder.settings = RecorderSettings(segment_seconds=SEGMENT_S, disk_check_ms=200,
                                             min_free_mb=10**9)
        await wait_until(lambda: any(isinstance(e, RecordingStopped) for e in events), 10,
                         "the recording to stop")
        stopped = [e for e in events if isinstance(e, RecordingStopped)]
        assert stopped == [RecordingStopped(router, "low_disk")]
        assert isinstance(events[0], RecordingStarted) or any(
            isinstance(e, RecordingStarted) for e in events)
        assert engine.routers[router].recorder is None
        files = list((directory / "segments").iterdir())
        assert files and not any(p.name.endswith(PART_SUFFIX) for p in files)
        for manifest in read_manifests(directory):
            assert manifest.ended
            for segment in manifest.segments:
                with av.open(str(directory / "segments" / segment.file)) as container:
                    assert sum(1 for _ in container.decode(container.streams[0])) > 0
        # The meeting itself goes on: media still arrives at the producer.
        producer = next(iter(engine.routers[router].producers.values()))
        count = producer.packets
        await asyncio.sleep(0.5)
        assert producer.packets > count
    finally:
        await publisher.pc.close()
        await engine.close()
