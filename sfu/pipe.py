"""A pipe between two SFU workers: one producer's RTP one way, its feedback back.

`PipeTransport` is one end of a pipe: a UDP socket bound on an address the worker
chooses (a port of `[sfu] udp_ports` when a range is configured), talking to the other
end's address once it is known. The sending end writes each RTP packet of a producer
once; the receiving end sends back keyframe requests (PLI) and the bitrate its
subscribers can take (REMB), as RTCP. Plain RTP, no SRTP and no ICE: the two ends are
workers of one machine today and machines of one private network later, so an address
and a port is all either needs. RTP and RTCP share the socket and are told apart by
their second byte (RFC 5761). Datagrams from anywhere but the other end are dropped.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import Callable
from typing import Any, cast

from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    HeaderExtensionsMap,
    RtcpPacket,
    RtcpPsfbPacket,
    RtpPacket,
    pack_remb_fci,
    unpack_remb_fci,
)

from .aiortc_ports import bind_in_range

logger = logging.getLogger(__name__)

AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
AUDIO_LEVEL_ID = 1
"""The one header extension a pipe carries: the audio level, which the receiving
worker's consumers copy across (speaker detection stays on the sending worker)."""

Address = tuple[str, int]

RECEIVE_BUFFER_BYTES = 1 << 20
"""Room for a keyframe's burst of packets while the receiving worker is busy."""


def _extensions() -> HeaderExtensionsMap:
    extensions = HeaderExtensionsMap()
    extensions.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=AUDIO_LEVEL_ID, uri=AUDIO_LEVEL_URI)]))
    return extensions


def is_rtcp(data: bytes) -> bool:
    """RFC 5761: RTCP packet types 192-223 sit where RTP has marker and payload type."""
    return len(data) > 1 and 191 < data[1] < 224


class PipeTransport(asyncio.DatagramProtocol):
    """One end of a pipe. `on_rtp` takes each RTP packet that arrives (the receiving
    end), `on_keyframe_request` and `on_bitrate` the feedback (the sending end)."""

    def __init__(self, on_rtp: Callable[[RtpPacket], None] | None = None,
                 on_keyframe_request: Callable[[], None] | None = None,
                 on_bitrate: Callable[[int], None] | None = None) -> None:
        self.on_rtp = on_rtp
        self.on_keyframe_request = on_keyframe_request
        self.on_bitrate = on_bitrate
        self.remote: Address | None = None
        self.local: Address = ("", 0)
        self._transport: asyncio.DatagramTransport | None = None
        self._extensions = _extensions()
        self.closed = False
        # counters, read by the pipe figures
        self.rtp_sent = 0
        self.rtp_received = 0
        self.keyframe_requests_sent = 0
        self.keyframe_requests_received = 0
        self.remb_sent = 0
        self.remb_received = 0
        self.dropped = 0
        """Datagrams dropped: from another address, or unreadable."""

    @classmethod
    async def open(cls, host: str, ports: tuple[int, int] | None = None,
                   **callbacks: Any) -> PipeTransport:
        """An end bound on `host`, on a free port of `ports` (None: any port)."""
        if ports is not None:
            sock = bind_in_range(host, *ports)
        else:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                sock.bind((host, 0))
            except OSError:
                sock.close()
                raise
            sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        pipe = cls(**callbacks)
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: pipe, sock=sock)
        return pipe

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)
        self.local = transport.get_extra_info("sockname")[:2]

    def connect(self, host: str, port: int) -> None:
        """Talk to the other end at (host, port) from now on."""
        self.remote = (host, port)

    # ------------------------------------------------------------ sending

    def _send(self, data: bytes) -> bool:
        if self._transport is None or self.remote is None or self.closed:
            return False
        self._transport.sendto(data, self.remote)
        return True

    def send_rtp(self, packet: RtpPacket) -> int:
        """Write one packet into the pipe as it came from the publisher (its SSRC,
        payload type, numbering and audio level); returns the bytes written."""
        data = packet.serialize(self._extensions)
        if not self._send(data):
            return 0
        self.rtp_sent += 1
        return len(data)

    def send_keyframe_request(self, media_ssrc: int) -> None:
        if self._send(bytes(RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=0, media_ssrc=media_ssrc))):
            self.keyframe_requests_sent += 1

    def send_bitrate(self, bitrate: int, media_ssrc: int) -> None:
        packet = RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=0, media_ssrc=0,
                                fci=pack_remb_fci(bitrate, [media_ssrc]))
        if self._send(bytes(packet)):
            self.remb_sent += 1

    # ------------------------------------------------------------ receiving

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        if self.remote is None or tuple(addr[:2]) != self.remote or self.closed:
            self.dropped += 1
            return
        try:
            if is_rtcp(data):
                for packet in RtcpPacket.parse(data):
                    if isinstance(packet, RtcpPsfbPacket):
                        self._feedback(packet)
                return
            rtp = RtpPacket.parse(data, self._extensions)
        except (ValueError, struct.error):
            self.dropped += 1
            return
        self.rtp_received += 1
        if self.on_rtp is not None:
            self.on_rtp(rtp)

    def _feedback(self, packet: RtcpPsfbPacket) -> None:
        if packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
            self.keyframe_requests_received += 1
            if self.on_keyframe_request is not None:
                self.on_keyframe_request()
        elif packet.fmt == RTCP_PSFB_APP:
            try:
                bitrate, _ = unpack_remb_fci(packet.fci)
            except (ValueError, struct.error):
                self.dropped += 1
                return
            self.remb_received += 1
            if self.on_bitrate is not None:
                self.on_bitrate(bitrate)

    def error_received(self, exc: Exception) -> None:
        # The other end is gone (ICMP port unreachable on loopback): the pool closes the
        # pipe when it learns so; until then, writes go nowhere.
        logger.debug("pipe %s: %s", self.local, exc)

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()
