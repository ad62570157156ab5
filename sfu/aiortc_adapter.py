"""Every touch of aiortc's, aioice's and pylibsrtp's private internals lives in the
`aiortc_*` modules, one per facet:

- `aiortc_adapter` (this one): the start-up check, the ICE host addresses, and what a
  subscriber's RTCP does to a sender;
- `aiortc_receive`: a publisher's packets coming in, and PLI/REMB going back to it;
- `aiortc_rtp`: writing forwarded RTP on a subscriber's transport;
- `aiortc_peer`: what the test and benchmark peers need (the SFU does not use it).

aiortc is pinned to one exact version. `check_compatibility()` runs at start-up and
refuses to start, naming the aiortc version, when any attribute one of these modules
touches has moved.

What is hooked, and why:
- Receive side (`aiortc_receive`): `RTCRtpReceiver._handle_rtp_packet` is replaced per
  instance by a `ReceiveTap`. It keeps the statistics behind receiver reports, RTX
  unwrapping, NACK generation and the uplink bandwidth estimate, and hands each
  packet to the Producer synchronously. No frame is assembled, no payload parsed,
  nothing decoded. The estimate is aiortc's `RemoteBitrateEstimator`, fed once per
  burst, with its incoming-rate counter and its frame-period search replaced by lean
  ones of the same figures.
- Send side (`aiortc_rtp`): a `PacketWriter` serializes with the sender's
  header-extension map, SRTP-protects with the DTLS transport's context and writes
  the datagram to the nominated ICE pair's socket, synchronously. The sender's own
  counters and RTP history are kept current, so its sender reports carry real
  figures and NACKs from the subscriber are answered (through RTX when negotiated).
- A subscriber's RTCP is observed per sender (`SenderFeedback`): NACK counts, REMB,
  and the reception report behind loss, jitter and RTT.
- A subscriber's PLI/FIR reaches `RTCRtpSender._send_keyframe`, which is replaced per
  instance to ask the publisher instead of a (non-existent) encoder.
- aioice's host address discovery is replaced by the configured addresses.
- `aiortc_ports`: ICE host sockets bound from the configured UDP port range.
- aioice's ICE consent timing (`CONSENT_INTERVAL`, `CONSENT_FAILURES`, module globals
  read at every check) is set from `[sfu] consent_timeout_seconds`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import aioice.ice
import aiortc
import pylibsrtp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rate import RemoteBitrateEstimator
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtptransceiver import RTCRtpTransceiver
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_RTPFB_NACK,
    AnyRtcpPacket,
    RtcpPsfbPacket,
    RtcpRtpfbPacket,
    unpack_remb_fci,
)

from . import aiortc_ports

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
_ICE_TRANSPORT_ATTRS = ("_connection",)
_ICE_CONNECTION_ATTRS = ("_nominated", "data_received", "_protocols")
_RTP_ROUTER_ATTRS = ("ssrc_table", "route_rtp")
_ESTIMATOR_ATTRS = ("incoming_bitrate", "estimator")
_RATE_COUNTER_ATTRS = ("_window_size", "_scale")
_OVERUSE_ATTRS = ("ts_delta_hist", "update_min_frame_period")
"""What `aiortc_receive.BurstEstimator` reads and replaces of aiortc's estimator."""
_SRTP_SESSION_ATTRS = ("_srtp", "_cdata", "_buffer")
"""What `aiortc_rtp.DirectSrtp` reads of pylibsrtp, the SRTP binding aiortc brings."""
_PEER_SENDER_ATTRS = ("_rtx_ssrc", "_retransmit")
_PEER_VP8_ENCODER_ATTRS = ("_Vp8Encoder__target_bitrate",)
"""What `aiortc_peer` reads besides what the lists above name."""


class AiortcIncompatible(RuntimeError):
    """aiortc's internals are not what this SFU was written against."""


async def check_compatibility() -> None:
    """Refuse to run on an aiortc whose hooked internals have moved."""
    problems: list[str] = []
    if aiortc.__version__ != AIORTC_VERSION:
        problems.append(f"version is {aiortc.__version__}, expected {AIORTC_VERSION}")
    if not callable(getattr(aioice.ice, "get_host_addresses", None)):
        problems.append("aioice.ice.get_host_addresses is missing")
    for name in ("CONSENT_INTERVAL", "CONSENT_FAILURES"):
        if not isinstance(getattr(aioice.ice, name, None), int | float):
            problems.append(f"aioice.ice.{name} is missing")
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        problems += aiortc_ports.problems(pc)
        transceiver = pc.addTransceiver("video", direction="sendonly")
        dtls = transceiver.sender.transport
        estimator = RemoteBitrateEstimator()
        for obj, names in (
            (transceiver.receiver, _RECEIVER_ATTRS),
            (transceiver.sender, _SENDER_ATTRS + _PEER_SENDER_ATTRS),
            (transceiver, _TRANSCEIVER_ATTRS),
            (dtls, _TRANSPORT_ATTRS),
            (dtls.transport, _ICE_TRANSPORT_ATTRS),
            (getattr(dtls.transport, "_connection", None), _ICE_CONNECTION_ATTRS),
            (getattr(dtls, "_rtp_router", None), _RTP_ROUTER_ATTRS),
            (getattr(dtls, "_rtp_header_extensions_map", None), _EXTENSIONS_MAP_ATTRS),
            (Vp8Encoder(), _PEER_VP8_ENCODER_ATTRS),
            (estimator, _ESTIMATOR_ATTRS),
            (getattr(estimator, "incoming_bitrate", None), _RATE_COUNTER_ATTRS),
            (getattr(estimator, "estimator", None), _OVERUSE_ATTRS),
        ):
            if obj is None:
                continue  # its holder's own check names what is missing
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


# ---------------------------------------------------------------- ICE consent

CONSENT_CHECK_TIMEOUT_S = 0.5
"""How long aioice waits for the answer to one consent check (one STUN RTO)."""


def use_consent_timeout(seconds: float) -> None:
    """Close an ICE connection whose other end has answered no consent check for
    about `seconds` (RFC 7675 says 30 s); applies to every connection in this process.

    aioice checks every `CONSENT_INTERVAL` (randomised by +-20 %), each check waiting
    half a second for its answer, and gives up after `CONSENT_FAILURES` failed checks.
    """
    # Several checks must fail in a row: one late answer on a busy machine is no loss.
    failures = max(6, round(seconds / 5.5))
    aioice.ice.CONSENT_FAILURES = failures
    interval = max(0.2, seconds / failures - CONSENT_CHECK_TIMEOUT_S)
    aioice.ice.CONSENT_INTERVAL = interval  # type: ignore[assignment]  # a float works


def consent_timeout() -> float:
    """About how long a silent other end keeps an ICE connection open, as now set."""
    return float(aioice.ice.CONSENT_FAILURES
                 * (aioice.ice.CONSENT_INTERVAL + CONSENT_CHECK_TIMEOUT_S))


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


def order_codecs(transceiver: RTCRtpTransceiver, rank: Callable[[str], tuple[int, int]]
                 ) -> None:
    """Reorder the codecs negotiated from a remote offer by `rank` of their MIME type
    (stable; each RTX follows its codec), before the answer is made from them: the
    answer lists them in this order, and the browser sends the first."""
    codecs = list(transceiver._codecs)
    rtx = [c for c in codecs if c.mimeType.lower() == "video/rtx"]
    media = sorted((c for c in codecs if c not in rtx), key=lambda c: rank(c.mimeType))
    ordered: list[RTCRtpCodecParameters] = []
    for codec in media:
        ordered.append(codec)
        ordered += [r for r in rtx if r.parameters.get("apt") == codec.payloadType]
    ordered += [r for r in rtx if r not in ordered]
    transceiver._codecs = ordered


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


