"""A Producer is one incoming track. It fans each packet out to its consumers."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtptransceiver import RTCRtpTransceiver
from aiortc.rtp import RtpPacket

from . import aiortc_adapter as adapter
from .api import Kind, ProducerInfo
from .config import SfuSettings
from .ids import ProducerId, TransportId

if TYPE_CHECKING:
    from .consumer import Consumer

logger = logging.getLogger(__name__)


class Producer:
    def __init__(self, producer_id: ProducerId, transport_id: TransportId,
                 transceiver: RTCRtpTransceiver, codec: RTCRtpCodecParameters,
                 settings: SfuSettings) -> None:
        self.id = producer_id
        self.transport_id = transport_id
        self.mid = str(transceiver.mid)
        self.kind: Kind = "video" if transceiver.kind == "video" else "audio"
        self.codec = codec
        self.receiver = transceiver.receiver
        self.consumers: tuple[Consumer, ...] = ()
        self.paused = False
        self.closed = False
        self.media_ssrc: int | None = None
        # counters, read by stats; never consulted on the forwarding path
        self.packets = 0
        self.bytes = 0
        self.keyframe_requests_sent = 0
        self._retry_s = settings.keyframe_retry_ms / 1000
        self._min_interval_s = settings.pli_min_interval_ms / 1000
        self._keyframe_wanted = False
        self._last_pli = 0.0
        self._wake = asyncio.Event()
        self._keyframe_task: asyncio.Task[None] | None = None
        if self.kind == "video":
            self._keyframe_task = asyncio.create_task(self._request_keyframes(),
                                                      name=f"keyframes-{producer_id}")
        adapter.install_receive_tap(self.receiver, self._on_packet)

    @property
    def info(self) -> ProducerInfo:
        return ProducerInfo(producer_id=self.id, transport_id=self.transport_id, mid=self.mid,
                            kind=self.kind, codec=self.codec.mimeType)

    async def _on_packet(self, packet: RtpPacket) -> None:
        if self.closed or self.paused or packet.payload_type != self.codec.payloadType:
            return
        self.media_ssrc = packet.ssrc
        self.packets += 1
        self.bytes += len(packet.payload)
        for consumer in self.consumers:
            await consumer.forward(packet)

    def add_consumer(self, consumer: Consumer) -> None:
        self.consumers = (*self.consumers, consumer)

    def remove_consumer(self, consumer: Consumer) -> None:
        self.consumers = tuple(c for c in self.consumers if c is not consumer)

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe soon; requests within the window coalesce."""
        if self.kind == "video":
            self._keyframe_wanted = True
            self._wake.set()

    def set_paused(self, paused: bool) -> None:
        if paused == self.paused:
            return
        self.paused = paused
        if not paused:
            for consumer in self.consumers:
                consumer.restart()
            self.request_keyframe()

    async def _request_keyframes(self) -> None:
        """Send PLIs: on request (coalesced), and every retry interval while any
        consumer is still waiting for a keyframe, so no waiting consumer is forgotten."""
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=0.1)
            except TimeoutError:
                pass
            self._wake.clear()
            if self.media_ssrc is None or self.paused:
                continue
            now = time.monotonic()
            since = now - self._last_pli
            waiting = any(c.waiting_for_keyframe for c in self.consumers if c.active)
            if (self._keyframe_wanted and since >= self._min_interval_s) or (
                    waiting and since >= self._retry_s):
                self._keyframe_wanted = False
                self._last_pli = now
                self.keyframe_requests_sent += 1
                try:
                    await adapter.send_pli(self.receiver, self.media_ssrc)
                except ConnectionError:
                    pass

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.consumers = ()
        if self._keyframe_task is not None:
            self._keyframe_task.cancel()
            try:
                await self._keyframe_task
            except asyncio.CancelledError:
                pass
        logger.info("producer %s closed (%d packets)", self.id, self.packets)
