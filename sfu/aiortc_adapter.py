"""Every touch of aiortc's and aioice's private internals lives in this module and in
`aiortc_rtp.py` (writing RTP).

aiortc is pinned to one exact version. `check_compatibility()` runs at start-up and
refuses to start, naming the aiortc version, when any hooked attribute has moved.

What is hooked, and why:
- Receive side: `RTCRtpReceiver._handle_rtp_packet` is replaced per instance by a
  `ReceiveTap`. It keeps the statistics behind receiver reports, RTX unwrapping, NACK
  generation and the uplink bandwidth estimate, and hands each packet to the Producer
  synchronously. No frame is assembled, no payload parsed, nothing decoded.
- Send side (`aiortc_rtp.py`): a `PacketWriter` serializes with the sender's header-extension map,
  SRTP-protects with the DTLS transport's context and writes the datagram to the
  nominated ICE pair's socket, synchronously. The sender's own counters and RTP
  history are kept current, so its sender reports carry real figures and NACKs from
  the subscriber are answered (through RTX when negotiated).
- A subscriber's RTCP is observed per sender (`SenderFeedback`): NACK counts, REMB,
  and the reception report behind loss, jitter and RTT.
- A subscriber's PLI/FIR reaches `RTCRtpSender._send_keyframe`, which is replaced per
  instance to ask the publisher instead of a (non-existent) encoder.
- aioice's host address discovery is replaced by the configured addresses.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable, Collection, Sequence
from typing import Any

import aioice.ice
import aiortc
import pylibsrtp
from aiortc import (
    RTCConfiguration,
    RTCDtlsTransport,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
)
from aiortc.rate import RemoteBitrateEstimator
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpreceiver import NackGenerator, StreamStatistics
from aiortc.rtcrtptransceiver import RTCRtpTransceiver
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_RTPFB_NACK,
    AnyRtcpPacket,
    RtcpPsfbPacket,
    RtcpRtpfbPacket,
    RtpPacket,
    pack_remb_fci,
    unpack_remb_fci,
    unwrap_rtx,
)

from .aiortc_rtp import CONNECTED, DirectSrtp
from .clock import ms_now

logger = logging.getLogger(__name__)

AIORTC_VERSION = "1.16.0"

_RECEIVER_ATTRS = (
    "_handle_rtp_packet", "_send_rtcp_pli", "_send_rtcp_nack", "_send_rtcp", "_enabled",
    "_RTCRtpReceiver__codecs", "_RTCRtpReceiver__rtx_ssrc", "_RTCRtpReceiver__remote_streams",
    "_RTCRtpReceiver__nack_generator", "_RTCRtpReceiver__remote_bitrate_estimator",
    "_RTCRtpReceiver__rtcp_ssrc",
)
_SENDER_ATTRS = (
    "_RTCRtpSender__rtp_history", "_RTCRtpSender__ntp_timestamp",
    "_RTCRtpSender__rtp_timestamp", "_RTCRtpSender__packet_count",
    "_RTCRtpSender__octet_count", "_RTCRtpSender__rtp_header_extensions_map",
    "_RTCRtpSender__started", "_RTCRtpSender__mid", "_send_keyframe", "_ssrc",
    "_handle_rtcp_packet", "_RTCRtpSender__stats",
)
_TRANSCEIVER_ATTRS = ("_codecs",)
_EXTENSIONS_MAP_ATTRS = ("_HeaderExtensionsMap__ids",)
_TRANSPORT_ATTRS = (
    "_send_rtp", "_rtp_header_extensions_map", "_state", "_tx_srtp", "_rx_srtp",
    "_RTCDtlsTransport__rx_bytes", "_RTCDtlsTransport__rx_packets", "_rtp_router",
    "_handle_rtcp_data",
)
_ICE_CONNECTION_ATTRS = ("_nominated", "data_received", "_protocols")
_RTP_ROUTER_ATTRS = ("ssrc_table", "route_rtp")
_SRTP_SESSION_ATTRS = ("_srtp", "_cdata", "_buffer")
"""What `aiortc_rtp.DirectSrtp` reads of pylibsrtp, the SRTP binding aiortc brings."""


class AiortcIncompatible(RuntimeError):
    """aiortc's internals are not what this SFU was written against."""


async def check_compatibility() -> None:
    """Refuse to run on an aiortc whose hooked internals have moved."""
    problems: list[str] = []
    if aiortc.__version__ != AIORTC_VERSION:
        problems.append(f"version is {aiortc.__version__}, expected {AIORTC_VERSION}")
    if not callable(getattr(aioice.ice, "get_host_addresses", None)):
        problems.append("aioice.ice.get_host_addresses is missing")
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        transceiver = pc.addTransceiver("video", direction="sendonly")
        for obj, names in (
            (transceiver.receiver, _RECEIVER_ATTRS),
            (transceiver.sender, _SENDER_ATTRS),
            (transceiver, _TRANSCEIVER_ATTRS),
            (transceiver.sender.transport, _TRANSPORT_ATTRS),
            (transceiver.sender.transport.transport._connection, _ICE_CONNECTION_ATTRS),
            (transceiver.sender.transport._rtp_router, _RTP_ROUTER_ATTRS),
            (transceiver.sender.transport._rtp_header_extensions_map, _EXTENSIONS_MAP_ATTRS),
        ):
            for name in names:
                if not hasattr(obj, name):
                    problems.append(f"{type(obj).__name__}.{name} is missing")
        session = pylibsrtp.Session()
        for name in _SRTP_SESSION_ATTRS:
            if not hasattr(session, name):
                problems.append(f"pylibsrtp.Session.{name} is missing")
    finally:
        await pc.close()
    if problems:
        raise AiortcIncompatible(
            f"the SFU forwards RTP through aiortc {AIORTC_VERSION} internals, but the installed "
            f"aiortc {aiortc.__version__} differs: " + "; ".join(problems)
            + f". Install aiortc=={AIORTC_VERSION}."
        )


# ---------------------------------------------------------------- ICE host addresses


def use_host_addresses(addresses: Sequence[str]) -> None:
    """Bind and announce exactly these addresses (loopback included) in host candidates.

    An empty list keeps aioice's own discovery (every non-loopback interface).
    """
    if not addresses:
        return
    fixed = list(addresses)

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in fixed if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = get_host_addresses


# ---------------------------------------------------------------- receive side


PacketSink = Callable[[RtpPacket], None]


NACK_DELAY_S = 0.01
"""How long a receive tap waits after a loss before asking for what is missing."""


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
                 "unknown_ssrc", "_codecs", "_rtx_payload_types", "_rtx_ssrc", "_streams",
                 "_nack", "_estimator", "_nack_due")

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
        self._estimator: RemoteBitrateEstimator | None = (
            receiver._RTCRtpReceiver__remote_bitrate_estimator)  # type: ignore[attr-defined]
        self._nack_due: asyncio.TimerHandle | None = None

    async def handle(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        """aiortc's entry point, for packets that arrive the usual way."""
        self.receive(packet, arrival_time_ms)

    def receive(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        if not self.receiver._enabled:
            return
        estimator = self._estimator
        if estimator is not None and packet.extensions.abs_send_time is not None:
            remb = estimator.add(abs_send_time=packet.extensions.abs_send_time,
                                 arrival_time_ms=arrival_time_ms,
                                 payload_size=len(packet.payload) + packet.padding_size,
                                 ssrc=packet.ssrc)
            if remb is not None:
                self.uplink_bps = int(remb[0])
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
        if nack is not None and nack.add(packet) and self._nack_due is None:
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
    DTLS, RTCP, packets for other receivers) keeps aiortc's path. Call it once the
    transport is connected; calling it again does nothing.
    """
    connection = dtls.transport._connection
    if getattr(connection, "_giaoban_fast_receive", False):
        return
    connection._giaoban_fast_receive = True  # type: ignore[attr-defined]
    queued = connection.data_received
    router = dtls._rtp_router
    ext_map = dtls._rtp_header_extensions_map
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
            packet = RtpPacket.parse(plain, ext_map)
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


# ---------------------------------------------------------------- send side


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call `callback` when the subscriber sends a PLI or FIR for this sender."""
    sender._send_keyframe = callback  # type: ignore[method-assign]


def sender_ready(sender: RTCRtpSender) -> bool:
    """True once aiortc has started the sender (header extensions and RTCP are set up)."""
    return bool(sender._RTCRtpSender__started)  # type: ignore[attr-defined]


def sender_ssrc(sender: RTCRtpSender) -> int:
    return int(sender._ssrc)


def negotiated_codecs(transceiver: RTCRtpTransceiver) -> list[RTCRtpCodecParameters]:
    return list(transceiver._codecs)


class SenderFeedback:
    """What a subscriber's RTCP says about one sender: NACKs, REMB, reception report.

    aiortc's own handling still runs (it answers NACKs from the sender's history,
    through RTX when negotiated, and keeps the remote-inbound statistics).
    """

    __slots__ = ("sender", "nacks", "remb_bps")

    def __init__(self, sender: RTCRtpSender) -> None:
        self.sender = sender
        self.nacks = 0
        """Packets the subscriber asked to be sent again."""
        self.remb_bps: int | None = None
        """The subscriber's latest receiver-estimated maximum bitrate for this sender."""

    def report(self) -> tuple[int, float, float, float | None] | None:
        """(packets lost, fraction lost 0..1, jitter in RTP units, RTT in seconds)."""
        stats = self.sender._RTCRtpSender__stats  # type: ignore[attr-defined]
        for entry in stats.values():
            if entry.type == "remote-inbound-rtp":
                return (int(entry.packetsLost), entry.fractionLost / 256, float(entry.jitter),
                        entry.roundTripTime)
        return None


def install_sender_feedback(sender: RTCRtpSender) -> SenderFeedback:
    """Observe the subscriber's RTCP for `sender`; a sender reused by a new consumer
    keeps its one observer, with the REMB forgotten."""
    current = getattr(sender, "_giaoban_feedback", None)
    if isinstance(current, SenderFeedback):
        current.remb_bps = None
        return current
    feedback = SenderFeedback(sender)
    sender._giaoban_feedback = feedback  # type: ignore[attr-defined]
    original = sender._handle_rtcp_packet
    ssrc = int(sender._ssrc)

    async def handle_rtcp_packet(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            feedback.nacks += len(packet.lost)
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            try:
                bitrate, ssrcs = unpack_remb_fci(packet.fci)
            except ValueError:
                return
            if ssrc in ssrcs:
                feedback.remb_bps = int(bitrate)
            return
        await original(packet)

    sender._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]
    return feedback


async def send_remb(receiver: RTCRtpReceiver, bitrate: int, ssrcs: list[int]) -> None:
    """Tell the publisher behind `receiver` the bitrate it may send at."""
    rtcp_ssrc = receiver._RTCRtpReceiver__rtcp_ssrc  # type: ignore[attr-defined]
    if rtcp_ssrc is None:
        return
    await receiver._send_rtcp(RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0,
                                             fci=pack_remb_fci(bitrate, ssrcs)))
