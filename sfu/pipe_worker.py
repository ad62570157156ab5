"""The pipes one worker holds, by pipe id: the `sfu.pipe_api.PipeControl` requests.

A sending end is a `PipeSink` on a producer of one of this worker's routers; a
receiving end is a `PipeSource` in a router of the same meeting, opened for it
(`open_router`). Pipe ends bind on `PIPE_HOST`, from `[sfu] udp_ports` when set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .api import BadRequestError, Kind, UnknownIdError
from .config import SfuSettings, port_range
from .ids import ProducerId, RouterId
from .pipe import PipeTransport
from .pipe_api import PipeAddress, PipeCodec, PipeFigures, PipeSinkOpened
from .pipe_ends import PipeSink, PipeSource, pipe_codec
from .producer import Producer
from .router import Member, Router

logger = logging.getLogger(__name__)

PIPE_HOST = "127.0.0.1"
"""Where pipe ends bind: the workers of one machine. An address of a private network
between machines would take its place for pipes between machines."""


class WorkerPipes:
    def __init__(self, settings: SfuSettings, router_of: Callable[[Member, str], Router]) -> None:
        """`router_of(what, id)` is the engine's lookup of the live router holding a
        router, transport, producer or consumer (UnknownIdError when none does)."""
        self._settings = settings
        self._ports = port_range(settings.udp_ports)
        self._router_of = router_of
        self.sinks: dict[str, tuple[PipeSink, Producer, RouterId]] = {}
        self.sources: dict[str, tuple[PipeSource, Router]] = {}

    async def _open(self) -> PipeTransport:
        return await PipeTransport.open(PIPE_HOST, self._ports)

    async def open_sink(self, pipe_id: str, producer_id: ProducerId) -> PipeSinkOpened:
        if pipe_id in self.sinks or pipe_id in self.sources:
            raise BadRequestError(f"pipe {pipe_id} is already open")
        router = self._router_of("producer", producer_id)
        producer = router.producer(producer_id)
        if isinstance(producer, PipeSource):
            raise BadRequestError(f"producer {producer_id} is itself fed by a pipe")
        pipe = await self._open()
        sink = PipeSink(pipe_id, producer.upstream, pipe)
        self.sinks[pipe_id] = (sink, producer, router.id)
        producer.add_consumer(sink)
        logger.info("pipe %s: sending producer %s from %s:%d", pipe_id, producer_id,
                    *pipe.local)
        return PipeSinkOpened(PipeAddress(*pipe.local), producer.kind,
                              pipe_codec(producer.codec), producer.paused)

    async def open_source(self, pipe_id: str, router_id: RouterId, producer_id: ProducerId,
                          kind: Kind, codec: PipeCodec, remote: PipeAddress,
                          paused: bool = False) -> PipeAddress:
        if pipe_id in self.sinks or pipe_id in self.sources:
            raise BadRequestError(f"pipe {pipe_id} is already open")
        router = self._router_of("router", router_id)
        if producer_id in router.producers:
            raise BadRequestError(f"router {router_id} already has producer {producer_id}")
        pipe = await self._open()
        pipe.connect(remote.host, remote.port)
        source = PipeSource(pipe_id, producer_id, kind, codec, self._settings, pipe)
        source.paused = paused
        router.add_source(source)
        self.sources[pipe_id] = (source, router)
        logger.info("pipe %s: receiving producer %s on %s:%d", pipe_id, producer_id,
                    *pipe.local)
        return PipeAddress(*pipe.local)

    def connect(self, pipe_id: str, remote: PipeAddress) -> None:
        entry = self.sinks.get(pipe_id)
        if entry is None:
            raise UnknownIdError.of("pipe", pipe_id)
        entry[0].connect(remote.host, remote.port)

    def pause(self, pipe_id: str, paused: bool) -> None:
        entry = self.sinks.get(pipe_id)
        if entry is None:
            raise UnknownIdError.of("pipe", pipe_id)
        sink, producer, _ = entry
        producer.pause_consumer(sink, paused)

    async def close(self, pipe_id: str) -> None:
        sink = self.sinks.pop(pipe_id, None)
        if sink is not None:
            sink[1].remove_consumer(sink[0])
            sink[0].close()
        source = self.sources.pop(pipe_id, None)
        if source is not None:
            await source[1].close_producer(source[0].id, announce=False)
            source[0].pipe.close()
        if sink is not None or source is not None:
            logger.info("pipe %s closed", pipe_id)

    async def close_router(self, router_id: RouterId) -> None:
        """Close every pipe end of the router's meeting on this worker."""
        ends = [k for k, v in self.sinks.items() if v[2] == router_id]
        ends += [k for k, v in self.sources.items() if v[1].id == router_id]
        for pipe_id in ends:
            await self.close(pipe_id)

    def figures(self) -> list[PipeFigures]:
        return ([sink.figures() for sink, _, _ in self.sinks.values()]
                + [source.figures() for source, _ in self.sources.values()])
