"""`PipeTransport`: two real UDP ends on loopback. RTP goes through unchanged (SSRC,
numbering, payload, audio level); keyframe requests and REMB come back; datagrams from
any other address are dropped; a configured port range is kept."""

from __future__ import annotations

import asyncio
import socket

from aiortc.rtp import RtpPacket

from sfu.pipe import PipeTransport
from tests.integration.conftest import wait_until
from tests.integration.sfu.test_sfu_udp_ports import free_range


async def connected_pair(**sending: object) -> tuple[PipeTransport, PipeTransport,
                                                       list[RtpPacket]]:
    received: list[RtpPacket] = []
    sender = await PipeTransport.open("127.0.0.1", **sending)
    receiver = await PipeTransport.open("127.0.0.1", on_rtp=received.append)
    sender.connect(*receiver.local)
    receiver.connect(*sender.local)
    return sender, receiver, received


def packet(seq: int, level: int | None = None) -> RtpPacket:
    rtp = RtpPacket(payload_type=96, marker=seq % 2, sequence_number=seq % 65536,
                    timestamp=90000 + seq * 3000, ssrc=0x1234ABCD,
                    payload=bytes([seq % 256]) * 100)
    if level is not None:
        rtp.extensions.audio_level = (True, level)
    return rtp


async def test_rtp_goes_through_and_feedback_comes_back() -> None:
    keyframe_requests: list[None] = []
    bitrates: list[int] = []
    sender, receiver, received = await connected_pair(
        on_keyframe_request=lambda: keyframe_requests.append(None),
        on_bitrate=bitrates.append)
    try:
        sent = [packet(65530 + i, level=i) for i in range(10)]
        for rtp in sent:
            assert sender.send_rtp(rtp) > 100
        await wait_until(lambda: len(received) == 10, 5, "ten packets through the pipe")
        for got, want in zip(received, sent, strict=True):
            assert (got.ssrc, got.sequence_number, got.timestamp, got.marker,
                    got.payload_type, got.payload) == (
                want.ssrc, want.sequence_number, want.timestamp, want.marker,
                want.payload_type, want.payload)
            assert got.extensions.audio_level == want.extensions.audio_level
        assert sender.rtp_sent == receiver.rtp_received == 10

        receiver.send_keyframe_request(0x1234ABCD)
        receiver.send_bitrate(420_000, 0x1234ABCD)
        await wait_until(lambda: keyframe_requests and bitrates, 5, "PLI and REMB back")
        assert len(keyframe_requests) == 1
        # REMB's mantissa keeps 18 bits: the bitrate comes back within that precision.
        assert abs(bitrates[0] - 420_000) < 420_000 / 2**17
        assert sender.keyframe_requests_received == receiver.keyframe_requests_sent == 1
        assert sender.remb_received == receiver.remb_sent == 1
    finally:
        sender.close()
        receiver.close()


async def test_datagrams_from_elsewhere_are_dropped() -> None:
    sender, receiver, received = await connected_pair()
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        stranger.sendto(packet(1).serialize(), receiver.local)
        stranger.sendto(b"\x80\x60garbage", receiver.local)
        await wait_until(lambda: receiver.dropped == 2, 5, "the stranger's datagrams dropped")
        sender.send_rtp(packet(2))
        await wait_until(lambda: len(received) == 1, 5, "the sender's packet")
        assert received[0].sequence_number == 2
        await asyncio.sleep(0.1)
        assert len(received) == 1
    finally:
        stranger.close()
        sender.close()
        receiver.close()


async def test_an_end_binds_within_the_port_range() -> None:
    first, last = free_range(4)
    ends = [await PipeTransport.open("127.0.0.1", (first, last)) for _ in range(2)]
    try:
        assert all(first <= end.local[1] <= last for end in ends)
        assert ends[0].local != ends[1].local
    finally:
        for end in ends:
            end.close()
