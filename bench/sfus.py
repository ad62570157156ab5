"""The two SFUs under test, each run alone in its own child process.

- `giaoban`: `sfu.engine.Engine`, which forwards the publisher's RTP packets.
- `pool`: `sfu.pool.WorkerPool`, the same engine in worker processes (``--mode workers``).
- `mediarelay`: aiortc's `MediaRelay`. The publisher's tracks are decoded once, and
  each subscriber's RTCPeerConnection gets `relay.subscribe(track)`, so every
  subscriber has its own encoder.

Both answer the same requests, so the driver treats them alike. `op_mark` returns
this process's CPU time and how many RTP packets it has sent to subscribers so far.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError

from sfu.aiortc_peer import pin_vp8_bitrate

from .control import bench_host, cpu_seconds, pin_loopback
from .peers import CLOSE_TIMEOUT_S, inbound_packets, loopback_pc


class GiaobanSfu:
    """Giao Ban's in-process `Engine`, with one router per room (one room by default)."""

    def __init__(self, options: dict[str, Any]) -> None:
        from sfu.config import SfuSettings
        from sfu.engine import Engine

        self.settings = SfuSettings(announced_addresses=[bench_host()])
        self.engine = Engine(self.settings)
        self.rooms: list[Any] = []
        self.producer_ids: dict[int, dict[str, list[Any]]] = {}
        """room -> publisher name -> its producer ids."""
        self.publisher_index: dict[Any, int] = {}
        """producer id -> the publisher's picture index (its colour)."""

    @property
    def client(self) -> Any:
        """The `SfuClient` under test."""
        return self.engine

    async def op_start(self, rooms: int = 1) -> None:
        await self.client.start()
        self.rooms = [await self.client.create_router() for _ in range(rooms)]

    async def op_publish(self, offer: str, room: int = 0, publisher: str = "p",
                         index: int = 1) -> str:
        transport = await self.client.create_transport(self.rooms[room], "publish")
        result = await self.client.publish(transport, offer)
        ids = [p.producer_id for p in result.producers]
        self.producer_ids.setdefault(room, {})[publisher] = ids
        self.publisher_index.update(dict.fromkeys(ids, index))
        return str(result.answer_sdp)

    async def op_subscribe(self, room: int = 0, skip: str = "") -> dict[str, Any]:
        """A subscribe transport to every publisher of `room` but `skip`."""
        transport = await self.client.create_transport(self.rooms[room], "subscribe")
        for publisher, ids in self.producer_ids.get(room, {}).items():
            if publisher != skip:
                for producer_id in ids:
                    await self.client.consume(transport, producer_id)
        offer = await self.client.create_offer(transport)
        mids = {c.mid: self.publisher_index[c.producer_id] for c in offer.consumers}
        return {"sub": str(transport), "offer": offer.offer_sdp, "mids": mids}

    async def op_answer(self, sub: str, answer: str) -> None:
        await self.client.apply_answer(sub, answer)

    async def op_mark(self) -> dict[str, Any]:
        routers = [self.engine.routers[r] for r in self.rooms]
        consumers = [c for router in routers for c in router.consumers.values()]
        return {
            "t": time.monotonic(), "cpu": cpu_seconds(),
            "sent": sum(c.packets for c in consumers),
            "received": sum(p.packets for router in routers for p in router.producers.values()),
            "waiting_keyframe": sum(1 for c in consumers if c.waiting_for_keyframe),
        }

    async def close(self) -> None:
        await self.client.close()


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of another process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PoolSfu(GiaobanSfu):
    """`WorkerPool`: the same requests, served by `options["workers"]` worker processes.

    Its CPU time is the sum over the worker processes; this process only relays
    requests and events, and its own CPU time is reported apart as `control_cpu`.
    """

    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__(options)
        from sfu.pool import WorkerPool

        if options.get("consumer_limit"):
            self.settings = dataclasses.replace(
                self.settings, worker_consumer_limit=int(options["consumer_limit"]))
        self.run_dir = Path(tempfile.mkdtemp(prefix="giaoban-bench-"))
        self.pool = WorkerPool(self.settings, int(options["workers"]), self.run_dir,
                               log_level="WARNING")

    @property
    def client(self) -> Any:
        return self.pool

    async def op_placement(self) -> dict[str, Any]:
        """Which worker is each room's home, the workers' process ids, and how many
        consumers each worker serves."""
        return {"rooms": [next(w.index for w in self.pool.workers if room in w.routers)
                          for room in self.rooms],
                "pids": [w.pid for w in self.pool.workers],
                "consumers": [w.consumer_count for w in self.pool.workers]}

    async def op_mark(self) -> dict[str, Any]:
        samples = [await self.pool.stats(room) for room in self.rooms]
        t = time.monotonic()
        worker_cpu = [process_cpu_seconds(w.pid) for w in self.pool.workers]
        streams = [s for sample in samples for s in sample.streams]
        return {
            "t": t, "cpu": sum(worker_cpu), "worker_cpu": worker_cpu,
            "control_cpu": cpu_seconds(),
            "sent": sum(s.packets for s in streams if s.direction == "outbound"),
            "received": sum(s.packets for s in streams if s.direction == "inbound"),
            "waiting_keyframe": None,
        }

    async def close(self) -> None:
        try:
            await self.pool.close()
        finally:
            shutil.rmtree(self.run_dir, ignore_errors=True)


async def _discard(track: MediaStreamTrack) -> None:
    try:
        while True:
            await track.recv()
    except MediaStreamError:
        pass


class MediaRelaySfu:
    def __init__(self, options: dict[str, Any]) -> None:
        pin_loopback()
        if options.get("bitrate"):
            pin_vp8_bitrate(int(options["bitrate"]))
        self.relay = MediaRelay()
        self.publisher: RTCPeerConnection | None = None
        self.tracks: dict[str, MediaStreamTrack] = {}
        self.subscribers: dict[str, RTCPeerConnection] = {}
        self.sinks: list[asyncio.Task[None]] = []

    async def op_start(self) -> None:
        return None

    async def op_publish(self, offer: str) -> str:
        pc = self.publisher = loopback_pc()
        pc.on("track", lambda track: self.tracks.__setitem__(track.kind, track))
        await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        # Read the publisher from the start, as a server does before anyone
        # subscribes; otherwise decoded frames pile up until the first subscriber.
        for track in self.tracks.values():
            self.sinks.append(asyncio.create_task(
                _discard(self.relay.subscribe(track, buffered=False))))
        return str(pc.localDescription.sdp)

    async def op_subscribe(self) -> dict[str, str]:
        pc = loopback_pc()
        sub = f"s{len(self.subscribers) + 1}"
        self.subscribers[sub] = pc
        for kind in ("audio", "video"):
            pc.addTransceiver(self.relay.subscribe(self.tracks[kind]), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        return {"sub": sub, "offer": str(pc.localDescription.sdp)}

    async def op_answer(self, sub: str, answer: str) -> None:
        await self.subscribers[sub].setRemoteDescription(RTCSessionDescription(answer, "answer"))

    async def op_mark(self) -> dict[str, Any]:
        sent = received = 0
        for pc in self.subscribers.values():
            for stats in (await pc.getStats()).values():
                if stats.type == "outbound-rtp":
                    sent += stats.packetsSent
        if self.publisher is not None:
            received, _ = await inbound_packets(self.publisher)
        return {"t": time.monotonic(), "cpu": cpu_seconds(), "sent": sent,
                "received": received, "waiting_keyframe": 0}

    async def close(self) -> None:
        for task in self.sinks:
            task.cancel()
        await asyncio.gather(*self.sinks, return_exceptions=True)
        pcs = [*self.subscribers.values(), *([self.publisher] if self.publisher else [])]
        await asyncio.wait_for(asyncio.gather(*(pc.close() for pc in pcs),
                                              return_exceptions=True), CLOSE_TIMEOUT_S)


SFUS = {"giaoban": "bench.sfus:GiaobanSfu", "mediarelay": "bench.sfus:MediaRelaySfu",
        "janus": "bench.janus:JanusSfu", "pool": "bench.sfus:PoolSfu"}
