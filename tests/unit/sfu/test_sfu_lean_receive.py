"""The receive tap does less per packet than aiortc's receiver and still tells the
publisher what aiortc would: the same bandwidth estimate, the same NACKs."""

from __future__ import annotations

import random
from collections.abc import Iterator

from aiortc import RTCPeerConnection
from aiortc.rate import RemoteBitrateEstimator
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpreceiver import NackGenerator
from aiortc.rtp import RtpPacket

from sfu.aiortc_receive import BurstEstimator, ReceiveTap

FRAME_MS = 33
PACKETS_PER_FRAME = 5
PACKET_BYTES = 1100


def frames(seconds: int, queue_growth_ms: float = 0.0, from_s: float = 0.0
           ) -> Iterator[tuple[int, int, int]]:
    """(arrival ms, abs-send-time, size) of the packets of a 30 fps video stream sent
    back to back per frame; from `from_s` on, each frame queues `queue_growth_ms`
    longer on the way than the one before (a congested link)."""
    delay = 0.0
    rng = random.Random(7)
    for frame in range(seconds * 1000 // FRAME_MS):
        sent_ms = frame * FRAME_MS
        if sent_ms >= from_s * 1000:
            delay += queue_growth_ms
        arrival = sent_ms + 20 + int(delay) + rng.randint(0, 1)
        for packet in range(PACKETS_PER_FRAME):
            send_time = sent_ms + packet * 0.05
            yield arrival, int(send_time / 1000 * (1 << 18)) & 0xFFFFFF, PACKET_BYTES


def estimates(packets: list[tuple[int, int, int]], burst: bool) -> list[tuple[int, int]]:
    """(arrival ms, bit/s) of every estimate, fed per packet or per burst."""
    aiortc_estimator = RemoteBitrateEstimator()
    fed = BurstEstimator(aiortc_estimator) if burst else None
    out: list[tuple[int, int]] = []
    for arrival, abs_send_time, size in packets:
        if fed is not None:
            bps = fed.add(abs_send_time, arrival, size, 1234)
        else:
            remb = aiortc_estimator.add(arrival_time_ms=arrival, abs_send_time=abs_send_time,
                                        payload_size=size, ssrc=1234)
            bps = None if remb is None else int(remb[0])
        if bps is not None:
            out.append((arrival, bps))
    return out


def test_a_burst_fed_estimate_follows_aiortcs_own() -> None:
    """Fed once per frame instead of once per packet, aiortc's estimator gives the
    same estimates, within a few per cent and at most a frame later, on a clear link
    and when the link congests; and it was called once per frame."""
    clear = list(frames(30))
    per_packet, per_burst = estimates(clear, burst=False), estimates(clear, burst=True)
    assert len(per_packet) >= 10
    assert len(per_packet) - len(per_burst) <= 1  # the last burst is still being counted
    for (t_packet, a), (t_burst, b) in zip(per_packet, per_burst, strict=False):
        # A burst is counted when the next one starts: one frame later.
        assert 0 < t_burst - t_packet <= 2 * FRAME_MS
        assert abs(a - b) <= 0.05 * a
    counted = BurstEstimator(RemoteBitrateEstimator())
    for arrival, abs_send_time, size in clear:
        counted.add(abs_send_time, arrival, size, 1234)
    assert counted.bursts == len(clear) // PACKETS_PER_FRAME - 1

    congested = list(frames(40, queue_growth_ms=3, from_s=20))
    per_packet, per_burst = estimates(congested, burst=False), estimates(congested, burst=True)
    before = [bps for t, bps in per_burst if t < 20_000][-1]
    after = [bps for t, bps in per_burst if t >= 20_000]
    assert min(after) < 0.9 * before  # the congestion is seen and the estimate drops
    assert abs(min(after) - min(bps for t, bps in per_packet if t >= 20_000)) <= 0.05 * before


async def test_nack_state_is_aiortcs_after_every_packet() -> None:
    """In order, lost, reordered, duplicated, across the 16-bit wrap: after each packet
    the tap's NACK state is what aiortc's generator fed every packet holds, and the
    tap forwards every packet."""
    pc = RTCPeerConnection()
    receiver = pc.addTransceiver("video", direction="recvonly").receiver
    receiver._RTCRtpReceiver__codecs = {  # type: ignore[attr-defined]
        96: RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)}
    receiver._RTCRtpReceiver__nack_generator = NackGenerator()  # type: ignore[attr-defined]
    forwarded: list[int] = []
    tap = ReceiveTap(receiver, lambda p: forwarded.append(p.sequence_number), ssrcs=[1234])
    reference = NackGenerator()
    rng = random.Random(3)
    sent: list[int] = []
    seq = 65000
    for _ in range(3000):
        step = rng.choices([1, 2, 4, 0, -2], weights=[90, 4, 1, 2, 3])[0]
        seq = (seq + step) & 0xFFFF
        sent.append(seq)
        packet = RtpPacket(payload_type=96, sequence_number=seq, ssrc=1234)
        tap.receive(packet, 0)
        reference.add(packet)
        nack = receiver._RTCRtpReceiver__nack_generator  # type: ignore[attr-defined]
        assert (nack.max_seq, nack.missing) == (reference.max_seq, reference.missing)
    assert forwarded == sent
    assert tap.nacks_sent == 0  # no NACK is due before the loop runs its timer
    tap.close()
    await pc.close()
