"""SFU worker processes behind the `SfuClient` interface, and their supervisor.

`WorkerPool` starts one `sfu.worker` process per configured worker and talks to each
over a control WebSocket on a Unix socket (`sfu.pool_worker`). Each new meeting router
goes to the least loaded live worker, its home. A meeting whose home carries
`worker_consumer_limit` consumers takes its next subscribers to another worker, where
the pool opens a router of the same id and pipes the publishers' streams to it
(`sfu.spread`); signaling still sees one router. Every request about a transport,
producer or consumer goes to the worker that holds it.

When a worker dies, the pool fails its pending requests, emits `TransportClosed`
('failed') for each of its transports and `RouterClosed` ('worker_lost') for each
router whose home it was (of a meeting homed elsewhere, only the transports it held
fail) and starts it again. A new router waits for a restart (`worker_wait_seconds`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Collection, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import aiohttp

from .api import (
    EventListener,
    ProducerClosed,
    PublishResult,
    RouterClosed,
    SfuClient,
    SfuError,
    SfuEvent,
    StatsSample,
    TrackPublished,
    TransportClosed,
    TransportRole,
    UnknownIdError,
    WorkerLoad,
    WorkerUnavailableError,
)
from .config import RecorderSettings, SfuSettings
from .events import Listeners
from .ids import ConsumerId, ProducerId, RouterId, TransportId
from .methods import METHODS
from .pipe_api import PipeFigures
from .pool_worker import START_TIMEOUT_S, Worker
from .spread import Spread
from .wire import encode_settings, to_json

logger = logging.getLogger(__name__)

RESTART_BACKOFF_S = (0.2, 1.0, 2.0, 5.0)
STABLE_AFTER_S = 30.0
"""A worker that ran this long before dying is restarted without backoff."""

P = ParamSpec("P")
R = TypeVar("R")


def forwarded(method: Callable[Concatenate[SfuClient, P], Coroutine[Any, Any, R]]
              ) -> Callable[Concatenate[WorkerPool, P], Coroutine[Any, Any, R]]:
    """A WorkerPool method that only sends the SfuClient `method` to the worker holding
    what the call is about (its `target` in `sfu.methods`) and returns the result."""
    spec = METHODS[method.__name__]
    target = spec.target
    assert target is not None, f"{spec.name} has no id to route it by"

    @functools.wraps(method)
    async def forward(pool: WorkerPool, /, *args: P.args, **kwargs: P.kwargs) -> R:
        params = spec.bind(args, kwargs)
        worker = pool._worker_of(target.removesuffix("_id"), params[target])
        result: R = await pool._call(worker, spec.name, **params)
        return result

    return forward


class WorkerPool:
    """Implements `sfu.api.SfuClient` with routers spread over worker processes.

    A method that only sends its request to the worker holding what it is about is
    `forwarded(SfuClient.<method>)`; the others also keep the pool's bookkeeping.
    """

    def __init__(self, settings: SfuSettings, count: int, run_dir: Path,
                 log_level: str = "INFO", recording: RecorderSettings | None = None) -> None:
        if count < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.settings = settings
        self.run_dir = run_dir
        self.workers = [Worker(index=i, socket_path=run_dir / f"sfu-worker-{i}.sock")
                        for i in range(count)]
        self._log_level = log_level
        self._recording = recording or RecorderSettings()
        self._listeners = Listeners()
        self._owner: dict[str, Worker] = {}
        """Which worker holds each router, transport, producer and consumer id."""
        self._transports_of: dict[RouterId, set[TransportId]] = {}
        self._router_of: dict[str, RouterId] = {}
        """The router (meeting) of each transport and producer."""
        self._spread = Spread(settings.worker_consumer_limit, self._call)
        self._tasks: set[asyncio.Task[None]] = set()
        self._supervisors: list[asyncio.Task[None]] = []
        self._started = False
        self._closed = False

    # ------------------------------------------------------------ life cycle

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._supervisors = [asyncio.create_task(self._supervise(w), name=f"sfu-worker-{w.index}")
                             for w in self.workers]
        try:
            async with asyncio.timeout(START_TIMEOUT_S):
                await asyncio.gather(*(w.ready.wait() for w in self.workers))
        except TimeoutError:
            raise WorkerUnavailableError(
                f"SFU workers did not start within {START_TIMEOUT_S:.0f} s") from None
        logger.info("%d SFU worker(s) running: pids %s", len(self.workers),
                    ", ".join(str(w.pid) for w in self.workers))

    async def _supervise(self, worker: Worker) -> None:
        """Run the worker; whenever it dies, clean up after it and start it again."""
        failures = 0
        while not self._closed:
            try:
                await self._launch(worker)
            except (OSError, aiohttp.ClientError, TimeoutError) as exc:
                logger.error("SFU worker %d did not start: %s", worker.index, exc)
            else:
                reader = asyncio.create_task(worker.read(self._on_event))
                assert worker.process is not None
                try:
                    await worker.process.wait()
                finally:
                    reader.cancel()
                    await asyncio.gather(reader, return_exceptions=True)
            if self._closed:
                break
            code = worker.process.returncode if worker.process else None
            logger.error("SFU worker %d (pid %d) died (exit %s); restarting", worker.index,
                         worker.pid, code)
            await self._lost(worker)
            lived = time.monotonic() - worker.started_at
            failures = 0 if lived > STABLE_AFTER_S else failures + 1
            await asyncio.sleep(RESTART_BACKOFF_S[min(failures, len(RESTART_BACKOFF_S) - 1)])
            worker.restarts += 1

    async def _launch(self, worker: Worker) -> None:
        await worker.launch([
            sys.executable, "-m", "sfu.worker", "--socket", str(worker.socket_path),
            "--index", str(worker.index), "--settings", json.dumps(encode_settings(self.settings)),
            "--recording", json.dumps(to_json(self._recording)), "--log-level", self._log_level,
            "--parent", str(os.getpid())])

    async def _lost(self, worker: Worker) -> None:
        await worker.lost()
        routers, worker.routers = worker.routers, set()
        for router_id in routers:
            for transport_id in self._transports_of.pop(router_id, set()):
                self._emit(TransportClosed(router_id, transport_id, reason="failed"))
            self._emit(RouterClosed(router_id, reason="worker_lost"))
            self._close_elsewhere(router_id)
        # Of a spread meeting homed elsewhere, only the participants it served move.
        satellites, worker.satellites = worker.satellites, set()
        for router_id in satellites:
            transports = self._transports_of.get(router_id, set())
            for transport_id in [t for t in transports if self._owner.get(t) is worker]:
                transports.discard(transport_id)
                self._emit(TransportClosed(router_id, transport_id, reason="failed"))
        worker.consumers.clear()
        self._owner = {k: w for k, w in self._owner.items() if w is not worker}
        self._spawn(self._spread.worker_lost(worker))
        self._emit(worker.status())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Carry out bookkeeping requests to workers in the background."""
        async def run() -> None:
            try:
                await work
            except SfuError as exc:
                logger.warning("SFU pool: %s", exc)

        if self._closed:
            work.close()
            return
        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: work.close())  # when cancelled before it ran

    def _close_elsewhere(self, router_id: RouterId) -> None:
        """Close the routers other workers opened for the meeting and forget it."""
        meeting = self._spread.forget(router_id)
        for other in meeting.others if meeting is not None else ():
            other.satellites.discard(router_id)
            for consumer_id in [c for c, (t, _) in other.consumers.items()
                                if self._router_of.get(t) == router_id]:
                del other.consumers[consumer_id]
            if other.alive:
                self._spawn(self._call(other, "close_router", router_id=router_id))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in [*self._supervisors, *self._tasks]:
            task.cancel()
        await asyncio.gather(*self._supervisors, *self._tasks, return_exceptions=True)
        await asyncio.gather(*(w.stop() for w in self.workers))
        self._listeners.clear()

    # ------------------------------------------------------------ events

    def add_listener(self, listener: EventListener) -> Callable[[], None]:
        return self._listeners.add(listener)

    def _emit(self, event: SfuEvent) -> None:
        self._listeners.emit(event)

    def _on_event(self, worker: Worker, event: SfuEvent) -> None:
        if isinstance(event, WorkerLoad):
            worker.load = event
            event = worker.status()
        elif isinstance(event, StatsSample):
            meeting = self._spread.meetings.get(event.router_id)
            if meeting is not None and worker is not meeting.home:
                # Part of the home worker's next sample: the meeting is one router.
                meeting.outbound[worker.index] = (event.at, tuple(
                    s for s in event.streams if s.direction == "outbound"))
                return
            if meeting is not None and meeting.others:
                stale_s = 2 * self.settings.stats_interval_ms / 1000
                event = replace(event, streams=self._spread.merged(
                    event.router_id, event.streams, event.at, stale_s))
        elif isinstance(event, TrackPublished):
            self._owner[event.producer.producer_id] = worker
            self._router_of[event.producer.producer_id] = event.router_id
        elif isinstance(event, ProducerClosed):
            self._owner.pop(event.producer_id, None)
            self._router_of.pop(event.producer_id, None)
            for w in self.workers:  # its consumers closed with it, here and down its pipes
                for consumer_id in [c for c, (_, p) in w.consumers.items()
                                    if p == event.producer_id]:
                    del w.consumers[consumer_id]
            if self._spread.has_pipes(event.router_id):
                self._spawn(self._spread.producer_closed(event.router_id, event.producer_id))
        elif isinstance(event, TransportClosed):
            if event.router_id not in self._transports_of:
                return  # its meeting was closed or lost: already said
            self._owner.pop(event.transport_id, None)
            self._router_of.pop(event.transport_id, None)
            self._transports_of[event.router_id].discard(event.transport_id)
            for consumer_id in [c for c, (t, _) in worker.consumers.items()
                                if t == event.transport_id]:
                del worker.consumers[consumer_id]
            if self._spread.has_pipes(event.router_id):
                self._spawn(self._spread.consumers_closed(event.router_id,
                                                          transport_id=event.transport_id))
        self._emit(event)

    def status(self) -> list[WorkerLoad]:
        return [w.status() for w in self.workers]


    async def _call(self, worker: Worker, method: str, **params: Any) -> Any:
        return await worker.call(method, **params)

    def _worker_of(self, what: str, ident: str) -> Worker:
        worker = self._owner.get(ident)
        if worker is None:
            raise UnknownIdError.of(what, ident)
        return worker

    async def _least_loaded(self) -> Worker:
        """The live worker with the fewest streams; while none runs (the supervisor is
        restarting them), wait up to `worker_wait_seconds` for one."""
        alive = [w for w in self.workers if w.alive]
        if not alive and not self._closed and self.settings.worker_wait_seconds > 0:
            logger.info("no SFU worker is running; waiting up to %d s for one",
                        self.settings.worker_wait_seconds)
            waits = [asyncio.create_task(w.ready.wait()) for w in self.workers]
            try:
                await asyncio.wait(waits, timeout=self.settings.worker_wait_seconds,
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
                await asyncio.gather(*waits, return_exceptions=True)
            alive = [w for w in self.workers if w.alive]
        if not alive:
            raise WorkerUnavailableError("no SFU worker is running")
        return min(alive, key=lambda w: (w.load.streams if w.load else 0, len(w.routers),
                                         w.index))

    async def create_router(self) -> RouterId:
        await self.start()
        worker = await self._least_loaded()
        router_id = RouterId(await self._call(worker, "create_router"))
        self._owner[router_id] = worker
        worker.routers.add(router_id)
        self._transports_of[router_id] = set()
        self._spread.add(router_id, worker)
        return router_id

    async def close_router(self, router_id: RouterId) -> None:
        worker = self._owner.get(router_id)
        if worker is None:
            return
        with contextlib.suppress(WorkerUnavailableError):
            await self._call(worker, "close_router", router_id=router_id)
        worker.routers.discard(router_id)
        self._close_elsewhere(router_id)
        for transport_id in self._transports_of.pop(router_id, set()):
            self._owner.pop(transport_id, None)
            self._router_of.pop(transport_id, None)
        self._owner.pop(router_id, None)

    async def create_transport(self, router_id: RouterId, role: TransportRole) -> TransportId:
        """A publish transport goes to the meeting's home worker; a subscribe transport
        too while that worker is below `worker_consumer_limit` (see `sfu.spread`)."""
        home = self._worker_of("router", router_id)
        worker = home
        if role == "subscribe" and router_id in self._spread.meetings:
            chosen = self._spread.subscriber_worker(router_id, list(self.workers))
            if chosen is not home:
                try:
                    await self._spread.open_on(router_id, chosen)
                    worker = chosen
                except WorkerUnavailableError as exc:
                    logger.warning("router %s: subscriber stays home: %s", router_id, exc)
        transport_id = TransportId(await self._call(worker, "create_transport",
                                                    router_id=router_id, role=role))
        self._owner[transport_id] = worker
        self._router_of[transport_id] = router_id
        self._transports_of.setdefault(router_id, set()).add(transport_id)
        return transport_id

    async def close_transport(self, transport_id: TransportId) -> None:
        worker = self._owner.get(transport_id)
        if worker is None:
            return
        with contextlib.suppress(WorkerUnavailableError):
            await self._call(worker, "close_transport", transport_id=transport_id)
        self._owner.pop(transport_id, None)

    async def publish(self, transport_id: TransportId, offer_sdp: str,
                      mids: Collection[str] | None = None) -> PublishResult:
        worker = self._worker_of("transport", transport_id)
        result: PublishResult = await self._call(
            worker, "publish", transport_id=transport_id, offer_sdp=offer_sdp, mids=mids)
        for producer in result.producers:
            self._owner[producer.producer_id] = worker
            self._router_of[producer.producer_id] = self._router_of[transport_id]
        return result

    async def close_producer(self, producer_id: ProducerId) -> None:
        worker = self._owner.get(producer_id)
        if worker is None:
            return
        with contextlib.suppress(WorkerUnavailableError):
            await self._call(worker, "close_producer", producer_id=producer_id)
        self._owner.pop(producer_id, None)

    async def pause_producer(self, producer_id: ProducerId, paused: bool) -> None:
        """At home, and at the source of each pipe it feeds (whose consumers wait for
        a keyframe again when it resumes)."""
        worker = self._worker_of("producer", producer_id)
        await self._call(worker, "pause_producer", producer_id=producer_id, paused=paused)
        for other in self._spread.piped_to(producer_id):
            with contextlib.suppress(WorkerUnavailableError, UnknownIdError):
                await self._call(other, "pause_producer", producer_id=producer_id,
                                 paused=paused)

    async def consume(self, transport_id: TransportId, producer_id: ProducerId) -> ConsumerId:
        """A consumer on the transport's worker; from the producer's pipe to that worker
        when the producer lives on another."""
        worker = self._worker_of("transport", transport_id)
        home = self._owner.get(producer_id)
        router_id = self._router_of.get(transport_id)

        async def create() -> ConsumerId:
            return ConsumerId(await self._call(worker, "consume", transport_id=transport_id,
                                               producer_id=producer_id))

        if home is None or home is worker or router_id is None:
            consumer_id = await create()
        elif self._router_of.get(producer_id) != router_id:
            raise UnknownIdError.of("producer", producer_id)
        else:
            consumer_id = await self._spread.consume(router_id, worker, transport_id,
                                                     producer_id, create)
        self._owner[consumer_id] = worker
        worker.consumers[consumer_id] = (transport_id, producer_id)
        return consumer_id

    async def close_consumer(self, consumer_id: ConsumerId) -> None:
        worker = self._owner.pop(consumer_id, None)
        if worker is not None:
            with contextlib.suppress(WorkerUnavailableError):
                await self._call(worker, "close_consumer", consumer_id=consumer_id)
            worker.consumers.pop(consumer_id, None)
        router_id = self._spread.router_of_consumer(consumer_id)
        if router_id is not None:
            await self._spread.consumers_closed(router_id, {consumer_id})

    async def pause_consumer(self, consumer_id: ConsumerId, paused: bool) -> None:
        worker = self._worker_of("consumer", consumer_id)
        await self._spread.pause_consumer(consumer_id, paused, functools.partial(
            self._call, worker, "pause_consumer", consumer_id=consumer_id, paused=paused))

    create_offer = forwarded(SfuClient.create_offer)
    apply_answer = forwarded(SfuClient.apply_answer)
    add_ice_candidate = forwarded(SfuClient.add_ice_candidate)

    async def stats(self, router_id: RouterId) -> StatsSample:
        """The home worker's figures, and the consumers on the meeting's other workers."""
        sample: StatsSample = await self._call(self._worker_of("router", router_id), "stats",
                                               router_id=router_id)
        meeting = self._spread.meetings.get(router_id)
        for other in list(meeting.others) if meeting is not None else ():
            with contextlib.suppress(WorkerUnavailableError, UnknownIdError):
                part: StatsSample = await self._call(other, "stats", router_id=router_id)
                sample = replace(sample, streams=sample.streams + tuple(
                    s for s in part.streams if s.direction == "outbound"))
        return sample

    async def pipe_figures(self) -> dict[int, list[PipeFigures]]:
        """Every live worker's pipe ends, by worker index."""
        return {w.index: await self._call(w, "pipe_figures") for w in self.workers if w.alive}
    start_recording = forwarded(SfuClient.start_recording)

    async def stop_recording(self, router_id: RouterId) -> None:
        worker = self._owner.get(router_id)
        if worker is not None:
            with contextlib.suppress(WorkerUnavailableError):
                await self._call(worker, "stop_recording", router_id=router_id)
