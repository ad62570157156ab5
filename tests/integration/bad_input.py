"""A meeting on an in-process `Engine` with real aiortc peers, for bad-input tests.

It gives each test what it needs to show that one participant's bad input hurts no
one else: publishing and subscribing by label, a check that a subscriber keeps
decoding one publisher's own frames, hand-made RTP/RTCP sent through a peer's own
SRTP context, and a record of the process's tasks and sockets to compare after the
engine is closed.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field

from aiortc import RTCDtlsTransport, RTCPeerConnection
from aiortc.rtp import RtpPacket

from sfu.aiortc_adapter import sender_ssrc
from sfu.aiortc_peer import send_protected
from sfu.api import SfuEvent
from sfu.config import SfuSettings
from sfu.engine import Engine
from sfu.ids import ProducerId, RouterId, TransportId
from sfu.router import Router
from tests.integration.conftest import wait_until
from tests.integration.peers import Publisher, Subscriber


def open_sockets() -> set[str]:
    """Every socket this process holds open, as 'socket:[inode]'."""
    found: set[str] = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed between listdir and readlink
        if target.startswith("socket:"):
            found.add(target)
    return found


@dataclass
class Resources:
    """The asyncio tasks and sockets that existed before a test started its meeting."""

    tasks: set[asyncio.Task[object]]
    sockets: set[str]

    @classmethod
    def snapshot(cls) -> Resources:
        return cls(tasks=set(asyncio.all_tasks()), sockets=open_sockets())

    def new_tasks(self) -> list[asyncio.Task[object]]:
        current = asyncio.current_task()
        return [t for t in asyncio.all_tasks()
                if t not in self.tasks and t is not current and not t.done()]

    async def assert_released(self, timeout: float = 20.0) -> None:
        """Every task and socket opened since the snapshot is gone (a closed peer
        connection may take a moment to let its last tasks finish)."""
        try:
            await wait_until(lambda: not self.new_tasks() and not open_sockets() - self.sockets,
                             timeout, "the meeting's tasks and sockets to go")
        except AssertionError:
            pass  # named below
        tasks = self.new_tasks()
        assert not tasks, f"tasks left running: {[t.get_name() for t in tasks]} {tasks}"
        sockets = open_sockets() - self.sockets
        assert not sockets, f"sockets left open: {sorted(sockets)}"


@dataclass
class Meeting:
    """One router on its own engine, and the peers the test connects to it."""

    engine: Engine
    router_id: RouterId
    events: list[SfuEvent] = field(default_factory=list)
    publishers: list[Publisher] = field(default_factory=list)
    subscribers: list[Subscriber] = field(default_factory=list)
    engine_pcs: list[RTCPeerConnection] = field(default_factory=list)

    @classmethod
    async def open(cls, settings: SfuSettings) -> Meeting:
        engine = Engine(settings)
        await engine.start()
        meeting = cls(engine=engine, router_id=await engine.create_router())
        engine.add_listener(meeting.events.append)
        return meeting

    @property
    def router(self) -> Router:
        return self.engine.routers[self.router_id]

    def _remember(self, transport: TransportId) -> None:
        self.engine_pcs.append(self.router.transports[transport].pc)

    async def publish(self, publisher: Publisher) -> tuple[TransportId, dict[str, ProducerId]]:
        self.publishers.append(publisher)
        transport = await self.engine.create_transport(self.router_id, "publish")
        self._remember(transport)
        result = await self.engine.publish(transport, await publisher.offer())
        await publisher.accept(result.answer_sdp)
        return transport, {p.kind: p.producer_id for p in result.producers}

    async def subscribe(self, subscriber: Subscriber,
                        producers: dict[str, dict[str, ProducerId]]) -> TransportId:
        """Consume each labelled publisher's producers and complete the negotiation."""
        self.subscribers.append(subscriber)
        transport = await self.engine.create_transport(self.router_id, "subscribe")
        self._remember(transport)
        labels: dict[ProducerId, str] = {}
        for label, by_kind in producers.items():
            for producer in by_kind.values():
                labels[producer] = label
                await self.engine.consume(transport, producer)
        offer = await self.engine.create_offer(transport)
        for consumer in offer.consumers:
            subscriber.mid_labels[consumer.mid] = labels[consumer.producer_id]
        await self.engine.apply_answer(transport, await subscriber.answer(offer.offer_sdp))
        return transport

    async def close(self) -> None:
        """Close the peers, then the engine; then every peer connection the engine
        made is closed (its sockets and tasks are checked by `Resources`)."""
        for subscriber in self.subscribers:
            await subscriber.close()
        for publisher in self.publishers:
            await publisher.pc.close()
        await self.engine.close()
        assert not self.engine.routers
        for transport_pc in self.engine_pcs:
            assert transport_pc.connectionState == "closed"
            assert transport_pc.iceConnectionState == "closed"


async def keeps_decoding(subscriber: Subscriber, label: str, index: int, frames: int = 30,
                         audio_frames: int = 50, timeout: float = 8.0) -> None:
    """`subscriber` decodes `frames` more video frames of publisher `index` (its colour,
    frame numbers increasing) and `audio_frames` more audio frames, within `timeout`."""
    video_start = subscriber.video[label].frames if label in subscriber.video else 0
    audio_start = subscriber.audio[label].frames if label in subscriber.audio else 0

    def enough() -> bool:
        video, audio = subscriber.video.get(label), subscriber.audio.get(label)
        return bool(video and video.frames >= video_start + frames
                    and audio and audio.frames >= audio_start + audio_frames)

    await wait_until(enough, timeout, f"{frames} more video and {audio_frames} more audio "
                                      f"frames of {label}")
    video = subscriber.video[label]
    fresh = slice(video_start, None)
    assert set(video.indexes[fresh]) == {index}, f"{label}: someone else's picture"
    numbers = video.frame_numbers[fresh]
    assert all(b > a for a, b in zip(numbers, numbers[1:])), f"{label}: frames out of order"
    assert video.worst_colour_distance < 40


def dtls_of(pc: RTCPeerConnection) -> RTCDtlsTransport:
    """The one (bundled) DTLS transport of a test peer."""
    return pc.getTransceivers()[0].receiver.transport


async def send_raw(pc: RTCPeerConnection, data: bytes) -> None:
    """SRTP-protect `data` (RTP, or RTCP by its packet type) and send it on the peer's
    connected transport, as a misbehaving endpoint would."""
    await send_protected(dtls_of(pc), data)


def rtp(payload_type: int, ssrc: int, seq: int, timestamp: int, payload: bytes,
        marker: int = 0) -> bytes:
    return RtpPacket(payload_type=payload_type, marker=marker, sequence_number=seq,
                     timestamp=timestamp, ssrc=ssrc, payload=payload).serialize()


def sent_ssrc(publisher: Publisher, kind: str) -> int:
    """The SSRC the publisher's own `kind` sender uses."""
    sender = next(t.sender for t in publisher.pc.getTransceivers() if t.kind == kind)
    return sender_ssrc(sender)
