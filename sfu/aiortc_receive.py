"""The receive side of the SFU's aiortc hooks: what comes in from a publisher, and the
RTCP that goes back to it.

- `ReceiveTap` takes the place of `RTCRtpReceiver._handle_rtp_packet` per instance:
  it keeps receiver-report statistics, RTX unwrapping, NACK generation and the uplink
  bandwidth estimate, and hands each packet to the Producer synchronously. No frame
  is assembled, no payload parsed, nothing decoded.
- `install_fast_receive` takes a publisher's SRTP media from the ICE socket straight
  to its tap; `guard_rtcp` keeps malformed RTCP from killing a transport.
- `send_pli` and `send_remb` ask a publisher for a keyframe and tell it its bitrate.

The internals touched here are checked at start-up by
`aiortc_adapter.check_compatibility()`.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections import deque
from collections.abc import Callable, Collection
from typing import Any

import pylibsrtp
from aiortc import RTCDtlsTransport, RTCRtpReceiver
from aiortc.rate import MIN_FRAME_PERIOD_HISTORY_LENGTH, OveruseEstimator, RemoteBitrateEstimator
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpreceiver import NackGenerator, StreamStatistics
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, RtpPacket, pack_remb_fci, unwrap_rtx

from .aiortc_rtp import CONNECTED, DirectSrtp, RtpParser
from .clock import ms_now

logger = logging.getLogger(__name__)

PacketSink = Callable[[RtpPacket], None]


NACK_DELAY_S = 0.01
"""How long a receive tap waits after a loss before asking for what is missing."""


class WindowRate:
    """aiortc's `RateCounter` (a rate over a sliding window of 1 ms buckets) with the
    same figures, without its per-millisecond loop.

    `RateCounter` clears every 1 ms bucket the window slides past, one by one: 33 of
    them between two frames of a 30 fps stream. This keeps what was added as a queue,
    oldest first, and drops what has left the window.
    """

    __slots__ = ("_window", "_scale", "_origin", "_queue", "_value", "_count")

    def __init__(self, window_ms: int, scale: int) -> None:
        self._window = window_ms
        self._scale = scale
        self.reset()

    def reset(self) -> None:
        self._origin: int | None = None
        self._queue: deque[tuple[int, int]] = deque()
        self._value = 0
        self._count = 0

    def add(self, value: int, now_ms: int) -> None:
        if self._origin is None:
            self._origin = now_ms
        else:
            self._slide(now_ms)
        self._queue.append((now_ms, value))
        self._value += value
        self._count += 1

    def rate(self, now_ms: int) -> int | None:
        if self._origin is None:
            return None
        self._slide(now_ms)
        span = now_ms - self._origin + 1
        if self._count > 0 and span > 1:
            return round(self._scale * self._value / span)
        return None

    def _slide(self, now_ms: int) -> None:
        origin = now_ms - self._window + 1
        if self._origin is not None and self._origin < origin:
            self._origin = origin
            queue = self._queue
            while queue and queue[0][0] < origin:
                _, value = queue.popleft()
                self._value -= value
                self._count -= 1


def _lean_frame_period(overuse: OveruseEstimator) -> None:
    """Give `overuse` the same shortest frame period of its recent history as aiortc
    computes, with one call of `min` instead of one per remembered delta."""
    history = overuse.ts_delta_hist

    def update_min_frame_period(ts_delta: float) -> float:
        if len(history) >= MIN_FRAME_PERIOD_HISTORY_LENGTH:
            history.pop(0)
        shortest = min(history) if history else ts_delta
        history.append(ts_delta)
        return ts_delta if ts_delta < shortest else shortest

    overuse.update_min_frame_period = update_min_frame_period  # type: ignore[method-assign]


class BurstEstimator:
    """aiortc's `RemoteBitrateEstimator`, fed once per burst instead of once per packet.

    A burst is the packets of one SSRC read in the same millisecond: the packets of a
    video frame, which a publisher without a pacer sends back to back. The estimator
    puts them all in one timestamp group anyway (same arrival time), and compares
    groups by their last send time, their arrival time and their summed size, so one
    call with the burst's last send time and summed size gives it the same deltas as
    one call per packet, for a fraction of its per-packet work. A burst is handed on
    when the next one starts. Its incoming rate is counted by a `WindowRate`, and its
    shortest recent frame period found in one pass.
    """

    __slots__ = ("estimator", "bursts", "_ms", "_ssrc", "_abs_send_time", "_size")

    def __init__(self, estimator: RemoteBitrateEstimator) -> None:
        self.estimator = estimator
        counter = estimator.incoming_bitrate
        estimator.incoming_bitrate = WindowRate(  # type: ignore[assignment]
            counter._window_size, counter._scale)
        _lean_frame_period(estimator.estimator)
        self.bursts = 0
        """Bursts handed to the estimator."""
        self._ms = -1
        self._ssrc = -1
        self._abs_send_time = 0
        self._size = 0

    def add(self, abs_send_time: int, arrival_time_ms: int, size: int, ssrc: int
            ) -> int | None:
        """Count one packet; return a new estimate in bit/s, when the burst before this
        packet's gave one."""
        if arrival_time_ms == self._ms and ssrc == self._ssrc:
            self._abs_send_time = abs_send_time
            self._size += size
            return None
        remb = self.flush()
        self._ms, self._ssrc, self._abs_send_time, self._size = (
            arrival_time_ms, ssrc, abs_send_time, size)
        return remb

    def flush(self) -> int | None:
        """Hand the current burst to the estimator."""
        if self._ssrc < 0:
            return None
        ssrc, self._ssrc = self._ssrc, -1
        self.bursts += 1
        remb = self.estimator.add(arrival_time_ms=self._ms, abs_send_time=self._abs_send_time,
                                  payload_size=self._size, ssrc=ssrc)
        return None if remb is None else int(remb[0])


class ReceiveTap:
    """Takes the place of `RTCRtpReceiver._handle_rtp_packet` on a forwarding receiver.

    It keeps what the forwarding needs from aiortc's handler (statistics for receiver
    reports, RTX unwrapping, NACK generation, the bandwidth estimate of the publisher's
    uplink) and leaves out frame assembly and payload parsing. Each packet goes to
    `sink` synchronously, so one incoming packet is forwarded to every consumer
    without a coroutine hop.

    Only the SSRCs the publisher announced in its offer (media and RTX) are taken;
    without any announced, the first SSRC seen is. aiortc's router hands a receiver
    any SSRC whose payload type is one of its own; were those taken, each one would
    add a stream to the receiver reports until aiortc's report task dies of an
    oversized packet (and closing the transport then waits for it forever), and their
    payloads would be forwarded to subscribers as the publisher's own.
    """

    __slots__ = ("receiver", "sink", "ssrcs", "nacks_sent", "uplink_bps", "unknown_payload",
                 "unknown_ssrc", "estimator", "_codecs", "_rtx_payload_types", "_rtx_ssrc",
                 "_streams", "_nack", "_nack_due")

    def __init__(self, receiver: RTCRtpReceiver, sink: PacketSink,
                 ssrcs: Collection[int] = ()) -> None:
        self.receiver = receiver
        self.sink = sink
        self.ssrcs = set(ssrcs)
        """The SSRCs taken; empty until the first packet when none was announced."""
        self.nacks_sent = 0
        self.uplink_bps: int | None = None
        """The publisher's uplink as estimated from abs-send-time (video only)."""
        self.unknown_payload = 0
        self.unknown_ssrc = 0
        """Packets dropped because their SSRC was not announced."""
        self._codecs: dict[int, RTCRtpCodecParameters] = receiver._RTCRtpReceiver__codecs  # type: ignore[attr-defined]
        self._rtx_payload_types: set[int] = set()
        self._rtx_ssrc: dict[int, int] = receiver._RTCRtpReceiver__rtx_ssrc  # type: ignore[attr-defined]
        self._streams: dict[int, StreamStatistics] = receiver._RTCRtpReceiver__remote_streams  # type: ignore[attr-defined]
        self._nack: NackGenerator | None = receiver._RTCRtpReceiver__nack_generator  # type: ignore[attr-defined]
        estimator: RemoteBitrateEstimator | None = (
            receiver._RTCRtpReceiver__remote_bitrate_estimator)  # type: ignore[attr-defined]
        self.estimator = BurstEstimator(estimator) if estimator is not None else None
        """The uplink estimate, fed once per burst (video only)."""
        self._nack_due: asyncio.TimerHandle | None = None

    async def handle(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        """aiortc's entry point, for packets that arrive the usual way."""
        self.receive(packet, arrival_time_ms)

    def receive(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        if not self.receiver._enabled:
            return
        estimator = self.estimator
        if estimator is not None and packet.extensions.abs_send_time is not None:
            remb = estimator.add(packet.extensions.abs_send_time, arrival_time_ms,
                                 len(packet.payload) + packet.padding_size, packet.ssrc)
            if remb is not None:
                self.uplink_bps = remb
        codec = self._codecs.get(packet.payload_type)
        if codec is None:
            self.unknown_payload += 1
            return
        stream = self._streams.get(packet.ssrc)
        if stream is None:
            # A new SSRC: rare for a publisher, so the check costs nothing per packet.
            if not self._take_ssrc(packet.ssrc):
                return
            stream = self._streams[packet.ssrc] = StreamStatistics(codec.clockRate)
        stream.add(packet)
        if codec.mimeType.lower() == "video/rtx":
            original_ssrc = self._rtx_ssrc.get(packet.ssrc)
            apt = codec.parameters.get("apt")
            if (original_ssrc is None or len(packet.payload) < 2 or not isinstance(apt, int)
                    or apt not in self._codecs):
                return
            packet = unwrap_rtx(packet, payload_type=apt, ssrc=original_ssrc)
        nack = self._nack
        if nack is None:
            pass
        elif (not nack.missing and nack.max_seq is not None
                and packet.sequence_number == (nack.max_seq + 1) & 0xFFFF):
            # The next packet in order with nothing missing, as nearly every packet
            # is: all `NackGenerator.add` would do is move its highest sequence on.
            nack.max_seq = packet.sequence_number
        elif nack.add(packet) and self._nack_due is None:
            # A loss: ask for what is still missing shortly, in one NACK for all the
            # losses of that moment, and not for packets that were only reordered.
            self._nack_due = asyncio.get_running_loop().call_later(
                NACK_DELAY_S, self._send_nack, packet.ssrc)
        self.sink(packet)

    def _send_nack(self, ssrc: int) -> None:
        self._nack_due = None
        if self._nack is not None and self._nack.missing:
            self.nacks_sent += 1
            asyncio.ensure_future(self.receiver._send_rtcp_nack(ssrc, sorted(self._nack.missing)))

    def close(self) -> None:
        if self._nack_due is not None:
            self._nack_due.cancel()
            self._nack_due = None

    def _take_ssrc(self, ssrc: int) -> bool:
        if not self.ssrcs:
            self.ssrcs.add(ssrc)
        elif ssrc not in self.ssrcs and ssrc not in self._rtx_ssrc:
            self.unknown_ssrc += 1
            # aiortc's router learned this SSRC on the way in: forget it, so a stream
            # of made-up SSRCs does not grow its table.
            self.receiver.transport._rtp_router.ssrc_table.pop(ssrc, None)
            return False
        return True

    def counted_ssrcs(self) -> set[int]:
        """The SSRCs the receiver keeps statistics for (what its receiver reports cover)."""
        return set(self._streams)

    def stream_counts(self, ssrc: int) -> tuple[int, int, float] | None:
        """(packets expected, packets received, jitter in seconds) of one source."""
        stream = self._streams.get(ssrc)
        if stream is None or stream.max_seq is None:
            return None
        return stream.packets_expected, stream.packets_received, stream.jitter / stream._clockrate


def install_receive_tap(receiver: RTCRtpReceiver, sink: PacketSink,
                        ssrcs: Collection[int] = ()) -> ReceiveTap:
    """Forward each incoming packet of the announced `ssrcs` to `sink` once RTX is
    unwrapped and statistics kept.

    Installing again on the same receiver (a track published anew on the same m-line)
    only replaces the sink and the announced SSRCs.
    """
    current = getattr(receiver, "_giaoban_tap", None)
    if isinstance(current, ReceiveTap):
        current.sink = sink
        current.ssrcs = set(ssrcs)
        return current
    tap = ReceiveTap(receiver, sink, ssrcs)
    receiver._giaoban_tap = tap  # type: ignore[attr-defined]
    receiver._handle_rtp_packet = tap.handle  # type: ignore[method-assign]
    return tap


def install_fast_receive(dtls: RTCDtlsTransport) -> None:
    """Handle incoming SRTP media as each datagram arrives, in the socket's callback.

    aiortc queues every datagram and a task takes it through four nested coroutines
    before it reaches the receiver. For RTP that reaches a `ReceiveTap` this does the
    same work (SRTP unprotect, parse, route) synchronously. Everything else (STUN,
    DTLS, RTCP, packets for other receivers) keeps aiortc's path. RTP is parsed by an
    `RtpParser`, which gives what aiortc's parser gives. Call it once the
    transport is connected; calling it again does nothing.
    """
    connection = dtls.transport._connection
    if getattr(connection, "_giaoban_fast_receive", False):
        return
    connection._giaoban_fast_receive = True  # type: ignore[attr-defined]
    queued = connection.data_received
    router = dtls._rtp_router
    parser = RtpParser(dtls._rtp_header_extensions_map)
    direct: list[DirectSrtp] = []

    def data_received(data: bytes, component: int) -> None:
        srtp = dtls._rx_srtp
        if (srtp is None or len(data) < 12 or not 127 < data[0] < 192
                or 191 < data[1] < 209 or dtls._state is not CONNECTED):
            queued(data, component)
            return
        if not direct or direct[0].session is not srtp:
            direct[:] = [DirectSrtp(srtp)]
        try:
            plain = direct[0].unprotect(data)
            packet = parser.parse(plain)
        except (pylibsrtp.Error, ValueError):
            return
        dtls._RTCDtlsTransport__rx_bytes += len(data)  # type: ignore[attr-defined]
        dtls._RTCDtlsTransport__rx_packets += 1  # type: ignore[attr-defined]
        receiver = router.route_rtp(packet)
        tap = getattr(receiver, "_giaoban_tap", None)
        if isinstance(tap, ReceiveTap):
            tap.receive(packet, ms_now())
        elif receiver is not None:
            asyncio.ensure_future(receiver._handle_rtp_packet(packet, ms_now()))

    connection.data_received = data_received  # type: ignore[method-assign]
    for protocol in connection._protocols:
        _skip_stun_parsing(protocol, connection)


def _skip_stun_parsing(protocol: Any, connection: Any) -> None:
    """Hand RTP and RTCP datagrams of `protocol`'s socket straight to `connection`.

    aioice tries to parse every datagram as STUN and passes it on when that raises;
    a first byte of 128-191 (RTP version 2) can never start a STUN message (0-3), so
    those skip the attempt. Everything else keeps aioice's path.
    """
    stun_received = protocol.datagram_received
    component = protocol.local_candidate.component

    def datagram_received(data: bytes, addr: tuple[Any, ...]) -> None:
        if data and 127 < data[0] < 192:
            connection.data_received(data, component)
        else:
            stun_received(data, addr)

    protocol.datagram_received = datagram_received


def guard_rtcp(dtls: RTCDtlsTransport) -> None:
    """Drop malformed RTCP that would otherwise close the whole transport.

    aiortc drops RTCP it cannot parse (a ValueError), but a REMB announcing more SSRCs
    than it carries parses fine and then raises `struct.error` while being routed; that
    escapes into the transport's receive loop, which dies, and every track on the
    transport stops. Only RTCP passes here; calling it again does nothing.
    """
    if getattr(dtls, "_giaoban_rtcp_guard", False):
        return
    dtls._giaoban_rtcp_guard = True  # type: ignore[attr-defined]
    handle = dtls._handle_rtcp_data

    async def handle_rtcp_data(data: bytes) -> None:
        try:
            await handle(data)
        except struct.error as exc:
            logger.debug("malformed RTCP dropped: %s", exc)

    dtls._handle_rtcp_data = handle_rtcp_data  # type: ignore[method-assign]


async def send_pli(receiver: RTCRtpReceiver, media_ssrc: int) -> None:
    """Ask the publisher behind `receiver` for a keyframe."""
    await receiver._send_rtcp_pli(media_ssrc)


async def send_remb(receiver: RTCRtpReceiver, bitrate: int, ssrcs: list[int]) -> None:
    """Tell the publisher behind `receiver` the bitrate it may send at."""
    rtcp_ssrc = receiver._RTCRtpReceiver__rtcp_ssrc  # type: ignore[attr-defined]
    if rtcp_ssrc is None:
        return
    await receiver._send_rtcp(RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0,
                                             fci=pack_remb_fci(bitrate, ssrcs)))
