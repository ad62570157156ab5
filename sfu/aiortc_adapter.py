"""Every touch of aiortc's and aioice's private internals lives in this module.

aiortc is pinned to one exact version. `check_compatibility()` runs at start-up and
refuses to start, naming the aiortc version, when any hooked attribute has moved.

What is hooked, and why:
- Receive side: the receiver's jitter buffer is replaced by a tap, so no frame is
  ever assembled or decoded, while aiortc keeps doing receiver reports, NACKs, RTX
  unwrapping and REMB. `_handle_rtp_packet` is wrapped per instance so that, once
  aiortc has finished with a packet, the packet goes to the Producer.
- Send side: packets are serialized with the sender's header-extension map and
  written with `RTCDtlsTransport._send_rtp`. The sender's own counters and RTP
  history are kept current, so its sender reports carry real figures and NACKs from
  the subscriber are answered (through RTX when negotiated).
- A subscriber's PLI/FIR reaches `RTCRtpSender._send_keyframe`, which is replaced per
  instance to ask the publisher instead of a (non-existent) encoder.
- aioice's host address discovery is replaced by the configured addresses.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aioice.ice
import aiortc
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpReceiver, RTCRtpSender
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtptransceiver import RTCRtpTransceiver
from aiortc.rtp import RTP_HISTORY_SIZE, RtpPacket

logger = logging.getLogger(__name__)

AIORTC_VERSION = "1.16.0"

_RECEIVER_ATTRS = ("_RTCRtpReceiver__jitter_buffer", "_handle_rtp_packet", "_send_rtcp_pli")
_SENDER_ATTRS = (
    "_RTCRtpSender__rtp_history", "_RTCRtpSender__ntp_timestamp",
    "_RTCRtpSender__rtp_timestamp", "_RTCRtpSender__packet_count",
    "_RTCRtpSender__octet_count", "_RTCRtpSender__rtp_header_extensions_map",
    "_RTCRtpSender__started", "_RTCRtpSender__mid", "_send_keyframe", "_ssrc",
    "_handle_rtcp_packet",
)
_TRANSCEIVER_ATTRS = ("_codecs",)
_TRANSPORT_ATTRS = ("_send_rtp", "_rtp_header_extensions_map")


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


class _Tap:
    """Stands in for the receiver's jitter buffer: keeps the last packet, builds no frame."""

    __slots__ = ("packet", "sink")

    def __init__(self, sink: PacketSink) -> None:
        self.packet: RtpPacket | None = None
        self.sink = sink

    def add(self, packet: RtpPacket) -> tuple[bool, None]:
        self.packet = packet
        return False, None


PacketSink = Callable[[RtpPacket], Awaitable[None]]


def install_receive_tap(receiver: RTCRtpReceiver, sink: PacketSink) -> None:
    """After aiortc has handled each incoming packet, pass the packet to `sink`.

    The packet passed on is the one aiortc would have put into its jitter buffer:
    RTX already unwrapped, with a known payload type. Installing again on the same
    receiver (a track published anew on the same m-line) only replaces the sink.
    """
    current = receiver._RTCRtpReceiver__jitter_buffer  # type: ignore[attr-defined]
    if isinstance(current, _Tap):
        current.sink = sink
        return
    tap = _Tap(sink)
    receiver._RTCRtpReceiver__jitter_buffer = tap  # type: ignore[attr-defined]
    original = receiver._handle_rtp_packet

    async def handle_rtp_packet(packet: RtpPacket, arrival_time_ms: int) -> None:
        await original(packet, arrival_time_ms)
        forwarded = tap.packet
        if forwarded is not None:
            tap.packet = None
            await tap.sink(forwarded)

    receiver._handle_rtp_packet = handle_rtp_packet  # type: ignore[method-assign]


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


class PacketWriter:
    """Writes forwarded packets on one sender's transport, keeping the sender's books."""

    __slots__ = ("_sender", "_history", "_ext_map", "mid", "ssrc")

    def __init__(self, sender: RTCRtpSender) -> None:
        self._sender = sender
        self._history: dict[int, RtpPacket] = sender._RTCRtpSender__rtp_history  # type: ignore[attr-defined]
        self._ext_map: Any = sender._RTCRtpSender__rtp_header_extensions_map  # type: ignore[attr-defined]
        self.mid: str | None = sender._RTCRtpSender__mid  # type: ignore[attr-defined]
        self.ssrc = int(sender._ssrc)

    async def write(self, packet: RtpPacket, ntp_time: int) -> int:
        """Serialize and send; return the number of bytes of payload sent."""
        sender = self._sender
        data = packet.serialize(self._ext_map)
        await sender.transport._send_rtp(data)
        self._history[packet.sequence_number % RTP_HISTORY_SIZE] = packet
        size = len(packet.payload)
        sender._RTCRtpSender__ntp_timestamp = ntp_time  # type: ignore[attr-defined]
        sender._RTCRtpSender__rtp_timestamp = packet.timestamp  # type: ignore[attr-defined]
        sender._RTCRtpSender__packet_count += 1  # type: ignore[attr-defined]
        sender._RTCRtpSender__octet_count += size  # type: ignore[attr-defined]
        return size
