"""Screen share as a second video track, H.264, and mute."""

from __future__ import annotations

import asyncio

from sfu.api import SpeakerFigures
from signaling.ids import MeetingId
from tests.integration.conftest import Site, wait_until
from tests.integration.live.test_meeting_media import audio_from, frames_from, join_and_publish
from tests.integration.peers import Publisher
from web.keys import LIVE_MEETINGS, SFU


async def test_camera_and_screen_both_reach_the_subscriber(site: Site) -> None:
    tokens = {n: site.account(n) for n in ("nga", "oanh")}
    meeting_id = site.meeting("nga", ["oanh"])
    sharer = site.client("nga", tokens["nga"], 0, Publisher(index=0, screen_index=5))
    viewer = site.client("oanh", tokens["oanh"], 1)
    viewer.subscriber.expected_index.update({"nga": 0, "nga/screen": 5})
    try:
        await sharer.connect()
        await sharer.join(meeting_id)
        published = await sharer.publish()
        assert sorted(t["source"] for t in published["tracks"]) == ["camera", "microphone",
                                                                    "screen"]
        await viewer.connect()
        await viewer.join(meeting_id)
        await wait_until(lambda: frames_from(viewer, "nga") >= 20
                         and frames_from(viewer, "nga/screen") >= 10, 15, "camera and screen")
        assert set(viewer.subscriber.video["nga"].indexes) == {0}
        assert set(viewer.subscriber.video["nga/screen"].indexes) == {5}
        assert viewer.subscriber.video["nga/screen"].worst_colour_distance < 40

        # stop sharing: the viewer is told, and is offered the track no more
        screen_id = next(t["producer_id"] for t in published["tracks"] if t["source"] == "screen")
        mark = len(viewer.messages)
        await sharer.send({"type": "unpublish", "producer_id": screen_id})
        gone = await viewer.expect("track_unpublished", after=mark)
        assert gone["producer_id"] == screen_id
        offer = await viewer.expect("offer", after=mark)
        assert screen_id not in [c["producer_id"] for c in offer["consumers"]]
        before = frames_from(viewer, "nga")
        await wait_until(lambda: frames_from(viewer, "nga") >= before + 20, 5,
                         "the camera to go on after the screen stopped")
    finally:
        await sharer.close()
        await viewer.close()


async def test_h264_is_forwarded_when_preferred(site: Site) -> None:
    tokens = {n: site.account(n) for n in ("phuc", "quang")}
    meeting_id = site.meeting("phuc", ["quang"])
    publisher = site.client("phuc", tokens["phuc"], 2, Publisher(index=2, video_codec="video/H264"))
    viewer = site.client("quang", tokens["quang"], 3)
    viewer.subscriber.expected_index["phuc"] = 2
    try:
        await publisher.connect()
        await publisher.join(meeting_id)
        await publisher.publish()
        await viewer.connect()
        await viewer.join(meeting_id)
        await wait_until(lambda: frames_from(viewer, "phuc") >= 20, 15, "H.264 video")
        sdp = viewer.subscriber.pc.remoteDescription.sdp
        assert "H264/90000" in sdp and "VP8/90000" not in sdp
        assert set(viewer.subscriber.video["phuc"].indexes) == {2}
        assert viewer.subscriber.video["phuc"].worst_colour_distance < 40
    finally:
        await publisher.close()
        await viewer.close()


async def forwarded_video(site: Site, meeting_id: str) -> int:
    """Video packets the SFU has forwarded in the meeting, by its own stream figures."""
    live_meeting = site.server.app[LIVE_MEETINGS].live[MeetingId(meeting_id)]
    sample = await site.server.app[SFU].stats(live_meeting.router_id)
    return sum(s.packets for s in sample.streams
               if s.direction == "outbound" and s.kind == "video")


async def test_mute_pauses_forwarding_and_unmute_resumes(site: Site) -> None:
    tokens = {n: site.account(n) for n in ("son", "thu")}
    meeting_id = site.meeting("son", ["thu"])
    speaker = site.client("son", tokens["son"], 4)
    listener = site.client("thu", tokens["thu"], 5)
    try:
        for c in (speaker, listener):
            await c.connect()
            await c.join(meeting_id)
        await speaker.publish()
        await wait_until(lambda: frames_from(listener, "son") >= 10
                         and audio_from(listener, "son") >= 20, 10, "media before muting")
        mark = len(listener.messages)
        await speaker.send({"type": "mute", "kind": "video", "muted": True})
        changed = await listener.expect("mute_changed", after=mark)
        assert changed == {"type": "mute_changed", "participant_id": speaker.participant_id,
                           "kind": "video", "muted": True}
        # The producer is paused before anyone is told: from then on the SFU's own count
        # of video packets forwarded to the listener stands still.
        forwarded = await forwarded_video(site, meeting_id)
        await asyncio.sleep(1.0)
        assert await forwarded_video(site, meeting_id) == forwarded, "video forwarded while muted"
        paused_at = frames_from(listener, "son")
        audio_before = audio_from(listener, "son")
        await wait_until(lambda: audio_from(listener, "son") > audio_before + 20, 3,
                         "audio to go on while video is muted")
        await speaker.send({"type": "mute", "kind": "video", "muted": False})
        await wait_until(lambda: frames_from(listener, "son") >= paused_at + 15, 3,
                         "video to resume (with a fresh keyframe) after unmuting")
    finally:
        await speaker.close()
        await listener.close()


async def speaker_figures(site: Site, meeting_id: str) -> SpeakerFigures:
    """The meeting's active-speaker detector, by its own counts."""
    live_meeting = site.server.app[LIVE_MEETINGS].live[MeetingId(meeting_id)]
    return (await site.server.app[SFU].stats(live_meeting.router_id)).speaker


async def test_the_speaker_is_named_to_everyone(site: Site) -> None:
    names = ["lan", "minh", "nga"]
    tokens = {name: site.account(name) for name in names}
    meeting_id = site.meeting(names[0], names[1:])
    speaker = site.client("lan", tokens["lan"], 0)
    quiet = site.client("minh", tokens["minh"], 1, Publisher(index=1, silent=True))
    listener = site.client("nga", tokens["nga"], 2, Publisher(index=2, silent=True))
    clients = [speaker, quiet, listener]
    try:
        # Everyone is in before the only voice starts, so each hears every announcement.
        for c in (quiet, listener):
            await join_and_publish(c, meeting_id)
        await speaker.connect()
        await speaker.join(meeting_id)
        published = await speaker.publish()
        voice = next(t["producer_id"] for t in published["tracks"] if t["kind"] == "audio")
        for c in clients:
            message = await c.expect("active_speaker", timeout=10)
            assert message["participant_id"] == speaker.participant_id
        # Named once, not on every tick: while the detector goes on reading the levels
        # (eight more ticks of its own), it keeps the speaker and announces nothing more.
        named = await speaker_figures(site, meeting_id)
        assert named.current == voice and named.announcements == 1, named
        later = named
        for _ in range(120):
            later = await speaker_figures(site, meeting_id)
            if later.ticks >= named.ticks + 8:
                break
            await asyncio.sleep(0.25)
        assert later.ticks >= named.ticks + 8, f"the detector stopped ticking: {later}"
        assert later.current == voice and later.announcements == 1, later
        for c in clients:
            assert sum(m["type"] == "active_speaker" for m in c.messages) == 1, c.username
    finally:
        for c in clients:
            await c.close()
