"""A subscriber whose browser cannot decode a codec, and how publishers are steered.

A Firefox without H.264 answers an H.264 video section as rejected: `m=video 0`,
`a=inactive`, no ICE credentials or fingerprint there, and the mid left out of the
BUNDLE group. Here a real aiortc subscriber's answer is edited into exactly that; the
subscriber must still get the other videos and everyone's audio (decoded), and later
renegotiations must still reach it. Publishers are real aiortc peers whose offers
list the codecs a browser would.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiortc import RTCRtpSender

from sfu.api import AnswerResult, InvalidSdpError
from sfu.config import SfuSettings
from sfu.ids import ProducerId, TransportId
from sfu.sdp_sections import join, split
from tests.integration.bad_input import Meeting, Resources, keeps_decoding
from tests.integration.conftest import wait_until
from tests.integration.media import TONES, PatternVideoTrack
from tests.integration.peers import H264Refuser, Publisher, Subscriber

pytestmark = pytest.mark.timeout(120)

BOUND_S = 30
"""Only a bound: on a loaded machine aiortc's peers encode and decode slowly."""

SETTINGS = SfuSettings(announced_addresses=["127.0.0.1"])


@pytest.fixture
async def meeting() -> AsyncIterator[Meeting]:
    resources = Resources.snapshot()
    opened = await Meeting.open(SETTINGS)
    try:
        yield opened
    finally:
        await opened.close()
        del opened
        await resources.assert_released()


async def receive(meeting: Meeting, subscriber: Subscriber, transport: TransportId,
                  producers: dict[str, dict[str, ProducerId]]) -> AnswerResult:
    """Consume the labelled producers on `transport` and run one offer/answer round."""
    labels: dict[ProducerId, str] = {}
    for label, by_kind in producers.items():
        for producer in by_kind.values():
            labels[producer] = label
            await meeting.engine.consume(transport, producer)
    offer = await meeting.engine.create_offer(transport)
    for consumer in offer.consumers:
        subscriber.mid_labels.setdefault(consumer.mid, labels.get(consumer.producer_id, "?"))
    return await meeting.engine.apply_answer(transport, await subscriber.answer(offer.offer_sdp))


async def hears(subscriber: Subscriber, label: str, index: int, frames: int = 50) -> None:
    await wait_until(lambda: label in subscriber.audio
                     and subscriber.audio[label].frames >= frames, BOUND_S, f"audio of {label}")
    assert abs(subscriber.audio[label].frequency() - TONES[index % len(TONES)]) < 30


async def test_a_rejected_video_section_leaves_audio_and_the_other_videos(
        meeting: Meeting) -> None:
    # A publisher that can only send H.264 (its offer lists nothing else).
    vp8, h264 = Publisher(index=2), Publisher(index=1, video_codec="video/H264")
    _, vp8_producers = await meeting.publish(vp8)
    _, h264_producers = await meeting.publish(h264)
    assert meeting.router.producers[h264_producers["video"]].codec.mimeType == "video/H264"

    refuser = H264Refuser()
    refuser.expected_index.update(vp8=2, late=3)
    meeting.subscribers.append(refuser)
    transport = await meeting.engine.create_transport(meeting.router_id, "subscribe")
    meeting.engine_pcs.append(meeting.router.transports[transport].pc)
    result = await receive(meeting, refuser, transport, {"h264": h264_producers,
                                                         "vp8": vp8_producers})
    assert "m=video 0 " in refuser.answers[-1]
    assert [c.producer_id for c in result.undeliverable] == [h264_producers["video"]]

    await keeps_decoding(refuser, "vp8", 2, frames=15, timeout=BOUND_S)
    await hears(refuser, "h264", 1)
    await hears(refuser, "vp8", 2)
    stats = {s.producer_id: s for s in (await meeting.engine.stats(meeting.router_id)).streams
             if s.direction == "outbound" and s.transport_id == transport}
    assert stats[h264_producers["video"]].undeliverable
    assert stats[h264_producers["video"]].packets == 0
    assert not any(s.undeliverable for p, s in stats.items() if p != h264_producers["video"])
    assert "video/h264" in meeting.router.undecodable()

    # A later joiner still reaches the subscriber; the rejected section stays rejected.
    _, late_producers = await meeting.publish(Publisher(index=3))
    again = await receive(meeting, refuser, transport, {"late": late_producers})
    assert again.undeliverable == []
    assert "m=video 0 " in refuser.answers[-1]
    await keeps_decoding(refuser, "late", 3, frames=15, timeout=BOUND_S)
    await hears(refuser, "late", 3)
    await keeps_decoding(refuser, "vp8", 2, frames=15, timeout=BOUND_S)
    assert refuser.video.get("h264") is None or refuser.video["h264"].frames == 0


async def test_a_refused_answer_does_not_stop_later_offers(meeting: Meeting) -> None:
    first = Publisher(index=1)
    _, first_producers = await meeting.publish(first)
    subscriber = Subscriber()
    subscriber.expected_index.update(first=1, late=2)
    meeting.subscribers.append(subscriber)
    transport = await meeting.engine.create_transport(meeting.router_id, "subscribe")
    meeting.engine_pcs.append(meeting.router.transports[transport].pc)
    for producer in first_producers.values():
        await meeting.engine.consume(transport, producer)
    offer = await meeting.engine.create_offer(transport)
    answer = await subscriber.answer(offer.offer_sdp)
    without_ice = re.sub(r"a=ice-(ufrag|pwd):[^\r\n]*\r\n", "", answer)
    with pytest.raises(InvalidSdpError, match="no ICE credentials"):
        await meeting.engine.apply_answer(transport, without_ice)

    # Someone joins: the next offer replaces the refused one, and is answered.
    _, late_producers = await meeting.publish(Publisher(index=2))
    result = await receive(meeting, subscriber, transport, {"first": first_producers,
                                                            "late": late_producers})
    assert result.undeliverable == []
    await keeps_decoding(subscriber, "first", 1, frames=15, timeout=BOUND_S)
    await keeps_decoding(subscriber, "late", 2, frames=15, timeout=BOUND_S)


def offered_video(publisher: Publisher) -> list[str]:
    """The video codecs the publisher's offer lists, in its order."""
    offer = publisher.pc.localDescription.sdp
    video = next(s for s in split(offer)[1] if s.kind == "video")
    return [line.split(" ", 1)[1].split("/")[0]
            for line in video.attrs(("a=rtpmap:",)) if "rtx" not in line]


async def test_publishers_are_steered_to_a_codec_everyone_decodes() -> None:
    resources = Resources.snapshot()
    meeting = await Meeting.open(SfuSettings(announced_addresses=["127.0.0.1"],
                                             video_codecs=["H264", "VP8"]))
    try:
        # The configured order wins over the publisher's own preference (a publisher
        # sends the first codec of the answer)...
        first_publisher = Publisher(index=1)
        _, first = await meeting.publish(first_publisher)
        assert offered_video(first_publisher)[:2] == ["VP8", "H264"]
        assert meeting.router.producers[first["video"]].codec.mimeType == "video/H264"
        # ...until a participant whose browser cannot decode H.264 is in the meeting.
        _, no_h264 = await meeting.publish(Publisher(index=2, video_codec="video/VP8"))
        assert meeting.router.producers[no_h264["video"]].codec.mimeType == "video/VP8"
        assert meeting.router.undecodable() == {"video/h264"}
        _, third = await meeting.publish(Publisher(index=3))
        producer = meeting.router.producers[third["video"]]
        assert producer.codec.mimeType == "video/VP8"
        watcher = Subscriber()
        watcher.expected_index.update(third=3)
        meeting.subscribers.append(watcher)
        transport = await meeting.engine.create_transport(meeting.router_id, "subscribe")
        meeting.engine_pcs.append(meeting.router.transports[transport].pc)
        await receive(meeting, watcher, transport, {"third": third})
        await keeps_decoding(watcher, "third", 3, frames=15, timeout=BOUND_S)
    finally:
        await meeting.close()
        await resources.assert_released()


async def test_an_offer_that_drops_a_section_is_refused_clearly(meeting: Meeting) -> None:
    publisher = Publisher(index=1)
    meeting.publishers.append(publisher)
    transport = await meeting.engine.create_transport(meeting.router_id, "publish")
    meeting.engine_pcs.append(meeting.router.transports[transport].pc)
    offer = await publisher.offer()
    result = await meeting.engine.publish(transport, offer)
    await publisher.accept(result.answer_sdp)
    session, sections = split(offer)
    for changed in (join(session, sections[1:]), join(session, sections[::-1])):
        with pytest.raises(InvalidSdpError, match="drops, moves or changes"):
            await meeting.engine.publish(transport, changed)
    # The transport is untouched: its producers still forward to a subscriber.
    watcher = Subscriber()
    watcher.expected_index.update(me=1)
    meeting.subscribers.append(watcher)
    sub = await meeting.engine.create_transport(meeting.router_id, "subscribe")
    meeting.engine_pcs.append(meeting.router.transports[sub].pc)
    await receive(meeting, watcher, sub, {"me": {p.kind: p.producer_id
                                                 for p in result.producers}})
    await keeps_decoding(watcher, "me", 1, frames=15, timeout=BOUND_S)


def first_video_codecs(sdp: str) -> list[str]:
    """Each video section's first codec name, in order."""
    return [s.attrs(("a=rtpmap:",))[0].split(" ", 1)[1].split("/")[0]
            for s in split(sdp)[1] if s.kind == "video"]


async def test_a_renegotiation_keeps_the_codec_each_section_sends() -> None:
    resources = Resources.snapshot()
    meeting = await Meeting.open(SfuSettings(announced_addresses=["127.0.0.1"],
                                             video_codecs=["H264", "VP8"]))
    try:
        publisher = Publisher(index=1)
        meeting.publishers.append(publisher)
        transport = await meeting.engine.create_transport(meeting.router_id, "publish")
        meeting.engine_pcs.append(meeting.router.transports[transport].pc)
        first = await meeting.engine.publish(transport, await publisher.offer())
        await publisher.accept(first.answer_sdp)
        assert first_video_codecs(str(publisher.pc.localDescription.sdp)) == ["VP8"]
        assert first_video_codecs(first.answer_sdp) == ["H264"]
        # Someone who cannot decode H.264 joins; then the first publisher adds a screen.
        # Its camera is answered with the codec it already sends, the screen is steered.
        await meeting.publish(Publisher(index=2, video_codec="video/VP8"))
        screen = publisher.pc.addTransceiver(PatternVideoTrack(5, fps=15), direction="sendonly")
        screen.setCodecPreferences(RTCRtpSender.getCapabilities("video").codecs)
        again = await meeting.engine.publish(transport, await publisher.offer())
        assert first_video_codecs(again.answer_sdp) == ["H264", "VP8"]
        await publisher.accept(again.answer_sdp)
        # Closed once connected: a peer closed mid-handshake leaves aioice tasks behind.
        await wait_until(lambda: publisher.pc.connectionState == "connected"
                         and meeting.router.transports[transport].connection_state
                         == "connected", BOUND_S, "the publisher to connect")
    finally:
        await meeting.close()
        await resources.assert_released()
