"""A real meeting of three aiortc peers is recorded, each track and the composed MP4
are decoded and checked against the patterns the peers sent."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from sfu.config import SfuSettings
from sfu.recording_files import read_manifests
from signaling.config import RecordingSettings
from signaling.records.compose import Spec, compose
from signaling.records.compose_layout import fit, speaker
from tests.integration.client import MeetingClient
from tests.integration.conftest import Site, StartSite, site_config, wait_until
from tests.integration.media import TONES, read_pattern
from tests.integration.recording_helpers import (
    decode_audio,
    decode_video,
    tile_patterns,
    tone_of,
    tone_strength,
)
from web.cli import main as cli
from web.keys import RECORDINGS

MEETING_S = 8.0


@pytest.fixture
async def recording_site(tmp_path: Path, start_site: StartSite) -> Site:
    return await start_site(site_config(
        tmp_path, SfuSettings(announced_addresses=["127.0.0.1"]),
        recording=RecordingSettings(segment_seconds=3, min_free_mb=50)))


class PublishingClient(MeetingClient):
    """A participant that publishes and declines what it is offered, so the test
    machine's CPU goes to the meeting itself rather than to decoding."""

    async def _answer(self, offer: dict[str, Any]) -> None:
        return None


def within_publishing(recorded: float, published: float) -> bool:
    """A recording is no longer than the time its track was published (by the test's
    clock, read around the publish and the leave, plus one frame), and lost no 3-second
    segment: ICE start-up on a loaded machine may eat into the start, a lost segment
    takes more than 30 % of these few seconds."""
    return 0.7 * published <= recorded <= published + 0.1


def all_files_exist(listed: list[dict[str, Any]]) -> bool:
    return all(Path(e["path"]).is_absolute() and Path(e["path"]).is_file() for e in listed)


async def test_three_peers_are_recorded_and_composed(
        recording_site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    site = recording_site
    names = ["an", "binh", "chi"]
    tokens = {name: site.account(name) for name in names}
    meeting_id = site.meeting(names[0], names[1:])
    clients = [PublishingClient(site.base_url, tokens[name], name, i)
               for i, name in enumerate(names)]
    published_at: dict[str, float] = {}
    left_at: dict[str, float] = {}
    try:
        for client in clients:
            await client.connect()
            await client.join(meeting_id)
            state = await client.expect("recording_state")
            assert state["recording"] is True and state["policy"] == "automatic"
            assert state["can_control"] is (client.username == "an")
            await client.publish()
            published_at[client.username] = time.monotonic()
        await asyncio.sleep(MEETING_S)
    finally:
        for client in clients:
            await client.close()
            left_at[client.username] = time.monotonic()
    recordings = site.server.app[RECORDINGS]

    def composed() -> bool:
        jobs = recordings.jobs(meeting_id)
        return bool(jobs) and jobs[-1].status in ("complete", "failed")

    await wait_until(composed, 90, "the composition job to finish")
    job = recordings.jobs(meeting_id)[-1]
    assert job.status == "complete", job.error
    assert job.percent == 100

    # `giaoban recordings list --meeting ID --json` lists every file, absolute paths.
    monkeypatch.setenv("GIAOBAN_DATA_DIR", str(tmp_path / "data"))
    assert cli.main(["recordings", "list", "--meeting", meeting_id, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted(e["kind"] for e in listed) == ["composite"] + ["track"] * 6
    assert all(e["status"] == "complete" for e in listed)
    assert all_files_exist(listed)
    assert cli.main(["recordings", "status", "--meeting", meeting_id]) == 0
    assert "complete" in capsys.readouterr().out

    directory = recordings.meeting_directory(meeting_id)
    manifests = {m.track: m for m in read_manifests(directory)}
    for entry in [e for e in listed if e["kind"] == "track"]:
        index = names.index(entry["username"])
        length = left_at[entry["username"]] - published_at[entry["username"]]
        path = Path(entry["path"])
        if entry["media"] == "video":
            video = decode_video(path)
            assert len(video.indexes) > 20 * MEETING_S
            assert set(video.indexes) == {index}, f"{path.name} holds foreign frames"
            assert video.numbers == sorted(video.numbers), "frames out of order"
            assert within_publishing(video.duration, length), (video.duration, length)
        else:
            samples, first, end = decode_audio(path)
            assert abs(tone_of(path) - TONES[index]) < 15
            assert within_publishing(end - first, length), (end - first, length)
        assert manifests[entry["track"]].ended

    # The composed MP4: H.264 + AAC, as long as the meeting, each pattern at its time.
    composite = Path(next(e["path"] for e in listed if e["kind"] == "composite"))
    meeting_length = max(left_at.values()) - min(published_at.values())
    origin = min(m.wall_start + m.start for m in manifests.values())
    video_tracks = sorted((m for m in manifests.values() if m.kind == "video"),
                          key=lambda m: (m.wall_start + m.start, m.track))
    starts = [m.wall_start + m.start - origin for m in video_tracks]
    with av.open(str(composite)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.audio[0].codec_context.name == "aac"
        duration = container.duration / 1_000_000
        assert within_publishing(duration, meeting_length), (duration, meeting_length)
        checked = 0
        for frame in container.decode(container.streams.video[0]):
            t = float(frame.time)
            if t < max(starts) + 1.0 or t > duration - 1.5 or round(t * 15) % 15:
                continue
            patterns = tile_patterns(frame.to_ndarray(format="rgb24"), 3)
            assert [p[0] for p in patterns] == [0, 1, 2], (t, patterns)
            for (_, number), start in zip(patterns, starts):
                shown_at = start + number / 30
                assert abs(shown_at - t) < 0.35, (t, number, start)
            checked += 1
    assert checked >= 3
    samples, _, _ = decode_audio(composite)
    middle = samples[int(48000 * (max(starts) + 1)):int(48000 * (duration - 1))]
    assert float(np.sqrt(np.mean(np.square(middle)))) > 0.05, "the composite is silent"
    for tone in TONES[:3]:
        assert tone_strength(middle.astype(np.float64), tone) > 0.1, f"{tone} Hz missing"
    # The per-track originals stay after composition.
    assert all_files_exist(listed)
    # The active-speaker layout: one person large, the others in a strip below.
    speaker_mp4 = tmp_path / "speaker.mp4"
    compose(Spec(directory=directory, output=speaker_mp4, layout="speaker", width=640,
                 height=360), lambda percent, remaining: None)
    with av.open(str(speaker_mp4)) as container:
        frames = [f for f in container.decode(container.streams.video[0])
                  if max(starts) + 1.5 < float(f.time) < duration - 1.5]
    sampled = frames[::15]
    assert len(sampled) >= 3, len(frames)
    for frame in sampled:
        img = frame.to_ndarray(format="rgb24")
        shown = []
        for tile in speaker(3, 640, 360):
            place = fit(320, 240, tile)
            crop = img[place.y:place.y + place.height, place.x:place.x + place.width]
            small = av.VideoFrame.from_ndarray(np.ascontiguousarray(crop), format="rgb24")
            index, _ = read_pattern(
                small.reformat(width=320, height=240).to_ndarray(format="rgb24"))
            shown.append(index)
        # One publisher large, the other two in the strip: each exactly once.
        assert sorted(shown) == [0, 1, 2], (float(frame.time), shown)
