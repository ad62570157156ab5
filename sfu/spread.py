"""One meeting over several worker processes: where its subscribers go, and its pipes.

A meeting's router is created on one worker, its home: its publishers, recorder and
speaker detection live there. A subscribe transport goes home while the home worker
carries fewer than `worker_consumer_limit` consumers, otherwise to the other live
worker with the fewest, which opens a router of the same id for it. A consumer there of
a producer at home is fed by a pipe: each producer is piped once to each worker that
has consumers of it (`Pipe`), and the pipe closes with the producer, or when its last
consumer there closes. This module keeps that bookkeeping for `sfu.pool.WorkerPool`
and makes the pipe requests (`sfu.pipe_api`) through the pool's `call`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .api import StreamStats, UnknownIdError, WorkerUnavailableError
from .ids import ConsumerId, ProducerId, RouterId, TransportId
from .pipe_api import PipeAddress, PipeSinkOpened
from .pool_worker import Worker

logger = logging.getLogger(__name__)


Call = Callable[..., Awaitable[Any]]
"""The pool's request to one worker: `call(worker, method, **params)`."""


@dataclass(eq=False)
class Pipe:
    pipe_id: str
    router_id: RouterId
    producer_id: ProducerId
    sending: Worker
    receiving: Worker
    consumers: dict[ConsumerId, TransportId] = field(default_factory=dict)
    """The receiving worker's consumers fed from it, and their transports."""
    paused: set[ConsumerId] = field(default_factory=set)
    """Those of them paused (their subscriber does not show them)."""
    sink_paused: bool = False
    """Whether the sending end is paused: while every consumer is, nothing is written."""


@dataclass(eq=False)
class Meeting:
    router_id: RouterId
    home: Worker
    others: set[Worker] = field(default_factory=set)
    """Workers that opened a router of this meeting for subscribers."""
    pipes: dict[tuple[ProducerId, int], Pipe] = field(default_factory=dict)
    """By producer and receiving worker's index."""
    outbound: dict[int, tuple[float, tuple[StreamStats, ...]]] = field(default_factory=dict)
    """The last periodic sample of each other worker: (its time, its consumers)."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held while a pipe of the meeting opens or closes, and while a consumer fed by
    one is created, so a pipe is opened once and never closed under a new consumer."""


class Spread:
    def __init__(self, limit: int, call: Call) -> None:
        self.limit = limit
        self._call = call
        self.meetings: dict[RouterId, Meeting] = {}
        self._pipe_of: dict[ConsumerId, Pipe] = {}
        self._ids = itertools.count(1)

    def add(self, router_id: RouterId, home: Worker) -> None:
        self.meetings[router_id] = Meeting(router_id, home)

    def forget(self, router_id: RouterId) -> Meeting | None:
        meeting = self.meetings.pop(router_id, None)
        if meeting is not None:
            for pipe in meeting.pipes.values():
                for consumer_id in pipe.consumers:
                    self._pipe_of.pop(consumer_id, None)
        return meeting

    def subscriber_worker(self, router_id: RouterId,
                          workers: list[Worker]) -> Worker:
        """Where a new subscribe transport of the meeting goes."""
        meeting = self.meetings[router_id]
        home = meeting.home
        others = [w for w in workers if w.alive and w is not home]
        if home.consumer_count < self.limit or not others:
            return home
        return min(others, key=lambda w: (w.consumer_count, w.index))

    async def open_on(self, router_id: RouterId, worker: Worker) -> None:
        """Make sure `worker` has a router of the meeting."""
        meeting = self.meetings[router_id]
        if worker is meeting.home or worker in meeting.others:
            return
        await self._call(worker, "open_router", router_id=router_id)
        meeting.others.add(worker)
        worker.satellites.add(router_id)

    async def consume(self, router_id: RouterId, worker: Worker,
                      transport_id: TransportId, producer_id: ProducerId,
                      create: Callable[[], Awaitable[ConsumerId]]) -> ConsumerId:
        """Create a consumer on a worker other than the producer's home (`create`),
        from the producer's pipe to that worker, opened first if it is not yet."""
        meeting = self.meetings.get(router_id)
        if meeting is None:
            raise UnknownIdError.of("router", router_id)
        async with meeting.lock:
            pipe = meeting.pipes.get((producer_id, worker.index))
            if pipe is None:
                pipe = await self._open(meeting, producer_id, worker)
            consumer_id = await create()
            pipe.consumers[consumer_id] = transport_id
            self._pipe_of[consumer_id] = pipe
            await self._pause_sink(pipe, False)
            return consumer_id

    async def pause_consumer(self, consumer_id: ConsumerId, paused: bool,
                             pause: Callable[[], Awaitable[Any]]) -> None:
        """Pause or resume a consumer (`pause`); a pipe whose every consumer is paused
        is paused at its sending end, and resumed before one of them resumes."""
        pipe = self._pipe_of.get(consumer_id)
        meeting = self.meetings.get(pipe.router_id) if pipe is not None else None
        if pipe is None or meeting is None:
            await pause()
            return
        async with meeting.lock:
            if not paused:
                await self._pause_sink(pipe, False)
            await pause()
            if paused:
                pipe.paused.add(consumer_id)
            else:
                pipe.paused.discard(consumer_id)
            await self._pause_sink(pipe, set(pipe.consumers) <= pipe.paused)

    async def _pause_sink(self, pipe: Pipe, paused: bool) -> None:
        if paused != pipe.sink_paused and pipe.consumers:
            await self._call(pipe.sending, "pause_pipe", pipe_id=pipe.pipe_id, paused=paused)
            pipe.sink_paused = paused

    async def _open(self, meeting: Meeting, producer_id: ProducerId,
                    worker: Worker) -> Pipe:
        pipe = Pipe(f"pipe-{producer_id}-w{worker.index}-{next(self._ids)}",
                    meeting.router_id, producer_id, meeting.home, worker)
        opened: PipeSinkOpened = await self._call(meeting.home, "open_pipe_sink",
                                                  pipe_id=pipe.pipe_id, producer_id=producer_id)
        try:
            address: PipeAddress = await self._call(
                worker, "open_pipe_source", pipe_id=pipe.pipe_id, router_id=meeting.router_id,
                producer_id=producer_id, kind=opened.kind, codec=opened.codec,
                remote=opened.address, paused=opened.paused)
            await self._call(meeting.home, "connect_pipe", pipe_id=pipe.pipe_id, remote=address)
        except BaseException:
            await self._close_ends(pipe)
            raise
        meeting.pipes[producer_id, worker.index] = pipe
        logger.info("router %s: producer %s piped from worker %d to worker %d",
                    meeting.router_id, producer_id, meeting.home.index, worker.index)
        return pipe

    async def _close_ends(self, pipe: Pipe) -> None:
        for worker in (pipe.sending, pipe.receiving):
            if worker.alive:
                with contextlib.suppress(WorkerUnavailableError):
                    await self._call(worker, "close_pipe", pipe_id=pipe.pipe_id)

    async def _close(self, meeting: Meeting, pipe: Pipe) -> None:
        """Close both ends (the receiving end's consumers close with it)."""
        if meeting.pipes.get((pipe.producer_id, pipe.receiving.index)) is pipe:
            del meeting.pipes[pipe.producer_id, pipe.receiving.index]
        for consumer_id in pipe.consumers:
            self._pipe_of.pop(consumer_id, None)
        await self._close_ends(pipe)
        logger.info("router %s: pipe %s closed", meeting.router_id, pipe.pipe_id)

    def has_pipes(self, router_id: RouterId) -> bool:
        meeting = self.meetings.get(router_id)
        return meeting is not None and bool(meeting.pipes)

    def piped_to(self, producer_id: ProducerId) -> list[Worker]:
        """The workers a producer is piped to."""
        return [pipe.receiving for meeting in self.meetings.values()
                for pipe in meeting.pipes.values() if pipe.producer_id == producer_id]

    async def consumers_closed(self, router_id: RouterId,
                               consumer_ids: set[ConsumerId] | None = None,
                               transport_id: TransportId | None = None) -> None:
        """Consumers went away (by id, or every one of a transport): close each pipe
        that has no consumer left."""
        meeting = self.meetings.get(router_id)
        if meeting is None:
            return
        async with meeting.lock:
            for pipe in list(meeting.pipes.values()):
                gone = [c for c, t in pipe.consumers.items()
                        if (consumer_ids is not None and c in consumer_ids)
                        or (transport_id is not None and t == transport_id)]
                for consumer_id in gone:
                    del pipe.consumers[consumer_id]
                    pipe.paused.discard(consumer_id)
                    self._pipe_of.pop(consumer_id, None)
                if gone and not pipe.consumers:
                    await self._close(meeting, pipe)

    def router_of_consumer(self, consumer_id: ConsumerId) -> RouterId | None:
        pipe = self._pipe_of.get(consumer_id)
        return None if pipe is None else pipe.router_id

    async def producer_closed(self, router_id: RouterId, producer_id: ProducerId) -> None:
        meeting = self.meetings.get(router_id)
        if meeting is None:
            return
        async with meeting.lock:
            for pipe in [p for p in meeting.pipes.values() if p.producer_id == producer_id]:
                await self._close(meeting, pipe)

    async def worker_lost(self, worker: Worker) -> None:
        """A worker that served other workers' meetings died: close the sending ends
        of its pipes at home, and forget it in those meetings."""
        for meeting in list(self.meetings.values()):
            if worker not in meeting.others:
                continue
            meeting.others.discard(worker)
            meeting.outbound.pop(worker.index, None)
            async with meeting.lock:
                for pipe in [p for p in meeting.pipes.values() if p.receiving is worker]:
                    await self._close(meeting, pipe)

    def merged(self, router_id: RouterId, streams: tuple[StreamStats, ...], at: float,
               stale_s: float) -> tuple[StreamStats, ...]:
        """A home sample's streams and the consumers of the meeting's other workers,
        from their periodic samples not older than `stale_s`."""
        meeting = self.meetings.get(router_id)
        if meeting is None:
            return streams
        extra = [s for taken, outbound in meeting.outbound.values()
                 if at - taken <= stale_s for s in outbound]
        return streams + tuple(extra)
