"""A Producer is one incoming track. It fans each packet out to its consumers.

Fan-out is synchronous: the receive tap calls `_on_packet`, which reads the clocks
once and hands the packet to every consumer in turn. A background task does the
slower work: keyframe requests to the publisher (coalesced), and once a second the
bitrate the publisher may send at, the minimum of what its subscribers can take.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection
from typing import Protocol

from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtptransceiver import RTCRtpTransceiver
from aiortc.rtp import RtpPacket

from .aiortc_receive import install_receive_tap, send_pli, send_remb
from .api import Kind, ProducerInfo
from .clock import ntp_now
from .config import SfuSettings
from .fanout import Downstream, Upstream
from .ids import ProducerId, TransportId

logger = logging.getLogger(__name__)

REMB_INTERVAL_S = 1.0
KEYFRAME_POLL_S = 0.1
"""How often the keyframe task looks for the publisher's first packet."""
REMB_FLOOR_BPS = 150_000
"""A weak subscriber lowers the publisher's bitrate, but never below this."""


class Inlet(Protocol):
    """Where a producer's packets come in: what its figures and bitrate read of it."""

    @property
    def uplink_bps(self) -> int | None:
        """The bitrate estimated for the publisher's uplink, when known."""
        ...

    @property
    def nacks_sent(self) -> int: ...

    def stream_counts(self, ssrc: int) -> tuple[int, int, float] | None:
        """(packets expected, packets received, jitter in seconds) of one source."""
        ...

    def close(self) -> None: ...


class PacketSink(Protocol):
    """Anything besides consumers that takes a producer's packets (e.g. a recorder).

    `on_packet` runs on the forwarding path: it must only hand the packet on (to a
    queue, say) and return at once.
    """

    def on_packet(self, packet: RtpPacket, now: float) -> None: ...


class Producer:
    def __init__(self, producer_id: ProducerId, transport_id: TransportId,
                 transceiver: RTCRtpTransceiver, codec: RTCRtpCodecParameters,
                 settings: SfuSettings, ssrcs: Collection[int] = ()) -> None:
        """`ssrcs` are the SSRCs the publisher announced for this track; packets of
        any other SSRC are dropped (none announced: the first one seen is taken)."""
        self._start(producer_id, transport_id, str(transceiver.mid),
                    "video" if transceiver.kind == "video" else "audio", codec, settings)
        self.receiver = transceiver.receiver
        self.tap: Inlet = install_receive_tap(self.receiver, self._on_packet, ssrcs)

    def _start(self, producer_id: ProducerId, transport_id: TransportId, mid: str, kind: Kind,
               codec: RTCRtpCodecParameters, settings: SfuSettings) -> None:
        """What every producer has, whatever its packets come from."""
        self.id = producer_id
        self.transport_id = transport_id
        self.mid = mid
        self.kind = kind
        self.codec = codec
        self.consumers: tuple[Downstream, ...] = ()
        self.forwarding: tuple[Downstream, ...] = ()
        """The consumers not paused: those each packet is handed to."""
        self.sinks: tuple[PacketSink, ...] = ()
        self.paused = False
        self.closed = False
        self.media_ssrc: int | None = None
        # counters, read by stats; never consulted on the forwarding path
        self.packets = 0
        self.bytes = 0
        self.keyframe_requests_sent = 0
        self.remb_sent_bps: int | None = None
        self.level_sum = 0
        """Sum of (127 - RFC 6464 level) over the packets since the speaker detector's
        last look, and how many packets carried a level."""
        self.level_count = 0
        self.keyframes = 0
        """Keyframes that ended at least one consumer's wait."""
        self.last_keyframe_seq: int | None = None
        self.keyframe_task_wakeups = 0
        """Times the keyframe task woke: about once a second while nothing is asked."""
        self._retry_s = settings.keyframe_retry_ms / 1000
        self._min_interval_s = settings.pli_min_interval_ms / 1000
        self._keyframe_wanted = False
        self._last_pli = 0.0
        self._last_remb = 0.0
        self._wake = asyncio.Event()
        self._keyframe_task: asyncio.Task[None] | None = None
        if self.kind == "video":
            self._keyframe_task = asyncio.create_task(self._request_keyframes(),
                                                      name=f"keyframes-{producer_id}")

    @property
    def info(self) -> ProducerInfo:
        return ProducerInfo(producer_id=self.id, transport_id=self.transport_id, mid=self.mid,
                            kind=self.kind, codec=self.codec.mimeType)

    def _on_packet(self, packet: RtpPacket) -> None:
        if self.closed or self.paused or packet.payload_type != self.codec.payloadType:
            return
        self.media_ssrc = packet.ssrc
        self.packets += 1
        self.bytes += len(packet.payload)
        level = packet.extensions.audio_level
        if level is not None:
            self.level_sum += 127 - level[1]
            self.level_count += 1
        consumers = self.forwarding
        if consumers:
            now = time.monotonic()
            ntp = ntp_now()
            for consumer in consumers:
                consumer.forward(packet, now, ntp)
        for sink in self.sinks:
            sink.on_packet(packet, time.monotonic())

    @property
    def upstream(self) -> Upstream:
        """What a new consumer of this producer is given: facts and callbacks."""
        return Upstream(producer_id=self.id, kind=self.kind, codec=self.codec,
                        request_keyframe=self.request_keyframe,
                        keyframe_forwarded=self._keyframe_forwarded)

    def add_consumer(self, consumer: Downstream) -> None:
        self.consumers = (*self.consumers, consumer)
        self._refresh_forwarding()

    def remove_consumer(self, consumer: Downstream) -> None:
        self.consumers = tuple(c for c in self.consumers if c is not consumer)
        self._refresh_forwarding()

    def pause_consumer(self, consumer: Downstream, paused: bool) -> None:
        """Stop or resume forwarding to one consumer; a resumed video consumer asks for
        a keyframe, which the coalescing window shares with every other request."""
        consumer.set_paused(paused)
        self._refresh_forwarding()

    def _refresh_forwarding(self) -> None:
        self.forwarding = tuple(c for c in self.consumers if not c.paused)

    def _keyframe_forwarded(self, sequence_number: int) -> None:
        """A consumer's wait ended on this keyframe; count each keyframe once."""
        if self.last_keyframe_seq != sequence_number:
            self.last_keyframe_seq = sequence_number
            self.keyframes += 1

    def add_sink(self, sink: PacketSink) -> None:
        self.sinks = (*self.sinks, sink)
        self.request_keyframe()

    def remove_sink(self, sink: PacketSink) -> None:
        self.sinks = tuple(s for s in self.sinks if s is not sink)

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

    def take_loudness(self) -> float | None:
        """The mean loudness (127 - level) since the last call; None without levels."""
        if self.level_count == 0 or self.paused:
            self.level_sum = self.level_count = 0
            return None
        mean = self.level_sum / self.level_count
        self.level_sum = self.level_count = 0
        return mean

    def aggregate_bitrate(self) -> int | None:
        """The bitrate the publisher may send at: the minimum of its uplink estimate and
        of every active subscriber's REMB, never below the floor; None when unknown."""
        estimates = [c.remb_bps for c in self.forwarding
                     if c.active and c.remb_bps is not None]
        if self.tap.uplink_bps is not None:
            estimates.append(self.tap.uplink_bps)
        if not estimates:
            return None
        return max(REMB_FLOOR_BPS, min(estimates))

    async def _send_remb(self, now: float) -> None:
        if self.media_ssrc is None or now - self._last_remb < REMB_INTERVAL_S:
            return
        self._last_remb = now
        bitrate = self.aggregate_bitrate()
        if bitrate is None:
            return
        self.remb_sent_bps = bitrate
        try:
            await self._send_bitrate(bitrate, self.media_ssrc)
        except ConnectionError:
            pass

    def _next_check_s(self, now: float, waiting: bool) -> float:
        """How long the keyframe task may sleep unless woken: until the next REMB, the
        end of the coalescing window of a pending request, or a waiting consumer's
        next retry. An idle producer wakes once a second, not ten times."""
        due = self._last_remb + REMB_INTERVAL_S
        if self._keyframe_wanted:
            due = min(due, self._last_pli + self._min_interval_s)
        if waiting:
            due = min(due, self._last_pli + max(self._retry_s, self._min_interval_s))
        return max(KEYFRAME_POLL_S / 10, due - now)

    async def _send_bitrate(self, bitrate: int, media_ssrc: int) -> None:
        """Tell the publisher the bitrate it may send at (REMB)."""
        await send_remb(self.receiver, bitrate, [media_ssrc])

    async def _send_keyframe_request(self, media_ssrc: int) -> None:
        """Ask the publisher for a keyframe (PLI)."""
        await send_pli(self.receiver, media_ssrc)

    async def _request_keyframes(self) -> None:
        """Send PLIs: on request (coalesced), and every retry interval while any
        consumer is still waiting for a keyframe, so no waiting consumer is forgotten.
        Once a second, send the publisher the aggregated REMB."""
        delay = KEYFRAME_POLL_S
        while True:
            try:
                # Not asyncio.wait_for: on Python 3.11 it drops a cancellation that lands
                # in the loop turn the wake-up does, and close() would wait forever.
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            self.keyframe_task_wakeups += 1
            if self.media_ssrc is None or self.paused:
                delay = KEYFRAME_POLL_S if self.media_ssrc is None else REMB_INTERVAL_S
                continue
            now = time.monotonic()
            await self._send_remb(now)
            since = now - self._last_pli
            waiting = any(c.waiting_for_keyframe for c in self.forwarding if c.active)
            delay = self._next_check_s(time.monotonic(), waiting)
            if since >= self._min_interval_s and (
                    self._keyframe_wanted or (waiting and since >= self._retry_s)):
                self._keyframe_wanted = False
                self._last_pli = now
                self.keyframe_requests_sent += 1
                delay = self._next_check_s(now, waiting)
                try:
                    await self._send_keyframe_request(self.media_ssrc)
                except ConnectionError:
                    pass

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.consumers = self.forwarding = ()
        self.sinks = ()
        self.tap.close()
        if self._keyframe_task is not None:
            self._keyframe_task.cancel()
            # The task's own cancellation is its result; the caller's propagates.
            await asyncio.gather(self._keyframe_task, return_exceptions=True)
        logger.info("producer %s closed (%d packets)", self.id, self.packets)
