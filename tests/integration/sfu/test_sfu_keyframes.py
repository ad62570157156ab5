"""The SFU's own keyframe logic and bitrate feedback, measured with publishers that send
a keyframe only when asked (aiortc's encoder would otherwise re-key on every bitrate
change and hide whether the SFU asks and waits) and on the SFU's own counters."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
from aiortc.rtp import RtpPacket

from sfu.aiortc_peer import observe_rtp, report_remb
from sfu.api import ConsumerId, ProducerInfo, RouterId, StreamStats
from sfu.codecs import is_keyframe_start
from sfu.config import SfuSettings
from sfu.engine import Engine
from tests.integration.conftest import wait_until
from tests.integration.peers import Publisher, Subscriber

LOW_BPS, HIGH_BPS = 200_000, 400_000
"""What two subscribers report in their REMB: above the SFU's floor, and exact in
REMB's mantissa-and-exponent form."""


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    e = Engine(SfuSettings(announced_addresses=["127.0.0.1"]))
    await e.start()
    yield e
    await e.close()


async def subscribe(engine: Engine, router: RouterId, subscriber: Subscriber,
                    producers: tuple[ProducerInfo, ...] | list[ProducerInfo], label: str,
                    index: int, remb: int | None = None,
                    first_video: list[bytes] | None = None) -> dict[str, ConsumerId]:
    """Subscribe to every producer; consumer ids by kind. `first_video` receives the
    payload of every video packet the subscriber gets; `remb` is what its REMB says."""
    transport = await engine.create_transport(router, "subscribe")
    ids = {p.kind: await engine.consume(transport, p.producer_id) for p in producers}
    offer = await engine.create_offer(transport)
    for c in offer.consumers:
        subscriber.mid_labels[c.mid] = label
    subscriber.expected_index[label] = index
    answer = await subscriber.answer(offer.offer_sdp)
    for transceiver in subscriber.pc.getTransceivers():
        if transceiver.kind != "video":
            continue
        if remb is not None:
            report_remb(transceiver.receiver, remb)
        if first_video is not None:
            observe_rtp(transceiver.receiver, keeper(first_video))
    await engine.apply_answer(transport, answer)
    return ids


def keeper(payloads: list[bytes]) -> Callable[[RtpPacket], None]:
    def keep(packet: RtpPacket) -> None:
        payloads.append(packet.payload)

    return keep


def frames(subscriber: Subscriber, label: str) -> int:
    video = subscriber.video.get(label)
    return video.frames if video else 0


async def test_a_late_subscriber_waits_for_the_keyframe_the_sfu_keeps_asking_for(
        engine: Engine) -> None:
    router = await engine.create_router()
    pub_t = await engine.create_transport(router, "publish")
    publisher = Publisher(index=3)
    first, late = Subscriber(), Subscriber()
    try:
        result = await engine.publish(pub_t, await publisher.offer())
        await publisher.accept(result.answer_sdp)
        video_id = next(p.producer_id for p in result.producers if p.kind == "video")
        await subscribe(engine, router, first, result.producers, "pub", 3)
        # Two seconds of delta frames after the first keyframe, nothing re-keyed since.
        await wait_until(lambda: frames(first, "pub") >= 60, 30, "60 frames at the first")
        producer = engine.routers[router].producers[video_id]
        asks = publisher.keyframe_asks["camera"]
        asks_before, sent_before = asks.count, producer.keyframe_requests_sent
        asks.ignore = 1  # the request made on joining is lost: only a retry brings one
        payloads: list[bytes] = []
        ids = await subscribe(engine, router, late, result.producers, "pub", 3,
                              first_video=payloads)
        await wait_until(lambda: frames(late, "pub") >= 10, 30, "10 frames at the late joiner")
        assert set(late.video["pub"].indexes) == {3}
        # The first video packet the late joiner got starts a keyframe: nothing before it.
        assert payloads and is_keyframe_start("video/vp8", payloads[0])
        # The SFU asked on joining and asked again while the consumer waited ...
        assert producer.keyframe_requests_sent - sent_before >= 2
        assert asks.count - asks_before >= 2 and asks.ignore == 0
        # ... and withheld the publisher's delta frames meanwhile, by its own count.
        outbound = await consumer_stats(engine, router, ids["video"])
        assert outbound.dropped_waiting_keyframe > 0
        assert outbound.keyframes >= 1
    finally:
        await first.close()
        await late.close()
        await publisher.pc.close()


async def consumer_stats(engine: Engine, router: RouterId, consumer: ConsumerId) -> StreamStats:
    sample = await engine.stats(router)
    return next(s for s in sample.streams if s.stream_id == consumer)


async def test_the_publisher_is_told_the_lowest_of_two_subscribers_bitrates(
        engine: Engine) -> None:
    router = await engine.create_router()
    pub_t = await engine.create_transport(router, "publish")
    publisher = Publisher(index=4)
    thin, wide = Subscriber(), Subscriber()
    try:
        # Without abs-send-time from the publisher the SFU has no uplink estimate of its
        # own, so what it tells the publisher comes from the two subscribers alone.
        offer = "".join(line for line in (await publisher.offer()).splitlines(keepends=True)
                        if "abs-send-time" not in line)
        result = await engine.publish(pub_t, offer)
        await publisher.accept(result.answer_sdp)
        video_id = next(p.producer_id for p in result.producers if p.kind == "video")
        thin_ids = await subscribe(engine, router, thin, result.producers, "pub", 4,
                                   remb=LOW_BPS)
        wide_ids = await subscribe(engine, router, wide, result.producers, "pub", 4,
                                   remb=HIGH_BPS)
        consumers = engine.routers[router].consumers
        thin_c, wide_c = consumers[thin_ids["video"]], consumers[wide_ids["video"]]
        await wait_until(lambda: (thin_c.remb_bps, wide_c.remb_bps) == (LOW_BPS, HIGH_BPS),
                         30, "both subscribers' REMB")
        producer = engine.routers[router].producers[video_id]
        assert producer.tap.uplink_bps is None
        assert producer.aggregate_bitrate() == LOW_BPS
        await wait_until(lambda: producer.remb_sent_bps == LOW_BPS, 30,
                         "the lowest of the two REMBs sent to the publisher")
        assert frames(thin, "pub") > 0 and frames(wide, "pub") > 0
    finally:
        await thin.close()
        await wide.close()
        await publisher.pc.close()


async def test_an_idle_producer_wakes_once_a_second_and_still_tells_the_publisher(
        engine: Engine) -> None:
    """Once every subscriber has its keyframe, the producer's keyframe task wakes only
    for the REMB (about once a second, not ten times); the publisher is still told
    its bitrate, from the uplink estimate the tap makes once per burst of packets."""
    router = await engine.create_router()
    pub_t = await engine.create_transport(router, "publish")
    publisher, subscriber = Publisher(index=5), Subscriber()
    try:
        result = await engine.publish(pub_t, await publisher.offer())
        await publisher.accept(result.answer_sdp)
        video_id = next(p.producer_id for p in result.producers if p.kind == "video")
        await subscribe(engine, router, subscriber, result.producers, "pub", 5)
        producer = engine.routers[router].producers[video_id]
        await wait_until(lambda: frames(subscriber, "pub") >= 30 and producer.tap.uplink_bps
                         is not None, 30, "30 frames and an uplink estimate")
        wakeups, packets = producer.keyframe_task_wakeups, producer.packets
        burst_estimator = producer.tap.estimator
        assert burst_estimator is not None
        bursts = burst_estimator.bursts
        started = time.monotonic()
        await wait_until(lambda: producer.packets - packets >= 90, 30, "90 more packets")
        await asyncio.sleep(1)
        # Polling every 100 ms, as it once did, it would have woken 10 times a second.
        assert producer.keyframe_task_wakeups - wakeups <= 2 * (time.monotonic() - started) + 2
        # The estimate is fed as packets come (this publisher's frames are one packet
        # each, so as many bursts as packets here; the unit tests cover longer ones).
        assert 0 < burst_estimator.bursts - bursts <= producer.packets - packets
        await wait_until(lambda: producer.remb_sent_bps is not None, 10, "a REMB sent")
        assert set(subscriber.video["pub"].indexes) == {5}
    finally:
        await subscriber.close()
        await publisher.pc.close()
