"""The test and benchmark peers' view of aiortc internals.

Tests and benchmarks drive real aiortc peers, and some of what they do needs what
aiortc keeps private: a peer's ICE sockets (to impair, unplug or count them), its
receivers' per-SSRC statistics, hand-made SRTP, a sender's RTX SSRC, a cheaper
receive path for load generators. All of it is here, and `aiortc_adapter`'s start-up
check covers these internals too. The SFU itself does not use this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aioice.ice import StunProtocol
from aiortc import RTCDtlsTransport, RTCRtpReceiver, RTCRtpSender
from aiortc.codecs import is_rtx
from aiortc.rtcrtpreceiver import StreamStatistics
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    AnyRtcpPacket,
    RtcpPsfbPacket,
    RtpPacket,
    pack_remb_fci,
    unpack_remb_fci,
)


def ice_protocols(dtls: RTCDtlsTransport) -> list[StunProtocol]:
    """The socket protocols of `dtls`'s ICE connection, one per local candidate.

    Each has `transport` (its asyncio datagram transport), `datagram_received` (what
    the socket delivers) and `send_data` (what ICE sends through it).
    """
    return list(dtls.transport._connection._protocols)


def filter_received(dtls: RTCDtlsTransport, keep: Callable[[bytes], bool]) -> None:
    """Drop each datagram reaching `dtls` (past ICE, before DTLS and SRTP) for which
    `keep` returns False; `keep` sees every datagram, STUN aside."""
    connection = dtls.transport._connection
    deliver = connection.data_received

    def data_received(data: bytes, component: int) -> None:
        if keep(data):
            deliver(data, component)

    connection.data_received = data_received  # type: ignore[method-assign]


async def send_protected(dtls: RTCDtlsTransport, data: bytes) -> None:
    """SRTP-protect `data` (RTP, or RTCP by its packet type) and send it on the
    connected transport, as a misbehaving endpoint would."""
    await dtls._send_rtp(data)


def sender_rtx_ssrc(sender: RTCRtpSender) -> int:
    """The SSRC `sender` retransmits on when RTX is negotiated."""
    return int(sender._rtx_ssrc)


def observe_rtcp(sender: RTCRtpSender, observer: Callable[[AnyRtcpPacket], None]) -> None:
    """Call `observer` with every RTCP packet `sender` receives, before aiortc handles it."""
    handle = sender._handle_rtcp_packet

    async def handle_rtcp_packet(packet: AnyRtcpPacket) -> None:
        observer(packet)
        await handle(packet)

    sender._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]


@dataclass
class KeyframeAsks:
    """The keyframe requests (PLI or FIR) a sender has received."""

    count: int = 0
    ignore: int = 0
    """How many of the next requests to leave unanswered, as if they were lost."""


def keyframes_only_when_asked(sender: RTCRtpSender) -> KeyframeAsks:
    """Make `sender` send a keyframe only at its start and when a PLI or FIR asks.

    aiortc's VP8 encoder restarts, with a keyframe, whenever the REMB it is given moves
    the bitrate by more than 10 %, and the SFU's aggregated REMB does that every few
    seconds; such a publisher re-keys by itself and hides whether the SFU asks for
    keyframes and withholds video until one passes. Here the sender never sees a REMB,
    so its encoder keeps its starting bitrate; every other RTCP packet is handled as
    usual. Returns the running count of keyframe requests received.
    """
    asked = KeyframeAsks()
    handle = sender._handle_rtcp_packet

    async def handle_rtcp_packet(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpPsfbPacket):
            if packet.fmt == RTCP_PSFB_APP:
                return
            if packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
                asked.count += 1
                if asked.ignore > 0:
                    asked.ignore -= 1
                    return
        await handle(packet)

    sender._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]
    return asked


def report_remb(receiver: RTCRtpReceiver, bps: int) -> None:
    """Make `receiver` report `bps` in each REMB it sends, as a subscriber whose link
    carries that much would (aiortc's own estimate follows what arrives, so on
    loopback it says little about what a subscriber can take)."""
    send = receiver._send_rtcp

    async def send_rtcp(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            try:
                bitrate, ssrcs = unpack_remb_fci(packet.fci)
            except ValueError:
                pass
            else:
                packet = RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=packet.ssrc, media_ssrc=0,
                                        fci=pack_remb_fci(bps, ssrcs))
        await send(packet)

    receiver._send_rtcp = send_rtcp  # type: ignore[method-assign]


def observe_rtp(receiver: RTCRtpReceiver, observer: Callable[[RtpPacket], None]) -> None:
    """Call `observer` with every RTP packet `receiver` gets, before aiortc handles it."""
    handle = receiver._handle_rtp_packet

    async def handle_rtp_packet(packet: RtpPacket, arrival_time_ms: int) -> None:
        observer(packet)
        await handle(packet, arrival_time_ms)

    receiver._handle_rtp_packet = handle_rtp_packet  # type: ignore[method-assign]


def ignore_nacks(sender: RTCRtpSender) -> None:
    """Make `sender` answer no NACK (a replayed stream keeps no history to resend)."""

    async def retransmit(sequence_number: int) -> None:
        return None

    sender._retransmit = retransmit  # type: ignore[method-assign]


def receiver_streams(receiver: RTCRtpReceiver) -> dict[int, StreamStatistics]:
    """The receiver's statistics of each incoming SSRC, RTX included.

    aiortc's `inbound-rtp` stats keep one entry per receiver, so once an RTX stream
    exists it overwrites the media stream's figures; these stay apart.
    """
    streams: dict[int, StreamStatistics] = vars(receiver)["_RTCRtpReceiver__remote_streams"]
    return dict(streams)


def count_instead_of_decoding(receiver: RTCRtpReceiver,
                              on_media: Callable[[RtpPacket], None]) -> None:
    """Make `receiver` keep only its receiver-report statistics (so receiver reports
    still flow) and call `on_media` with each media packet of a negotiated payload
    type; RTX is counted in the statistics only. Nothing is reassembled or decoded."""
    streams: dict[int, StreamStatistics] = vars(receiver)["_RTCRtpReceiver__remote_streams"]
    codecs: dict[int, Any] = vars(receiver)["_RTCRtpReceiver__codecs"]

    async def handle(packet: RtpPacket, arrival_time_ms: int) -> None:
        codec = codecs.get(packet.payload_type)
        if codec is None:
            return
        stats = streams.get(packet.ssrc)
        if stats is None:
            stats = streams[packet.ssrc] = StreamStatistics(codec.clockRate)
        stats.add(packet)
        if not is_rtx(codec):
            on_media(packet)

    receiver._handle_rtp_packet = handle  # type: ignore[method-assign]


def pin_vp8_bitrate(bps: int) -> None:
    """Make every VP8 encoder of this process run at `bps`, whatever REMB says.

    aiortc's rate control starts at 250-500 kbit/s and climbs by a few percent a
    second up to 1.5 Mbit/s, so in a bounded benchmark run the bitrate (and packet
    rate) would depend on when the window starts; pinned, every run has the steady
    state of an uncongested link. A load generator does not run the SFU's start-up
    check, so this checks its one internal itself.
    """
    from aiortc.codecs import vpx

    private = "_Vp8Encoder__target_bitrate"
    if not hasattr(vpx.Vp8Encoder(), private):
        raise RuntimeError(f"cannot pin the VP8 bitrate: aiortc's Vp8Encoder has no {private}")
    original_init = vpx.Vp8Encoder.__init__

    def __init__(self: Any) -> None:
        original_init(self)
        setattr(self, private, bps)

    vpx.Vp8Encoder.__init__ = __init__  # type: ignore[method-assign]
    vpx.Vp8Encoder.target_bitrate = property(  # type: ignore[method-assign, assignment]
        lambda self: getattr(self, private), lambda self, value: None)
