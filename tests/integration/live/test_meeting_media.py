"""A meeting through the real /ws and the real SFU, with real aiortc peers."""

from __future__ import annotations

import asyncio
import time

from aiortc.rtp import RTCP_PSFB_PLI, RtcpPsfbPacket

from sfu.aiortc_peer import observe_rtcp, receiver_streams
from sfu.aiortc_receive import send_pli
from tests.integration.conftest import Site, wait_until
from tests.integration.media import TONES


async def start_meeting(site: Site, names: list[str]):
    tokens = {name: site.account(name) for name in names}
    meeting_id = site.meeting(names[0], names[1:])
    clients = [site.client(name, tokens[name], i) for i, name in enumerate(names)]
    for c in clients:
        c.subscriber.expected_index.update({n: i for i, n in enumerate(names)})
    return meeting_id, clients


async def join_and_publish(client, meeting_id: str) -> None:
    await client.connect()
    await client.join(meeting_id)
    await client.publish()


def frames_from(client, username: str) -> int:
    video = client.subscriber.video.get(username)
    return video.frames if video else 0


def audio_from(client, username: str) -> int:
    audio = client.subscriber.audio.get(username)
    return audio.frames if audio else 0


async def test_three_peers_each_receive_the_other_two(site: Site) -> None:
    names = ["an", "binh", "chi"]
    meeting_id, clients = await start_meeting(site, names)
    try:
        for c in clients:
            await join_and_publish(c, meeting_id)

        def everyone_receives() -> bool:
            return all(frames_from(c, o) >= 45 and audio_from(c, o) >= 50
                       for c in clients for o in names if o != c.username)

        await wait_until(everyone_receives, 20, "each peer to decode the other two")
        for c in clients:
            assert c.errors == []
            assert c.username not in c.subscriber.video, "a peer must not receive itself"
            for i, other in enumerate(names):
                if other == c.username:
                    continue
                video = c.subscriber.video[other]
                assert set(video.indexes) == {i}, f"{c.username} got foreign frames from {other}"
                assert video.worst_colour_distance < 40
                nums = video.frame_numbers
                assert all(b > a for a, b in zip(nums, nums[1:])), "frames out of order"
                heard = c.subscriber.audio[other].frequency()
                assert abs(heard - TONES[i]) < 15, f"{c.username} heard {heard} Hz from {other}"
    finally:
        for c in clients:
            await c.close()


async def test_late_joiner_decodes_video_within_two_seconds(site: Site) -> None:
    meeting_id, clients = await start_meeting(site, ["dung", "em"])
    first, late = clients
    try:
        await join_and_publish(first, meeting_id)
        await asyncio.sleep(3)  # the publisher's first keyframe is long gone
        joined_at = time.monotonic()
        await late.connect()
        await late.join(meeting_id)
        await wait_until(lambda: frames_from(late, "dung") >= 1, 2.0,
                         "the late joiner's first decoded frame")
        took = late.subscriber.video["dung"].first_frame_at - joined_at
        assert took < 2.0
        assert set(late.subscriber.video["dung"].indexes) == {0}
    finally:
        for c in clients:
            await c.close()


async def test_subscriber_pli_reaches_publisher(site: Site) -> None:
    meeting_id, clients = await start_meeting(site, ["giang", "hoa"])
    publisher, subscriber = clients
    plis: list[float] = []
    try:
        await join_and_publish(publisher, meeting_id)
        video_sender = next(t.sender for t in publisher.publisher.pc.getTransceivers()
                            if t.kind == "video")

        def record(packet: object) -> None:
            if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_PLI:
                plis.append(time.monotonic())

        observe_rtcp(video_sender, record)
        await subscriber.connect()
        await subscriber.join(meeting_id)
        await wait_until(lambda: frames_from(subscriber, "giang") >= 10, 10, "video")
        await asyncio.sleep(1.0)  # past the coalescing window of the join-time request
        before = len(plis)
        receiver = next(t.receiver for t in subscriber.subscriber.pc.getTransceivers()
                        if t.kind == "video")
        ssrc = next(iter(receiver_streams(receiver)))
        await send_pli(receiver, ssrc)
        await wait_until(lambda: len(plis) > before, 2.0, "the PLI at the publisher")
    finally:
        for c in clients:
            await c.close()


async def test_garbage_sdp_gets_an_error_and_the_meeting_goes_on(site: Site) -> None:
    meeting_id, clients = await start_meeting(site, ["khoa", "lan", "minh"])
    a, b, bad = clients
    try:
        await join_and_publish(a, meeting_id)
        await join_and_publish(b, meeting_id)
        await bad.connect()
        await bad.join(meeting_id)
        await wait_until(lambda: frames_from(a, "lan") >= 10 and frames_from(b, "khoa") >= 10,
                         10, "media between the two good peers")
        mark = len(bad.messages)
        await bad.send({"type": "publish", "sdp": "v=0\r\nthis is not a session description",
                        "tracks": []})
        error = await bad.expect("error", after=mark)
        assert error["code"] == "invalid_sdp" and error["request"] == "publish"
        mark = len(bad.messages)
        await bad.send_raw("{not json")
        assert (await bad.expect("error", after=mark))["code"] == "invalid_message"
        mark = len(bad.messages)
        await bad.send({"type": "publish", "sdp": "hello"})
        assert (await bad.expect("error", after=mark))["code"] == "invalid_message"
        before_a, before_b = frames_from(a, "lan"), frames_from(b, "khoa")
        await wait_until(lambda: frames_from(a, "lan") >= before_a + 30
                         and frames_from(b, "khoa") >= before_b + 30, 5,
                         "media to keep flowing after the bad messages")
        # the bad peer is still in the meeting and can publish properly afterwards
        await bad.publish()
        await wait_until(lambda: frames_from(a, "minh") >= 5, 10, "the recovered peer's video")
    finally:
        for c in clients:
            await c.close()
