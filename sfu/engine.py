"""The in-process SFU: routers in this process, behind the SfuClient interface."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Collection

from . import aiortc_adapter as adapter
from .api import (
    AnswerResult,
    EventListener,
    Kind,
    PublishResult,
    SfuEvent,
    StatsSample,
    SubscribeOffer,
    TransportRole,
    UnknownIdError,
    WorkerLoad,
)
from .config import RecorderSettings, SfuSettings
from .events import Listeners
from .ids import ConsumerId, ProducerId, RouterId, TransportId
from .pipe_api import PipeAddress, PipeCodec, PipeFigures, PipeSinkOpened
from .pipe_worker import WorkerPipes
from .router import Directory, Member, Router, new_id

logger = logging.getLogger(__name__)


class Engine:
    """Implements `sfu.api.SfuClient` for routers living in the current process, and
    `sfu.pipe_api.PipeControl` for a worker pool that spreads meetings over several."""

    def __init__(self, settings: SfuSettings, worker: int = 0,
                 recording: RecorderSettings | None = None) -> None:
        self.settings = settings
        self.worker = worker
        self.recording = recording or RecorderSettings()
        self.routers: dict[RouterId, Router] = {}
        self._directory: Directory = {}
        """Which router holds each router, transport, producer and consumer id; the
        routers keep their members' entries current."""
        self._listeners = Listeners()
        self._started = False
        self._closed = False
        self._sampling: asyncio.Task[None] | None = None
        self.pipes = WorkerPipes(settings, self._router)

    async def start(self) -> None:
        """Check aiortc's internals, pin the ICE host addresses and the consent timeout;
        call once."""
        if self._started:
            return
        await adapter.check_compatibility()
        adapter.use_host_addresses(self.settings.announced_addresses)
        adapter.use_consent_timeout(self.settings.consent_timeout_seconds)
        self._started = True
        self._sampling = asyncio.create_task(self._sample_stats(), name="sfu-stats")

    async def _sample_stats(self) -> None:
        """Each stats interval, emit every router's `StatsSample` and this process's
        `WorkerLoad`, off the forwarding path."""
        interval = self.settings.stats_interval_ms / 1000
        last_wall, last_cpu, last_packets = time.monotonic(), time.process_time(), 0
        while True:
            await asyncio.sleep(interval)
            for router in list(self.routers.values()):
                if router.streams_count():
                    self._emit(router.stats(periodic=True))
            wall, cpu, packets = time.monotonic(), time.process_time(), self.packets_total()
            elapsed = max(wall - last_wall, 1e-6)
            self._emit(self.load(cpu_percent=100 * (cpu - last_cpu) / elapsed,
                                 packets_per_s=(packets - last_packets) / elapsed))
            last_wall, last_cpu, last_packets = wall, cpu, packets

    def packets_total(self) -> int:
        """Packets received from publishers plus packets forwarded, since start."""
        return sum(router.packets_total() for router in self.routers.values())

    def load(self, cpu_percent: float, packets_per_s: float) -> WorkerLoad:
        return WorkerLoad(worker=self.worker, pid=os.getpid(), alive=True,
                          routers=len(self.routers),
                          streams=sum(r.streams_count() for r in self.routers.values()),
                          packets_per_s=packets_per_s, cpu_percent=cpu_percent)

    # ------------------------------------------------------------ events

    def add_listener(self, listener: EventListener) -> Callable[[], None]:
        return self._listeners.add(listener)

    def _emit(self, event: SfuEvent) -> None:
        self._listeners.emit(event)

    # ------------------------------------------------------------ lookups

    def _router(self, what: Member, ident: str) -> Router:
        """The live router holding the `what` (router, transport, ...) with id `ident`."""
        router = self._directory.get((what, ident))
        if router is None or router.closed:
            raise UnknownIdError.of(what, ident)
        return router

    # ------------------------------------------------------------ SfuClient

    async def create_router(self) -> RouterId:
        await self.start()
        router = Router(RouterId(new_id("r")), self.settings, self._emit, self._directory)
        self.routers[router.id] = router
        self._directory["router", router.id] = router
        logger.info("router %s created", router.id)
        return router.id

    async def close_router(self, router_id: RouterId) -> None:
        await self.pipes.close_router(router_id)
        router = self.routers.pop(router_id, None)
        if router is not None:
            await router.close()
            # Also what a request still under way when the router closed added.
            for ident in [k for k, r in self._directory.items() if r is router]:
                del self._directory[ident]
            logger.info("router %s closed", router_id)

    async def create_transport(self, router_id: RouterId, role: TransportRole) -> TransportId:
        return self._router("router", router_id).create_transport(role).id

    async def close_transport(self, transport_id: TransportId) -> None:
        try:
            router = self._router("transport", transport_id)
        except UnknownIdError:
            return
        await router.close_transport(transport_id)

    async def publish(self, transport_id: TransportId, offer_sdp: str,
                      mids: Collection[str] | None = None) -> PublishResult:
        router = self._router("transport", transport_id)
        return await router.publish(transport_id, offer_sdp, mids)

    async def close_producer(self, producer_id: ProducerId) -> None:
        try:
            router = self._router("producer", producer_id)
        except UnknownIdError:
            return
        await router.close_producer(producer_id)

    async def pause_producer(self, producer_id: ProducerId, paused: bool) -> None:
        self._router("producer", producer_id).producer(producer_id).set_paused(paused)

    async def consume(self, transport_id: TransportId, producer_id: ProducerId) -> ConsumerId:
        return self._router("transport", transport_id).consume(transport_id, producer_id).id

    async def close_consumer(self, consumer_id: ConsumerId) -> None:
        try:
            router = self._router("consumer", consumer_id)
        except UnknownIdError:
            return
        router.close_consumer(consumer_id)

    async def pause_consumer(self, consumer_id: ConsumerId, paused: bool) -> None:
        self._router("consumer", consumer_id).pause_consumer(consumer_id, paused)

    async def create_offer(self, transport_id: TransportId) -> SubscribeOffer:
        return await self._router("transport", transport_id).create_offer(transport_id)

    async def apply_answer(self, transport_id: TransportId, answer_sdp: str) -> AnswerResult:
        return await self._router("transport", transport_id).apply_answer(transport_id, answer_sdp)

    async def add_ice_candidate(self, transport_id: TransportId, candidate: str,
                                sdp_mid: str | None, sdp_mline_index: int | None) -> None:
        transport = self._router("transport", transport_id).transport(transport_id)
        await transport.add_ice_candidate(candidate, sdp_mid, sdp_mline_index)

    async def stats(self, router_id: RouterId) -> StatsSample:
        return self._router("router", router_id).stats()

    async def start_recording(self, router_id: RouterId, directory: str) -> None:
        await self._router("router", router_id).start_recording(directory, self.recording)

    async def stop_recording(self, router_id: RouterId) -> None:
        router = self.routers.get(router_id)
        if router is not None:
            await router.stop_recording()

    # ------------------------------------------------------------ PipeControl

    async def open_router(self, router_id: RouterId) -> None:
        await self.start()
        if router_id not in self.routers:
            router = Router(router_id, self.settings, self._emit, self._directory, home=False)
            self.routers[router_id] = router
            self._directory["router", router_id] = router
            logger.info("router %s opened for subscribers of another worker", router_id)

    async def open_pipe_sink(self, pipe_id: str, producer_id: ProducerId) -> PipeSinkOpened:
        return await self.pipes.open_sink(pipe_id, producer_id)

    async def open_pipe_source(self, pipe_id: str, router_id: RouterId,
                               producer_id: ProducerId, kind: Kind, codec: PipeCodec,
                               remote: PipeAddress, paused: bool = False) -> PipeAddress:
        return await self.pipes.open_source(pipe_id, router_id, producer_id, kind, codec,
                                            remote, paused)

    async def connect_pipe(self, pipe_id: str, remote: PipeAddress) -> None:
        self.pipes.connect(pipe_id, remote)

    async def pause_pipe(self, pipe_id: str, paused: bool) -> None:
        self.pipes.pause(pipe_id, paused)

    async def close_pipe(self, pipe_id: str) -> None:
        await self.pipes.close(pipe_id)

    async def pipe_figures(self) -> list[PipeFigures]:
        return self.pipes.figures()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._sampling is not None:
            self._sampling.cancel()
            await asyncio.gather(self._sampling, return_exceptions=True)
        for router_id in list(self.routers):
            await self.close_router(router_id)
        self._listeners.clear()
