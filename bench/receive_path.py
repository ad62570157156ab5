"""CPU of the SFU's receive path per incoming video packet, in a tight loop.

Parses serialized RTP (640x480 VP8 at 1.5 Mbit/s: 5 packets per frame, sent back to
back, with MID and abs-send-time) and hands each packet to a `ReceiveTap`, which keeps
the receiver-report statistics, NACK state and uplink estimate; nothing is forwarded.
Warm caches, no sockets or SRTP: it shows what the receive-side Python costs, not
what a packet costs the SFU process (`forwarding.py` measures that).

    .venv/bin/python bench/receive_path.py
"""

from __future__ import annotations

import asyncio
import os
import time

from aiortc import RTCPeerConnection
from aiortc.rate import RemoteBitrateEstimator
from aiortc.rtcrtpparameters import (
    RTCRtpCodecParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpParameters,
)
from aiortc.rtcrtpreceiver import NackGenerator
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from sfu.aiortc_receive import ReceiveTap
from sfu.aiortc_rtp import RtpParser

PACKETS = 6000
PACKETS_PER_FRAME = 5
ROUNDS = 7


def stream(extensions: HeaderExtensionsMap) -> list[tuple[int, bytes]]:
    """(arrival ms, datagram) of a 30 fps video stream."""
    out = []
    for i in range(PACKETS):
        frame = i // PACKETS_PER_FRAME
        packet = RtpPacket(payload_type=96, sequence_number=i % 65536, timestamp=frame * 3000,
                           ssrc=1234, payload=os.urandom(1100))
        packet.extensions.mid = "1"
        packet.extensions.abs_send_time = int(frame * 0.033 * (1 << 18) + i % 5 * 10) & 0xFFFFFF
        out.append((frame * 33, packet.serialize(extensions)))
    return out


async def measure() -> float:
    """The best of `ROUNDS` rounds, in CPU µs per packet."""
    extensions = HeaderExtensionsMap()
    extensions.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=4, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
        RTCRtpHeaderExtensionParameters(
            id=2, uri="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time")]))
    packets = stream(extensions)
    parse = RtpParser(extensions).parse
    best = float("inf")
    for round_ in range(ROUNDS):
        pc = RTCPeerConnection()
        receiver = pc.addTransceiver("video", direction="recvonly").receiver
        receiver._RTCRtpReceiver__codecs = {  # type: ignore[attr-defined]
            96: RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)}
        receiver._RTCRtpReceiver__nack_generator = NackGenerator()  # type: ignore[attr-defined]
        receiver._RTCRtpReceiver__remote_bitrate_estimator = (  # type: ignore[attr-defined]
            RemoteBitrateEstimator())
        tap = ReceiveTap(receiver, lambda packet: None, ssrcs=[1234])
        offset = round_ * 1_000_000
        started = time.process_time()
        for arrival_ms, data in packets:
            tap.receive(parse(data), arrival_ms + offset)
        best = min(best, (time.process_time() - started) / len(packets) * 1e6)
        tap.close()
        await pc.close()
    return best


def main() -> None:
    print(f"receive path: {asyncio.run(measure()):.2f} µs of CPU per video packet "
          f"(best of {ROUNDS} rounds of {PACKETS} packets)")


if __name__ == "__main__":
    main()
