"""Every touch of aiortc's and aioice's private internals lives in this module.

aiortc is pinned to one exact version. `check_compatibility()` runs at start-up and
refuses to start, naming the aiortc version, when any hooked attribute has moved.

What is hooked, and why:
- Receive side: `RTCRtpReceiver._handle_rtp_packet` is replaced per instance by a
  `ReceiveTap`. It keeps the statistics behind receiver reports, RTX unwrapping, NACK
  generation and the uplink bandwidth estimate, and hands each packet to the Producer
  synchronously. No frame is assembled, no payload parsed, nothing decoded.
- Send side: a `PacketWriter` serializes with the sender's header-extension map,
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
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpreceiver import NackGenerator, StreamStatistics
from aiortc.rtcrtptransceiver import RTCRtpTransceiver
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_RTPFB_NACK,
    RTP_HISTORY_SIZE,
    AnyRtcpPacket,
    HeaderExtensionsMap,
    RtcpPsfbPacket,
    RtcpRtpfbPacket,
    RtpPacket,
    pack_remb_fci,
    unpack_remb_fci,
    unwrap_rtx,
)
from pylibsrtp import SRTP_MAX_TRAILER_LEN
from pylibsrtp._binding import ffi as srtp_ffi
from pylibsrtp._binding import lib as srtp_lib

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
                or 191 < data[1] < 209 or dtls._state is not _CONNECTED):
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


_CONNECTED = DtlsState.CONNECTED
_RTP_HEADER = struct.Struct("!BBHII")
_RTP_HEADER_ONE_BYTE_EXT = struct.Struct("!BBHIIHH")
_ONE_BYTE_PROFILE = 0xBEDE


class HeaderTemplate:
    """Builds RTP packets for one sender exactly as `RtpPacket.serialize` would.

    The sender's MID, SSRC and header-extension ids do not change while it sends, so
    the extension block is assembled from prepared bytes instead of aiortc's general
    serializer, which rebuilds a list of extensions for every packet.
    """

    __slots__ = ("_ext_map", "mid", "ssrc", "_fast", "_mid_element", "_abs_send_time_byte",
                 "_audio_level_byte")

    def __init__(self, ext_map: HeaderExtensionsMap, mid: str | None, ssrc: int) -> None:
        self._ext_map = ext_map
        self.mid = mid
        self.ssrc = ssrc
        ids = ext_map._HeaderExtensionsMap__ids  # type: ignore[attr-defined]
        mid_bytes = mid.encode() if mid and ids.mid else b""
        used = [i for i in (ids.mid if mid_bytes else None, ids.abs_send_time, ids.audio_level)
                if i]
        # RFC 8285 one-byte extensions; anything else is rare and takes aiortc's path.
        self._fast = all(i <= 14 for i in used) and len(mid_bytes) <= 16
        self._mid_element = (bytes([(ids.mid << 4) | (len(mid_bytes) - 1)]) + mid_bytes
                             if mid_bytes else b"")
        self._abs_send_time_byte: int | None = (
            (ids.abs_send_time << 4) | 2 if ids.abs_send_time else None)
        self._audio_level_byte: int | None = (
            ids.audio_level << 4 if ids.audio_level else None)

    @property
    def fast(self) -> bool:
        """True when `header` can build this sender's headers (one-byte extensions)."""
        return self._fast

    def serialize(self, payload_type: int, marker: int, seq: int, timestamp: int,
                  payload: bytes, audio_level: tuple[bool, int] | None, ntp_time: int) -> bytes:
        if not self._fast:
            packet = RtpPacket(payload_type=payload_type, marker=marker, sequence_number=seq,
                               timestamp=timestamp, ssrc=self.ssrc, payload=payload)
            packet.extensions.mid = self.mid
            packet.extensions.abs_send_time = (ntp_time >> 14) & 0x00FFFFFF
            packet.extensions.audio_level = audio_level
            return packet.serialize(self._ext_map)
        return self.header(payload_type, marker, seq, timestamp, audio_level, ntp_time) + payload

    def header(self, payload_type: int, marker: int, seq: int, timestamp: int,
               audio_level: tuple[bool, int] | None, ntp_time: int) -> bytes:
        """The RTP header with its extension block; only when `fast`."""
        ext = self._mid_element
        if self._abs_send_time_byte is not None:
            t = (ntp_time >> 14) & 0x00FFFFFF
            ext += bytes((self._abs_send_time_byte, t >> 16, (t >> 8) & 0xFF, t & 0xFF))
        if audio_level is not None and self._audio_level_byte is not None:
            ext += bytes((self._audio_level_byte,
                          (0x80 if audio_level[0] else 0) | (audio_level[1] & 0x7F)))
        second = (marker << 7) | payload_type
        if not ext:
            return _RTP_HEADER.pack(0x80, second, seq, timestamp, self.ssrc)
        ext += b"\x00" * (-len(ext) % 4)
        return _RTP_HEADER_ONE_BYTE_EXT.pack(0x90, second, seq, timestamp, self.ssrc,
                                             _ONE_BYTE_PROFILE, len(ext) >> 2) + ext


class DirectSrtp:
    """SRTP protection of RTP with one of a transport's sessions, straight from its parts.

    `pylibsrtp.Session.protect` and `unprotect` check their argument, allocate a
    length cell and copy the packet in and out for every call. These write into the
    session's own buffer and call libsrtp on it: the same protection, without the
    allocation, and `protect` takes header and payload apart, sparing one copy.
    """

    __slots__ = ("session", "_context", "_cdata", "_buffer", "_capacity", "_length")

    def __init__(self, session: pylibsrtp.Session) -> None:
        self.session = session
        self._context = session._srtp[0]
        self._cdata = session._cdata
        self._buffer = session._buffer
        self._capacity = len(session._buffer) - SRTP_MAX_TRAILER_LEN
        self._length = srtp_ffi.new("int *")

    def protect(self, header: bytes, payload: bytes) -> bytes:
        size = len(header)
        end = size + len(payload)
        if end > self._capacity:
            return self.session.protect(header + payload)  # raises "packet is too long"
        buffer = self._buffer
        buffer[0:size] = header
        buffer[size:end] = payload
        length = self._length
        length[0] = end
        rc = srtp_lib.srtp_protect(self._context, self._cdata, length)
        if rc:
            raise pylibsrtp.Error(f"srtp_protect failed ({rc})")
        protected: bytes = buffer[0:length[0]]
        return protected

    def unprotect(self, data: bytes) -> bytes:
        """The RTP packet inside SRTP `data`; pylibsrtp.Error when it does not verify."""
        end = len(data)
        if end > self._capacity:
            return self.session.unprotect(data)  # raises "packet is too long"
        buffer = self._buffer
        buffer[0:end] = data
        length = self._length
        length[0] = end
        rc = srtp_lib.srtp_unprotect(self._context, self._cdata, length)
        if rc:
            raise pylibsrtp.Error(f"srtp_unprotect failed ({rc})")
        plain: bytes = buffer[0:length[0]]
        return plain


Kept = tuple[int, int, int, int, bytes]
"""A forwarded packet as the history keeps it: payload type, marker, seq, timestamp,
payload."""


class ForwardedHistory(dict[int, "RtpPacket | Kept"]):
    """A sender's retransmission history that keeps forwarded packets as plain tuples.

    aiortc's sender looks a lost packet up with `get` when a NACK comes; only then is
    the `RtpPacket` built, instead of for every packet forwarded.
    """

    __slots__ = ("ssrc", "mid")

    def __init__(self, ssrc: int, mid: str | None) -> None:
        super().__init__()
        self.ssrc = ssrc
        self.mid = mid

    def get(self, key: int, default: Any = None) -> Any:
        kept = super().get(key, default)
        if not isinstance(kept, tuple):
            return kept
        payload_type, marker, seq, timestamp, payload = kept
        packet = RtpPacket(payload_type=payload_type, marker=marker, sequence_number=seq,
                           timestamp=timestamp, ssrc=self.ssrc, payload=payload)
        packet.extensions.mid = self.mid
        return packet


class PacketWriter:
    """Writes forwarded packets on one sender's transport, keeping the sender's books.

    Writing is synchronous: build the header from the sender's `HeaderTemplate`,
    SRTP-protect it with the DTLS transport's context and hand the datagram to the
    nominated ICE pair's socket, as aiortc's `_send_rtp` would through four awaits.
    What each packet needs (the socket's `sendto`, the SRTP context) is looked up
    once, when the transport connects, and again only if the nominated pair changes.
    """

    __slots__ = ("_sender", "_dtls", "_nominated", "_history", "_template", "mid", "ssrc",
                 "_pair", "_sendto", "_address", "_protector")

    def __init__(self, sender: RTCRtpSender) -> None:
        self._sender = sender
        self._dtls = sender.transport
        self._nominated: dict[int, Any] = self._dtls.transport._connection._nominated
        self.mid: str | None = sender._RTCRtpSender__mid  # type: ignore[attr-defined]
        self.ssrc = int(sender._ssrc)
        history = sender._RTCRtpSender__rtp_history  # type: ignore[attr-defined]
        if not isinstance(history, ForwardedHistory):
            history = ForwardedHistory(self.ssrc, self.mid)
            sender._RTCRtpSender__rtp_history = history  # type: ignore[attr-defined]
        self._history: ForwardedHistory = history
        self._template = HeaderTemplate(
            sender._RTCRtpSender__rtp_header_extensions_map,  # type: ignore[attr-defined]
            self.mid, self.ssrc)
        self._pair: Any = None
        self._sendto: Callable[[bytes, tuple[str, int]], None] | None = None
        self._address: tuple[str, int] = ("", 0)
        self._protector: DirectSrtp | None = None

    def _attach(self) -> None:
        """Take the nominated pair's socket and the SRTP context; ConnectionError if
        there is no pair to send on."""
        pair = self._nominated.get(1)
        if pair is None or pair.protocol.transport is None:
            raise ConnectionError("no nominated ICE pair")
        self._pair, self._address = pair, pair.remote_addr
        self._sendto = pair.protocol.transport.sendto
        session = self._dtls._tx_srtp
        if self._protector is None or self._protector.session is not session:
            self._protector = DirectSrtp(session)

    def write(self, payload_type: int, marker: int, seq: int, timestamp: int, payload: bytes,
              audio_level: tuple[bool, int] | None, ntp_time: int) -> int:
        """Send one packet; return the number of bytes of payload sent.

        Raises ConnectionError when the transport is not (or no longer) connected.
        """
        if self._dtls._state is not _CONNECTED:
            raise ConnectionError("transport not connected")
        if self._nominated.get(1) is not self._pair:
            self._attach()
        template = self._template
        if template.fast:
            data = self._protector.protect(  # type: ignore[union-attr]
                template.header(payload_type, marker, seq, timestamp, audio_level, ntp_time),
                payload)
        else:
            data = self._dtls._tx_srtp.protect(template.serialize(
                payload_type, marker, seq, timestamp, payload, audio_level, ntp_time))
        self._sendto(data, self._address)  # type: ignore[misc]
        # Kept for retransmission on NACK (aiortc wraps it in RTX when negotiated).
        self._history[seq % RTP_HISTORY_SIZE] = (payload_type, marker, seq, timestamp, payload)
        size = len(payload)
        sender = self._sender
        sender._RTCRtpSender__ntp_timestamp = ntp_time  # type: ignore[attr-defined]
        sender._RTCRtpSender__rtp_timestamp = timestamp  # type: ignore[attr-defined]
        sender._RTCRtpSender__packet_count += 1  # type: ignore[attr-defined]
        sender._RTCRtpSender__octet_count += size  # type: ignore[attr-defined]
        return size
