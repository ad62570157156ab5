"""One contract for both SfuClient implementations: in-process and worker processes.

Every test drives the interface only, with real aiortc peers over loopback, and runs
once against `Engine` and once against `WorkerPool` (two worker processes).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from sfu.api import (
    InvalidSdpError,
    RouterClosed,
    SfuClient,
    SfuError,
    SfuEvent,
    StatsSample,
    StreamStats,
    TrackPublished,
    TransportClosed,
    TransportConnected,
    UnknownIdError,
    WorkerLoad,
)
from sfu.config import SfuSettings
from sfu.engine import Engine
from sfu.ids import ConsumerId, ProducerId, RouterId, TransportId
from sfu.pool import WorkerPool
from tests.integration.conftest import wait_until
from tests.integration.media import TONES
from tests.integration.peers import Publisher, Subscriber

SETTINGS = SfuSettings(announced_addresses=["127.0.0.1"], stats_interval_ms=500)


@pytest.fixture(params=["in_process", "workers"])
async def sfu(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SfuClient]:
    client: SfuClient
    if request.param == "in_process":
        client = Engine(SETTINGS)
    else:
        client = WorkerPool(SETTINGS, 2, tmp_path / "run")
    await client.start()
    try:
        yield client
    finally:
        await client.close()


class Events:
    def __init__(self, sfu: SfuClient) -> None:
        self.seen: list[SfuEvent] = []
        sfu.add_listener(self.seen.append)

    def of(self, kind: type) -> list[SfuEvent]:
        return [e for e in self.seen if isinstance(e, kind)]


async def publish(sfu: SfuClient, router: RouterId, publisher: Publisher
                  ) -> tuple[TransportId, dict[str, ProducerId]]:
    transport = await sfu.create_transport(router, "publish")
    result = await sfu.publish(transport, await publisher.offer())
    await publisher.accept(result.answer_sdp)
    return transport, {p.kind: p.producer_id for p in result.producers}


async def subscribe(sfu: SfuClient, router: RouterId, producers: list[ProducerId],
                    subscriber: Subscriber, label: str) -> TransportId:
    transport = await sfu.create_transport(router, "subscribe")
    for producer in producers:
        await sfu.consume(transport, producer)
    offer = await sfu.create_offer(transport)
    for consumer in offer.consumers:
        subscriber.mid_labels[consumer.mid] = label
    await sfu.apply_answer(transport, await subscriber.answer(offer.offer_sdp))
    return transport


async def test_forwards_the_publishers_own_frames(sfu: SfuClient) -> None:
    events = Events(sfu)
    router = await sfu.create_router()
    publisher, subscriber = Publisher(index=3), Subscriber()
    subscriber.expected_index["pub"] = 3
    try:
        _, producers = await publish(sfu, router, publisher)
        assert sorted(producers) == ["audio", "video"]
        await subscribe(sfu, router, list(producers.values()), subscriber, "pub")

        def received() -> bool:
            video, audio = subscriber.video.get("pub"), subscriber.audio.get("pub")
            return bool(video and video.frames >= 30 and audio and audio.frames >= 50)

        await wait_until(received, 20, "30 video frames and 50 audio frames")
        video = subscriber.video["pub"]
        assert set(video.indexes) == {3}
        assert video.worst_colour_distance < 40
        assert abs(subscriber.audio["pub"].frequency() - TONES[3]) < 15
        published = {e.producer.producer_id for e in events.of(TrackPublished)
                     if isinstance(e, TrackPublished)}
        assert published == set(producers.values())
        assert len(events.of(TransportConnected)) == 2
        await wait_until(lambda: bool(events.of(WorkerLoad)), 5, "a worker load report")
        sample = await sfu.stats(router)
        assert {(s.direction, s.kind) for s in sample.streams} == {
            ("inbound", "audio"), ("inbound", "video"), ("outbound", "audio"),
            ("outbound", "video")}
        assert all(s.packets > 0 for s in sample.streams)
    finally:
        await subscriber.close()
        await publisher.pc.close()


def outbound(sample: StatsSample, kind: str) -> StreamStats:
    return next(s for s in sample.streams if s.direction == "outbound" and s.kind == kind)


async def stats_until(sfu: SfuClient, router: RouterId, done: Callable[[StatsSample], bool],
                      timeout: float) -> StatsSample:
    """The router's stats, read until `done` holds for them."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not done(sample := await sfu.stats(router)):
        assert asyncio.get_running_loop().time() < deadline, f"timed out: {sample}"
        await asyncio.sleep(0.1)
    return sample


async def test_pause_stops_video_and_resume_restarts_it(sfu: SfuClient) -> None:
    router = await sfu.create_router()
    publisher, subscriber = Publisher(index=1), Subscriber()
    try:
        _, producers = await publish(sfu, router, publisher)
        await subscribe(sfu, router, [producers["video"], producers["audio"]], subscriber, "pub")
        await wait_until(lambda: "pub" in subscriber.video and subscriber.video["pub"].frames > 10,
                         20, "video before the pause")
        await sfu.pause_producer(producers["video"], True)
        # Counted by the SFU: while two seconds of audio go on, not one video packet.
        at_pause = await sfu.stats(router)
        sample = await stats_until(sfu, router, lambda s: outbound(s, "audio").packets
                                   >= outbound(at_pause, "audio").packets + 100, 30)
        assert outbound(sample, "video").packets == outbound(at_pause, "video").packets
        assert outbound(sample, "video").paused
        paused_at = subscriber.video["pub"].frames
        await sfu.pause_producer(producers["video"], False)
        await wait_until(lambda: subscriber.video["pub"].frames > paused_at + 15, 10,
                         "video after resuming (a keyframe was requested)")
    finally:
        await subscriber.close()
        await publisher.pc.close()


def inbound(sample: StatsSample, kind: str) -> StreamStats:
    return next(s for s in sample.streams if s.direction == "inbound" and s.kind == kind)


async def test_a_paused_consumer_sends_nothing_and_resumes_from_a_keyframe(
        sfu: SfuClient) -> None:
    router = await sfu.create_router()
    publisher, shown, hidden = Publisher(index=5), Subscriber(), Subscriber()
    try:
        _, producers = await publish(sfu, router, publisher)
        await subscribe(sfu, router, [producers["video"]], shown, "pub")
        hidden_transport = await subscribe(sfu, router, [producers["video"]], hidden, "pub")
        both = [c for c in (await sfu.stats(router)).streams if c.direction == "outbound"]
        hidden_consumer = next(c for c in both if c.transport_id == hidden_transport)
        await wait_until(lambda: all("pub" in s.video and s.video["pub"].frames > 10
                                     for s in (shown, hidden)), 20, "video at both")
        await sfu.pause_consumer(ConsumerId(hidden_consumer.stream_id), True)
        at_pause = await sfu.stats(router)

        def of(sample: StatsSample, consumer: str) -> StreamStats:
            return next(s for s in sample.streams if s.stream_id == consumer)

        shown_consumer = next(c.stream_id for c in both if c.transport_id != hidden_transport)
        # Counted by the SFU: the other subscriber gets 60 more packets, this one none.
        sample = await stats_until(sfu, router, lambda s: of(s, shown_consumer).packets
                                   >= of(at_pause, shown_consumer).packets + 60, 30)
        assert of(sample, hidden_consumer.stream_id).packets == of(
            at_pause, hidden_consumer.stream_id).packets
        assert of(sample, hidden_consumer.stream_id).paused
        assert not of(sample, shown_consumer).paused
        plis_before = inbound(sample, "video").plis
        frames_before = hidden.video["pub"].frames
        await sfu.pause_consumer(ConsumerId(hidden_consumer.stream_id), False)
        await wait_until(lambda: hidden.video["pub"].frames > frames_before + 15, 10,
                         "video after resuming (a keyframe was requested)")
        assert set(hidden.video["pub"].indexes) == {5}
        resumed = await sfu.stats(router)
        assert inbound(resumed, "video").plis > plis_before
        assert of(resumed, hidden_consumer.stream_id).keyframes >= 2
        with pytest.raises(UnknownIdError):
            await sfu.pause_consumer(ConsumerId("c-nonexistent"), True)
    finally:
        await shown.close()
        await hidden.close()
        await publisher.pc.close()


async def test_a_consumer_paused_from_the_start_plays_once_resumed(sfu: SfuClient) -> None:
    router = await sfu.create_router()
    publisher, subscriber = Publisher(index=6, fps=10, small=True), Subscriber()
    try:
        _, producers = await publish(sfu, router, publisher)
        transport = await sfu.create_transport(router, "subscribe")
        consumer = await sfu.consume(transport, producers["video"])
        await sfu.pause_consumer(consumer, True)
        offer = await sfu.create_offer(transport)
        subscriber.mid_labels[offer.consumers[0].mid] = "pub"
        await sfu.apply_answer(transport, await subscriber.answer(offer.offer_sdp))
        await stats_until(sfu, router, lambda s: inbound(s, "video").packets > 60, 30)
        assert outbound((await sfu.stats(router)), "video").packets == 0
        await sfu.pause_consumer(consumer, False)
        await wait_until(lambda: "pub" in subscriber.video and subscriber.video["pub"].frames > 10,
                         20, "video once resumed")
        assert set(subscriber.video["pub"].indexes) == {6}
    finally:
        await subscriber.close()
        await publisher.pc.close()


async def test_bad_requests_get_typed_errors(sfu: SfuClient) -> None:
    router = await sfu.create_router()
    transport = await sfu.create_transport(router, "publish")
    with pytest.raises(InvalidSdpError):
        await sfu.publish(transport, "v=0\r\ngarbage\r\n")
    with pytest.raises(UnknownIdError):
        await sfu.create_transport(RouterId("r-nonexistent"), "publish")
    with pytest.raises(UnknownIdError):
        await sfu.consume(TransportId("t-nonexistent"), ProducerId("p-nonexistent"))
    publisher = Publisher(index=2)
    try:
        _, producers = await publish(sfu, router, publisher)
        own = await sfu.create_transport(router, "subscribe")
        with pytest.raises(UnknownIdError):
            await sfu.consume(own, ProducerId("p-nonexistent"))
        # The router still works after every refusal.
        await sfu.consume(own, producers["audio"])
        offer = await sfu.create_offer(own)
        assert len(offer.consumers) == 1
    finally:
        await publisher.pc.close()
    # Closing what is already gone is not an error.
    await sfu.close_transport(TransportId("t-nonexistent"))
    await sfu.close_router(router)
    await sfu.close_router(router)


async def test_closing_a_transport_closes_its_producers(sfu: SfuClient) -> None:
    events = Events(sfu)
    router = await sfu.create_router()
    publisher = Publisher(index=4)
    try:
        transport, producers = await publish(sfu, router, publisher)
        await sfu.close_transport(transport)
        closed = [e for e in events.of(TransportClosed) if isinstance(e, TransportClosed)]
        assert [(e.transport_id, e.reason) for e in closed] == [(transport, "closed")]
        sub = await sfu.create_transport(router, "subscribe")
        with pytest.raises(SfuError):
            await sfu.consume(sub, producers["video"])
        assert not events.of(RouterClosed)
    finally:
        await publisher.pc.close()
