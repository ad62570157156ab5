"""The SFU engine forwards real aiortc media without transcoding."""

from __future__ import annotations

import pytest

from sfu.api import StatsSample, WorkerLoad
from sfu.config import SfuSettings
from sfu.engine import Engine
from sfu.producer import REMB_FLOOR_BPS
from tests.integration.conftest import wait_until
from tests.integration.media import TONES
from tests.integration.peers import Publisher, Subscriber


@pytest.fixture
async def engine():
    e = Engine(SfuSettings(announced_addresses=["127.0.0.1"]))
    await e.start()
    yield e
    await e.close()


async def test_subscriber_decodes_publishers_own_frames(engine: Engine) -> None:
    router = await engine.create_router()
    pub_t = await engine.create_transport(router, "publish")
    sub_t = await engine.create_transport(router, "subscribe")
    publisher = Publisher(index=1)
    subscriber = Subscriber()
    try:
        result = await engine.publish(pub_t, await publisher.offer())
        await publisher.accept(result.answer_sdp)
        assert sorted(p.kind for p in result.producers) == ["audio", "video"]
        for p in result.producers:
            await engine.consume(sub_t, p.producer_id)
        offer = await engine.create_offer(sub_t)
        for c in offer.consumers:
            subscriber.mid_labels[c.mid] = "pub1"
        subscriber.expected_index["pub1"] = 1
        await engine.apply_answer(sub_t, await subscriber.answer(offer.offer_sdp))
        def received() -> bool:
            video, audio = subscriber.video.get("pub1"), subscriber.audio.get("pub1")
            return bool(video and video.frames >= 30 and audio and audio.frames >= 50)

        await wait_until(received, 15, "30 video frames and 50 audio frames")
        video = subscriber.video["pub1"]
        assert set(video.indexes) == {1}
        numbers = video.frame_numbers
        assert all(b > a for a, b in zip(numbers, numbers[1:])), numbers
        assert video.worst_colour_distance < 40
        assert abs(subscriber.audio["pub1"].frequency() - TONES[1]) < 15
    finally:
        await subscriber.close()
        await publisher.pc.close()


async def test_stats_and_bitrate_feedback_describe_real_streams() -> None:
    engine = Engine(SfuSettings(announced_addresses=["127.0.0.1"], stats_interval_ms=500))
    await engine.start()
    samples: list[StatsSample] = []
    loads: list[WorkerLoad] = []
    engine.add_listener(lambda e: samples.append(e) if isinstance(e, StatsSample) else None)
    engine.add_listener(lambda e: loads.append(e) if isinstance(e, WorkerLoad) else None)
    router = await engine.create_router()
    pub_t = await engine.create_transport(router, "publish")
    sub_t = await engine.create_transport(router, "subscribe")
    publisher = Publisher(index=2)
    subscriber = Subscriber()
    try:
        result = await engine.publish(pub_t, await publisher.offer())
        await publisher.accept(result.answer_sdp)
        for p in result.producers:
            await engine.consume(sub_t, p.producer_id)
        offer = await engine.create_offer(sub_t)
        await engine.apply_answer(sub_t, await subscriber.answer(offer.offer_sdp))

        def rtt_known() -> bool:
            outbound = [s for s in samples[-1].streams if s.direction == "outbound"] \
                if samples else []
            return len(outbound) == 2 and all(s.rtt_ms is not None for s in outbound)

        await wait_until(rtt_known, 15, "a stats sample with the subscriber's RTT")
        await engine.stats(router)  # on demand, too
        sample = await engine.stats(router)
        by_kind = {(s.direction, s.kind): s for s in sample.streams}
        assert set(by_kind) == {("inbound", "audio"), ("inbound", "video"),
                                ("outbound", "audio"), ("outbound", "video")}
        inbound, outbound = by_kind["inbound", "video"], by_kind["outbound", "video"]
        assert inbound.packets > 0 and inbound.bitrate_bps > 10_000
        assert outbound.packets > 0 and outbound.bitrate_bps > 10_000
        assert outbound.keyframes >= 1 and inbound.keyframes >= 1
        assert inbound.packets_lost == 0 and outbound.loss_fraction == 0
        assert outbound.rtt_ms is not None and 0 <= outbound.rtt_ms < 200
        # The subscriber's REMB reaches the publisher, never below the floor.
        producer = engine.routers[router].producers[inbound.producer_id]
        await wait_until(lambda: producer.remb_sent_bps is not None, 10, "an aggregated REMB")
        assert producer.remb_sent_bps is not None
        assert producer.remb_sent_bps >= REMB_FLOOR_BPS
        # The engine reports its own load alongside.
        assert loads and loads[-1].streams == 4 and loads[-1].packets_per_s > 50
        assert loads[-1].cpu_percent > 0
    finally:
        await subscriber.close()
        await publisher.pc.close()
        await engine.close()
