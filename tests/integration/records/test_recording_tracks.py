"""Tracks that come and go while a meeting is recorded: a screen share started and
stopped, a camera paused (mute) and resumed, a late joiner."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sfu.config import RecorderSettings, SfuSettings
from sfu.engine import Engine
from sfu.recording_files import TrackManifest, read_manifests
from signaling.records.compose import Spec, compose
from tests.integration.peers import Publisher
from tests.integration.recording_helpers import DecodedVideo, decode_video


def decode_track(directory: Path, manifest: TrackManifest) -> DecodedVideo:
    out = DecodedVideo()
    for segment in manifest.segments:
        part = decode_video(directory / "segments" / segment.file)
        out.times += part.times
        out.indexes += part.indexes
        out.numbers += part.numbers
    return out


async def test_screen_share_mute_and_late_joiner_are_recorded(tmp_path: Path) -> None:
    engine = Engine(SfuSettings(announced_addresses=["127.0.0.1"]),
                    recording=RecorderSettings(segment_seconds=2, min_free_mb=10))
    await engine.start()
    first = Publisher(index=1, screen_index=6)
    late = Publisher(index=2)
    directory = tmp_path / "meeting"
    try:
        router = await engine.create_router()
        await engine.start_recording(router, str(directory))
        transport = await engine.create_transport(router, "publish")
        result = await engine.publish(transport, await first.offer())
        await first.accept(result.answer_sdp)
        by_mid = {p.mid: p.producer_id for p in result.producers}
        camera = next(by_mid[m] for m, s in first.sources.items() if s == "camera")
        screen = next(by_mid[m] for m, s in first.sources.items() if s == "screen")
        await asyncio.sleep(2.5)
        await engine.pause_producer(camera, True)  # the camera is turned off
        late_transport = await engine.create_transport(router, "publish")
        late_result = await engine.publish(late_transport, await late.offer())
        await late.accept(late_result.answer_sdp)
        await asyncio.sleep(2.0)
        await engine.pause_producer(camera, False)
        await engine.close_producer(screen)  # the screen share ends
        await asyncio.sleep(2.5)
        await engine.stop_recording(router)
    finally:
        await first.pc.close()
        await late.pc.close()
        await engine.close()

    manifests = {m.track: m for m in read_manifests(directory)}
    assert len(manifests) == 5  # two cameras, two microphones, one screen
    cam = decode_track(directory, manifests[camera])
    assert set(cam.indexes) == {1}
    gaps = [(b - a, nb - na) for a, b, na, nb in
            zip(cam.times, cam.times[1:], cam.numbers, cam.numbers[1:])]
    longest = max(gaps)
    assert 1.5 < longest[0] < 3.0, longest  # the pause is kept on the timeline
    assert longest[1] > 40  # frames the camera sent while paused were not recorded
    assert cam.times[-1] > 6.0
    shared = decode_track(directory, manifests[screen])
    assert set(shared.indexes) == {6} and manifests[screen].ended
    assert 4.0 < shared.times[-1] < 5.5
    late_video = next(m for m in manifests.values()
                      if m.kind == "video" and m.transport == str(late_transport))
    late_start = late_video.wall_start + late_video.start
    first_start = manifests[camera].wall_start + manifests[camera].start
    assert 2.0 < late_start - first_start < 4.0
    assert set(decode_track(directory, late_video).indexes) == {2}
    result = compose(Spec(directory=directory, output=tmp_path / "all.mp4", width=640,
                          height=360), lambda percent, remaining: None)
    assert 6.5 < result["composite"]["duration"] < 8.5
