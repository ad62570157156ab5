"""The two SFUs under test, each run alone in its own child process.

- `giaoban`: `sfu.engine.Engine`, which forwards the publisher's RTP packets.
- `mediarelay`: aiortc's `MediaRelay`. The publisher's tracks are decoded once, and
  each subscriber's RTCPeerConnection gets `relay.subscribe(track)`, so every
  subscriber has its own encoder.

Both answer the same requests, so the driver treats them alike. `op_mark` returns
this process's CPU time and how many RTP packets it has sent to subscribers so far.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError

from .control import cpu_seconds, pin_loopback, pin_vp8_bitrate
from .peers import CLOSE_TIMEOUT_S, inbound_packets, loopback_pc


class GiaobanSfu:
    def __init__(self, options: dict[str, Any]) -> None:
        from sfu.config import SfuSettings
        from sfu.engine import Engine

        self.engine = Engine(SfuSettings(announced_addresses=["127.0.0.1"]))
        self.router_id: Any = None
        self.producer_ids: list[Any] = []

    async def op_start(self) -> None:
        await self.engine.start()
        self.router_id = await self.engine.create_router()

    async def op_publish(self, offer: str) -> str:
        transport = await self.engine.create_transport(self.router_id, "publish")
        result = await self.engine.publish(transport, offer)
        self.producer_ids = [p.producer_id for p in result.producers]
        return result.answer_sdp

    async def op_subscribe(self) -> dict[str, str]:
        transport = await self.engine.create_transport(self.router_id, "subscribe")
        for producer_id in self.producer_ids:
            await self.engine.consume(transport, producer_id)
        offer = await self.engine.create_offer(transport)
        return {"sub": str(transport), "offer": offer.offer_sdp}

    async def op_answer(self, sub: str, answer: str) -> None:
        await self.engine.apply_answer(sub, answer)  # type: ignore[arg-type]

    async def op_mark(self) -> dict[str, Any]:
        router = self.engine.routers[self.router_id]
        consumers = list(router.consumers.values())
        return {
            "t": time.monotonic(), "cpu": cpu_seconds(),
            "sent": sum(c.packets for c in consumers),
            "received": sum(p.packets for p in router.producers.values()),
            "waiting_keyframe": sum(1 for c in consumers if c.waiting_for_keyframe),
        }

    async def close(self) -> None:
        await self.engine.close()


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


SFUS = {"giaoban": "bench.sfus:GiaobanSfu", "mediarelay": "bench.sfus:MediaRelaySfu"}
