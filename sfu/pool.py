"""SFU worker processes behind the `SfuClient` interface, and their supervisor.

`WorkerPool` starts one `sfu.worker` process per configured worker and talks to each
over a control WebSocket on a Unix socket. A meeting's router lives on exactly one
worker: each new router goes to the least loaded live worker. Every later request
about the router's transports, producers and consumers goes to that worker.

When a worker dies, the pool fails its pending requests, emits `TransportClosed`
('failed') for each of its transports and `RouterClosed` ('worker_lost') for each of
its routers, so signaling can move the participants, and starts it again. A new
router asked for while no worker runs waits for the restart (`worker_wait_seconds`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Collection, Coroutine
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import aiohttp

from .api import (
    EventListener,
    ProducerClosed,
    PublishResult,
    RouterClosed,
    SfuClient,
    SfuEvent,
    TrackPublished,
    TransportClosed,
    TransportRole,
    UnknownIdError,
    WorkerError,
    WorkerLoad,
    WorkerUnavailableError,
)
from .config import RecorderSettings, SfuSettings
from .events import Listeners
from .ids import ConsumerId, ProducerId, RouterId, TransportId
from .methods import METHODS
from .wire import (
    WireError,
    decode_error,
    decode_event,
    decode_result,
    encode_params,
    encode_settings,
    to_json,
)

logger = logging.getLogger(__name__)

START_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 30.0
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


@dataclass(eq=False)
class Worker:
    index: int
    socket_path: Path
    process: asyncio.subprocess.Process | None = None
    session: aiohttp.ClientSession | None = None
    ws: aiohttp.ClientWebSocketResponse | None = None
    alive: bool = False
    started_at: float = 0.0
    restarts: int = 0
    load: WorkerLoad | None = None
    pending: dict[int, tuple[str, asyncio.Future[Any]]] = field(default_factory=dict)
    routers: set[RouterId] = field(default_factory=set)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def pid(self) -> int:
        return self.process.pid if self.process is not None else 0

    def status(self) -> WorkerLoad:
        load = self.load or WorkerLoad(worker=self.index, pid=self.pid, alive=self.alive,
                                       routers=0, streams=0, packets_per_s=0.0,
                                       cpu_percent=0.0)
        return replace(load, pid=self.pid, alive=self.alive, routers=len(self.routers))


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
        self._ids = itertools.count(1)
        self._owner: dict[str, Worker] = {}
        """Which worker holds each router, transport, producer and consumer id."""
        self._transports_of: dict[RouterId, set[TransportId]] = {}
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
                reader = asyncio.create_task(self._read(worker))
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
        with contextlib.suppress(FileNotFoundError):
            worker.socket_path.unlink()
        worker.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sfu.worker", "--socket", str(worker.socket_path),
            "--index", str(worker.index), "--settings", json.dumps(encode_settings(self.settings)),
            "--recording", json.dumps(to_json(self._recording)), "--log-level", self._log_level,
            "--parent", str(os.getpid()))
        worker.started_at = time.monotonic()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_S
        while True:
            if worker.process.returncode is not None:
                raise OSError(f"exited with {worker.process.returncode} while starting")
            try:
                worker.session = aiohttp.ClientSession(
                    connector=aiohttp.UnixConnector(path=str(worker.socket_path)))
                worker.ws = await worker.session.ws_connect(
                    "http://sfu-worker/control", heartbeat=None, max_msg_size=16 * 1024 * 1024)
                break
            except (aiohttp.ClientError, OSError):
                if worker.session is not None:
                    await worker.session.close()
                if loop.time() > deadline:
                    worker.process.kill()
                    raise TimeoutError("no control socket") from None
                await asyncio.sleep(0.05)
        worker.alive = True
        worker.ready.set()
        logger.info("SFU worker %d started (pid %d)", worker.index, worker.pid)

    async def _read(self, worker: Worker) -> None:
        assert worker.ws is not None
        try:
            async for message in worker.ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    self._receive(worker, json.loads(message.data))
                except (ValueError, WireError) as exc:
                    logger.warning("SFU worker %d sent a malformed message: %s", worker.index,
                                   exc)
        finally:
            # A control channel that ends means the worker is gone or unusable.
            if worker.process is not None and worker.process.returncode is None:
                worker.process.kill()

    def _receive(self, worker: Worker, message: dict[str, Any]) -> None:
        if "event" in message:
            self._on_event(worker, decode_event(message))
            return
        entry = worker.pending.pop(message.get("id", -1), None)
        if entry is None:
            return
        method, future = entry
        if future.done():
            return
        if "error" in message:
            future.set_exception(decode_error(message["error"]))
        else:
            try:
                future.set_result(decode_result(method, message.get("result")))
            except WireError as exc:
                future.set_exception(WorkerError(str(exc)))

    async def _lost(self, worker: Worker) -> None:
        worker.alive = False
        worker.ready.clear()
        worker.load = None
        for _, future in worker.pending.values():
            if not future.done():
                future.set_exception(WorkerUnavailableError(f"SFU worker {worker.index} died"))
        worker.pending.clear()
        if worker.session is not None:
            await worker.session.close()
        worker.ws = worker.session = None
        routers, worker.routers = worker.routers, set()
        for router_id in routers:
            for transport_id in self._transports_of.pop(router_id, set()):
                self._emit(TransportClosed(router_id, transport_id, reason="failed"))
            self._emit(RouterClosed(router_id, reason="worker_lost"))
        self._owner = {k: w for k, w in self._owner.items() if w is not worker}
        self._emit(worker.status())

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in self._supervisors:
            task.cancel()
        await asyncio.gather(*self._supervisors, return_exceptions=True)
        await asyncio.gather(*(self._stop(w) for w in self.workers))
        self._listeners.clear()

    async def _stop(self, worker: Worker) -> None:
        """Close the control channel (the worker then shuts down), then reap it."""
        if worker.ws is not None:
            await worker.ws.close()
        if worker.session is not None:
            await worker.session.close()
        process = worker.process
        if process is None or process.returncode is not None:
            return
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            logger.warning("SFU worker %d did not stop in 5 s; killing it", worker.index)
            process.kill()
            await process.wait()

    # ------------------------------------------------------------ events

    def add_listener(self, listener: EventListener) -> Callable[[], None]:
        return self._listeners.add(listener)

    def _emit(self, event: SfuEvent) -> None:
        self._listeners.emit(event)

    def _on_event(self, worker: Worker, event: SfuEvent) -> None:
        if isinstance(event, WorkerLoad):
            worker.load = event
            event = worker.status()
        elif isinstance(event, TrackPublished):
            self._owner[event.producer.producer_id] = worker
        elif isinstance(event, ProducerClosed):
            self._owner.pop(event.producer_id, None)
        elif isinstance(event, TransportClosed):
            self._owner.pop(event.transport_id, None)
            self._transports_of.get(event.router_id, set()).discard(event.transport_id)
        self._emit(event)

    def status(self) -> list[WorkerLoad]:
        return [w.status() for w in self.workers]

    # ------------------------------------------------------------ requests

    async def _call(self, worker: Worker, method: str, **params: Any) -> Any:
        if not worker.alive or worker.ws is None:
            raise WorkerUnavailableError(f"SFU worker {worker.index} is restarting")
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        worker.pending[request_id] = (method, future)
        try:
            await worker.ws.send_str(json.dumps({"id": request_id, "method": method,
                                                 "params": encode_params(method, params)}))
            async with asyncio.timeout(CALL_TIMEOUT_S):
                return await future
        except (ConnectionError, aiohttp.ClientError) as exc:
            raise WorkerUnavailableError(f"SFU worker {worker.index}: {exc}") from exc
        except TimeoutError:
            raise WorkerUnavailableError(
                f"SFU worker {worker.index} did not answer {method} in time") from None
        finally:
            worker.pending.pop(request_id, None)

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
        return router_id

    async def close_router(self, router_id: RouterId) -> None:
        worker = self._owner.get(router_id)
        if worker is None:
            return
        with contextlib.suppress(WorkerUnavailableError):
            await self._call(worker, "close_router", router_id=router_id)
        worker.routers.discard(router_id)
        for transport_id in self._transports_of.pop(router_id, set()):
            self._owner.pop(transport_id, None)
        self._owner.pop(router_id, None)

    async def create_transport(self, router_id: RouterId, role: TransportRole) -> TransportId:
        worker = self._worker_of("router", router_id)
        transport_id = TransportId(await self._call(worker, "create_transport",
                                                    router_id=router_id, role=role))
        self._owner[transport_id] = worker
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
        return result

    async def close_producer(self, producer_id: ProducerId) -> None:
        worker = self._owner.get(producer_id)
        if worker is None:
            return
        with contextlib.suppress(WorkerUnavailableError):
            await self._call(worker, "close_producer", producer_id=producer_id)
        self._owner.pop(producer_id, None)

    pause_producer = forwarded(SfuClient.pause_producer)

    async def consume(self, transport_id: TransportId, producer_id: ProducerId) -> ConsumerId:
        worker = self._worker_of("transport", transport_id)
        consumer_id = ConsumerId(await self._call(worker, "consume", transport_id=transport_id,
                                                  producer_id=producer_id))
        self._owner[consumer_id] = worker
        return consumer_id

    async def close_consumer(self, consumer_id: ConsumerId) -> None:
        worker = self._owner.pop(consumer_id, None)
        if worker is not None:
            with contextlib.suppress(WorkerUnavailableError):
                await self._call(worker, "close_consumer", consumer_id=consumer_id)

    pause_consumer = forwarded(SfuClient.pause_consumer)
    create_offer = forwarded(SfuClient.create_offer)
    apply_answer = forwarded(SfuClient.apply_answer)
    add_ice_candidate = forwarded(SfuClient.add_ice_candidate)
    stats = forwarded(SfuClient.stats)
    start_recording = forwarded(SfuClient.start_recording)

    async def stop_recording(self, router_id: RouterId) -> None:
        worker = self._owner.get(router_id)
        if worker is not None:
            with contextlib.suppress(WorkerUnavailableError):
                await self._call(worker, "stop_recording", router_id=router_id)
