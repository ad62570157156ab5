"""One meeting spread over two worker processes (`worker_consumer_limit`): subscribers
on both workers decode the publisher's own pattern, each stream is piped once to the
second worker however many subscribers it serves there, keyframe requests travel back
up the pipe to the publisher, and the second worker dying moves only its subscribers.

Real aiortc peers over loopback, a real `WorkerPool` with two worker processes; the
checks read the SFU's own counters (stats, pipe figures) and the peers' decoded media.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sfu.aiortc_peer import receiver_streams
from sfu.aiortc_receive import send_pli
from sfu.api import RouterClosed, StatsSample, TransportClosed
from sfu.config import SfuSettings
from sfu.ids import ConsumerId, ProducerId, RouterId, TransportId
from sfu.pipe_api import PipeFigures
from sfu.pool import WorkerPool
from sfu.pool_worker import Worker
from tests.integration.conftest import wait_until
from tests.integration.media import TONES
from tests.integration.peers import Publisher, Subscriber
from tests.integration.sfu.test_sfu_contract import Events, publish, subscribe

SETTINGS = SfuSettings(announced_addresses=["127.0.0.1"], stats_interval_ms=500,
                       worker_consumer_limit=2)
"""The first subscriber's two consumers (camera and microphone) fill the home worker."""
INDEX = 3


@pytest.fixture
async def pool(tmp_path: Path) -> AsyncIterator[WorkerPool]:
    client = WorkerPool(SETTINGS, 2, tmp_path / "run")
    await client.start()
    try:
        yield client
    finally:
        await client.close()


@dataclass
class Meeting:
    pool: WorkerPool
    router: RouterId
    publisher: Publisher
    producers: dict[str, ProducerId]
    subscribers: list[Subscriber] = field(default_factory=list)
    transports: list[TransportId] = field(default_factory=list)

    @property
    def home(self) -> Worker:
        return self.pool._owner[self.router]

    def worker_of(self, i: int) -> Worker:
        return self.pool._owner[self.transports[i]]

    async def add_subscriber(self) -> Subscriber:
        subscriber = Subscriber()
        subscriber.expected_index["pub"] = INDEX
        self.subscribers.append(subscriber)
        self.transports.append(await subscribe(self.pool, self.router,
                                               list(self.producers.values()), subscriber,
                                               "pub"))
        return subscriber

    async def close(self) -> None:
        for subscriber in self.subscribers:
            await subscriber.close()
        await self.publisher.pc.close()


async def spread_meeting(pool: WorkerPool, subscribers: int) -> Meeting:
    router = await pool.create_router()
    publisher = Publisher(index=INDEX)
    _, producers = await publish(pool, router, publisher)
    meeting = Meeting(pool, router, publisher, producers)
    for _ in range(subscribers):
        await meeting.add_subscriber()
    return meeting


def decoding(subscriber: Subscriber, video: int = 30, audio: int = 50) -> bool:
    v, a = subscriber.video.get("pub"), subscriber.audio.get("pub")
    return bool(v and v.frames >= video and a and a.frames >= audio)


async def ends(pool: WorkerPool, worker: Worker, end: str) -> list[PipeFigures]:
    return [f for f in (await pool.pipe_figures())[worker.index] if f.end == end]


async def test_subscribers_on_both_workers_decode_the_publisher_through_one_pipe(
        pool: WorkerPool) -> None:
    events = Events(pool)
    meeting = await spread_meeting(pool, 3)
    try:
        home, other = meeting.home, meeting.worker_of(1)
        assert meeting.worker_of(0) is home
        assert other is not home and meeting.worker_of(2) is other
        await wait_until(lambda: all(decoding(s) for s in meeting.subscribers), 30,
                         "every subscriber decoding video and audio")
        for subscriber in meeting.subscribers:
            assert set(subscriber.video["pub"].indexes) == {INDEX}
            assert subscriber.video["pub"].worst_colour_distance < 40
            assert abs(subscriber.audio["pub"].frequency() - TONES[INDEX]) < 15

        # Each stream is piped once to the second worker, feeding both its subscribers.
        producers = sorted(meeting.producers.values())
        sending = await ends(pool, home, "sending")
        receiving = await ends(pool, other, "receiving")
        assert sorted(f.producer_id for f in sending) == producers
        assert sorted(f.producer_id for f in receiving) == producers
        assert all(f.consumers == 2 and f.packets > 0 for f in receiving)
        assert not await ends(pool, home, "receiving") and not await ends(pool, other,
                                                                          "sending")

        # The meeting is one router to signaling: one set of figures, from both workers.
        sample = await pool.stats(meeting.router)
        outbound = [s for s in sample.streams if s.direction == "outbound"]
        assert sorted((s.transport_id, s.kind) for s in outbound) == sorted(
            (t, k) for t in meeting.transports for k in ("audio", "video"))
        assert all(s.packets > 0 for s in outbound)
        assert sorted(s.producer_id for s in sample.streams if s.direction == "inbound") \
            == producers

        def periodic() -> list[StatsSample]:
            return [e for e in events.of(StatsSample)
                    if isinstance(e, StatsSample) and e.router_id == meeting.router]

        await wait_until(lambda: any(sum(s.direction == "outbound" for s in e.streams) == 6
                                     for e in periodic()), 10, "a periodic sample of all 6")
        assert all(sum(s.direction == "inbound" for s in e.streams) == 2 for e in periodic())
    finally:
        await meeting.close()


async def test_consumers_asked_at_once_on_the_second_worker_share_one_pipe(
        pool: WorkerPool) -> None:
    meeting = await spread_meeting(pool, 1)  # fills the home worker
    try:
        transports = [await pool.create_transport(meeting.router, "subscribe")
                      for _ in range(3)]
        other = pool._owner[transports[0]]
        assert other is not meeting.home
        barrier = asyncio.Barrier(len(transports))

        async def consume(transport: TransportId) -> None:
            await barrier.wait()
            await pool.consume(transport, meeting.producers["video"])

        await asyncio.gather(*(consume(t) for t in transports))
        receiving = await ends(pool, other, "receiving")
        assert [(f.producer_id, f.consumers) for f in receiving] == [
            (meeting.producers["video"], 3)]
        assert len(await ends(pool, meeting.home, "sending")) == 1

        # The pipe closes once the second worker has no consumer left for it.
        for transport in transports[:2]:
            await pool.close_transport(transport)
        assert [f.consumers for f in await ends(pool, other, "receiving")] == [1]
        await pool.close_transport(transports[2])

        async def closed() -> bool:
            figures = await pool.pipe_figures()
            return not figures[other.index] and not figures[meeting.home.index]

        for _ in range(100):
            if await closed():
                break
            await asyncio.sleep(0.05)
        assert await closed(), "both ends of the pipe closed"
    finally:
        await meeting.close()


async def test_a_keyframe_request_on_the_second_worker_reaches_the_publisher(
        pool: WorkerPool) -> None:
    meeting = await spread_meeting(pool, 2)
    try:
        home, other = meeting.home, meeting.worker_of(1)
        assert other is not home
        far = meeting.subscribers[1]
        await wait_until(lambda: all(decoding(s) for s in meeting.subscribers), 30,
                         "both subscribers decoding")
        await asyncio.sleep(2 * SETTINGS.pli_min_interval_ms / 1000)
        video = meeting.producers["video"]

        async def counts() -> tuple[int, int, int, int]:
            figures = await pool.pipe_figures()
            source = next(f for f in figures[other.index] if f.producer_id == video)
            sink = next(f for f in figures[home.index] if f.producer_id == video)
            sample = await pool.stats(meeting.router)
            inbound = next(s for s in sample.streams if s.stream_id == video)
            return (source.keyframe_requests, sink.keyframe_requests, inbound.plis,
                    meeting.publisher.keyframe_asks["camera"].count)

        before = await counts()
        receiver = next(t.receiver for t in far.pc.getTransceivers() if t.kind == "video")
        await send_pli(receiver, next(iter(receiver_streams(receiver))))
        # Up the pipe from the second worker, to the home producer, to the publisher.
        for _ in range(100):
            after = await counts()
            if all(a > b for a, b in zip(after, before, strict=True)):
                break
            await asyncio.sleep(0.05)
        assert all(a > b for a, b in zip(after, before, strict=True)), (before, after)
    finally:
        await meeting.close()


async def test_killing_the_second_worker_moves_only_its_subscribers(
        pool: WorkerPool) -> None:
    events = Events(pool)
    meeting = await spread_meeting(pool, 3)
    try:
        home, other = meeting.home, meeting.worker_of(1)
        await wait_until(lambda: all(decoding(s) for s in meeting.subscribers), 30,
                         "every subscriber decoding")
        assert len(await ends(pool, home, "sending")) == 2
        near = meeting.subscribers[0]

        os.kill(other.pid, signal.SIGKILL)
        far = set(meeting.transports[1:])

        def failed() -> set[TransportId]:
            return {e.transport_id for e in events.of(TransportClosed)
                    if isinstance(e, TransportClosed) and e.reason == "failed"}

        await wait_until(lambda: failed() == far, 10, "the second worker's transports failed")
        # Its pipes' sending ends close at home; the home subscriber keeps decoding.
        for _ in range(100):
            if home.alive and not await ends(pool, home, "sending"):
                break
            await asyncio.sleep(0.05)
        assert not await ends(pool, home, "sending")
        frames = near.video["pub"].frames
        await wait_until(lambda: near.video["pub"].frames >= frames + 30, 10,
                         "the home subscriber still decoding")
        assert not events.of(RouterClosed)
        assert failed() == far
        closed = {e.transport_id for e in events.of(TransportClosed)
                  if isinstance(e, TransportClosed)}
        assert meeting.transports[0] not in closed

        # Once it is back, a new subscriber is served there again, from a new pipe.
        await wait_until(lambda: other.alive, 20, "the second worker restarted")
        late = await meeting.add_subscriber()
        assert meeting.worker_of(3) is other
        await wait_until(lambda: decoding(late), 30, "the new subscriber decoding")
        assert set(late.video["pub"].indexes) == {INDEX}
    finally:
        await meeting.close()


async def test_killing_the_home_worker_ends_the_meeting_on_both(pool: WorkerPool) -> None:
    events = Events(pool)
    meeting = await spread_meeting(pool, 2)
    try:
        home, other = meeting.home, meeting.worker_of(1)
        assert other is not home
        assert len(await ends(pool, other, "receiving")) == 2

        os.kill(home.pid, signal.SIGKILL)
        await wait_until(lambda: [e.router_id for e in events.of(RouterClosed)
                                  if isinstance(e, RouterClosed)] == [meeting.router], 10,
                         "the meeting's router lost")
        failed = {e.transport_id for e in events.of(TransportClosed)
                  if isinstance(e, TransportClosed) and e.reason == "failed"}
        assert set(meeting.transports) <= failed
        # The other worker lives on, and closes what it held of the meeting.
        for _ in range(100):
            if not (await pool.pipe_figures()).get(other.index):
                break
            await asyncio.sleep(0.05)
        assert not (await pool.pipe_figures()).get(other.index)
        assert other.alive and meeting.router not in other.satellites
    finally:
        await meeting.close()


async def test_a_track_muted_before_it_is_piped_stays_muted_until_unmuted(
        pool: WorkerPool) -> None:
    meeting = await spread_meeting(pool, 1)
    try:
        audio = meeting.producers["audio"]
        await pool.pause_producer(audio, True)
        late = await meeting.add_subscriber()
        assert meeting.worker_of(1) is not meeting.home

        async def far_audio() -> tuple[bool, int]:
            sample = await pool.stats(meeting.router)
            stream = next(s for s in sample.streams if s.transport_id == meeting.transports[1]
                          and s.kind == "audio")
            return stream.paused, stream.packets

        await wait_until(lambda: decoding(late, audio=0), 30, "video on the second worker")
        assert await far_audio() == (True, 0)
        await pool.pause_producer(audio, False)
        await wait_until(lambda: decoding(late), 30, "audio once unmuted")
        assert (await far_audio())[0] is False
    finally:
        await meeting.close()


async def test_a_pipe_whose_consumers_are_all_paused_carries_nothing(
        pool: WorkerPool) -> None:
    meeting = await spread_meeting(pool, 2)
    try:
        home, far = meeting.home, meeting.subscribers[1]
        await wait_until(lambda: decoding(far), 30, "the second worker's subscriber decoding")
        video = meeting.producers["video"]
        sample = await pool.stats(meeting.router)
        consumer = ConsumerId(next(s.stream_id for s in sample.streams if s.kind == "video"
                                   and s.transport_id == meeting.transports[1]))

        async def sink() -> PipeFigures:
            return next(f for f in await ends(pool, home, "sending") if f.producer_id == video)

        await pool.pause_consumer(consumer, True)
        assert (await sink()).paused
        written = (await sink()).packets
        near = meeting.subscribers[0].video["pub"].frames
        await wait_until(lambda: meeting.subscribers[0].video["pub"].frames >= near + 15, 10,
                         "the home subscriber still decoding")
        assert (await sink()).packets == written

        frames = far.video["pub"].frames
        await pool.pause_consumer(consumer, False)
        assert not (await sink()).paused
        await wait_until(lambda: far.video["pub"].frames >= frames + 15, 15,
                         "video again once resumed")
        assert (await sink()).packets > written
    finally:
        await meeting.close()
