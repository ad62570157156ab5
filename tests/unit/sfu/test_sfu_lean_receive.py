"""The receive path does less per packet than aiortc's receiver and still gets what
aiortc would: the same parsed packets, bandwidth estimate and NACKs."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import pytest
from aiortc import RTCPeerConnection
from aiortc.rate import RemoteBitrateEstimator
from aiortc.rtcrtpparameters import (
    RTCRtpCodecParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpParameters,
)
from aiortc.rtcrtpreceiver import NackGenerator
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from sfu.aiortc_receive import BurstEstimator, ReceiveTap
from sfu.aiortc_rtp import RtpParser

EXTENSION_URIS = {
    "mid": "urn:ietf:params:rtp-hdrext:sdes:mid",
    "abs": "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "level": "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "toffset": "urn:ietf:params:rtp-hdrext:toffset",
    "rid": "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
}
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


def _outcome(parse: Callable[[bytes], RtpPacket], data: bytes) -> object:
    """What parsing `data` gives: the packet's fields, or the type of the error."""
    try:
        packet = parse(data)
    except Exception as exc:  # noqa: BLE001 - the type is what is compared
        return type(exc)
    return {**vars(packet), "extensions": vars(packet.extensions)}


def test_the_lean_parser_gives_what_aiortcs_gives() -> None:
    """Browser-like packets, other extensions, CSRCs, padding, two-byte extensions, and
    packets cut or corrupted anywhere: each gives the same packet as
    `RtpPacket.parse`, or the same error."""
    rng = random.Random(5)
    ids = {"mid": 3, "abs": 2, "level": 1, "toffset": 5, "rid": 10}
    extensions = HeaderExtensionsMap()
    extensions.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=i, uri=EXTENSION_URIS[name])
        for name, i in ids.items()]))
    parser = RtpParser(extensions)
    lean_parsed = 0
    for n in range(4000):
        packet = RtpPacket(payload_type=rng.choice([96, 111]), marker=rng.randint(0, 1),
                           sequence_number=rng.randrange(1 << 16),
                           timestamp=rng.randrange(1 << 32), ssrc=rng.randrange(1 << 32),
                           payload=rng.randbytes(rng.randrange(0, 300)))
        if rng.random() < 0.8:
            packet.extensions.mid = rng.choice(["0", "1", "12", "video"])
        if rng.random() < 0.8:
            packet.extensions.abs_send_time = rng.randrange(1 << 24)
        if rng.random() < 0.5:
            packet.extensions.audio_level = (rng.random() < 0.5, rng.randrange(128))
        if rng.random() < 0.05:
            packet.extensions.transmission_offset = rng.randrange(1 << 20)
        if rng.random() < 0.05:
            packet.extensions.rtp_stream_id = "hi"
        if rng.random() < 0.05:
            packet.csrc = [rng.randrange(1 << 32)]
        data = bytearray(packet.serialize(extensions))
        if rng.random() < 0.05:  # padding
            data[0] |= 0x20
            data += bytes(rng.randrange(1, 4)) + bytes([rng.randrange(0, 8)])
        if n % 3 == 1:  # corrupted: a byte of the header or extension block changed
            data[rng.randrange(min(len(data), 24))] = rng.randrange(256)
        elif n % 3 == 2:  # cut short
            data = data[:rng.randrange(len(data) + 1)]
        wire = bytes(data)
        expected = _outcome(lambda d: RtpPacket.parse(d, extensions), wire)
        assert _outcome(parser.parse, wire) == expected, wire.hex()
        lean_parsed += isinstance(expected, dict) and wire[0] == 0x90
    assert lean_parsed >= 1500  # most took the lean path, not aiortc's


def test_the_lean_parser_follows_a_renegotiated_map() -> None:
    extensions = HeaderExtensionsMap()
    extensions.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=2, uri=EXTENSION_URIS["abs"])]))
    parser = RtpParser(extensions)
    packet = RtpPacket(payload_type=96, sequence_number=1, ssrc=9, payload=b"x")
    packet.extensions.abs_send_time = 12345
    assert parser.parse(packet.serialize(extensions)).extensions.abs_send_time == 12345
    extensions.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=2, uri=EXTENSION_URIS["rid"]),
        RTCRtpHeaderExtensionParameters(id=4, uri=EXTENSION_URIS["abs"])]))
    packet.extensions.rtp_stream_id = "r0"
    wire = packet.serialize(extensions)
    assert _outcome(parser.parse, wire) == _outcome(lambda d: RtpPacket.parse(d, extensions),
                                                   wire)
    assert parser.parse(wire).extensions.abs_send_time == 12345
    assert parser.parse(wire).extensions.rtp_stream_id == "r0"


@pytest.mark.parametrize("block", [
    b"\x23\x00\x01\x02\x03",        # abs-send-time of 4 bytes
    b"\x21\x00\x01",                # abs-send-time of 2 bytes
    b"\x11\x80\x05",                # audio level of 2 bytes
    b"\x31\xff\xfe",                # a MID that is not UTF-8
    b"\x30\x41\x2f\x01\x02\x03",    # MID "A", then an element running past the block
    b"\x00\x00\x30\x41\x00\xf0\x07",  # padding, MID, padding, id 15, unknown id 0
    b"\x72\x01\x02\x03",            # an id nobody negotiated
    b"",                            # an empty block
])
def test_odd_extension_blocks_parse_as_aiortc_parses_them(block: bytes) -> None:
    extensions = HeaderExtensionsMap()
    extensions.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=i, uri=EXTENSION_URIS[name])
        for name, i in {"mid": 3, "abs": 2, "level": 1}.items()]))
    padded = block + bytes(-len(block) % 4)
    wire = (bytes([0x90, 96, 0, 1]) + bytes(8) + b"\xbe\xde"
            + (len(padded) // 4).to_bytes(2, "big") + padded + b"payload")
    assert _outcome(RtpParser(extensions).parse, wire) == _outcome(
        lambda d: RtpPacket.parse(d, extensions), wire)


def test_the_window_rate_counts_what_aiortcs_counter_counts() -> None:
    """Same rate as aiortc's `RateCounter` at every reading, over packets close
    together, gaps longer than the window, and resets."""
    from aiortc.rate import RateCounter

    from sfu.aiortc_receive import WindowRate

    rng = random.Random(9)
    theirs, ours = RateCounter(1000, 8000), WindowRate(1000, 8000)
    now = 10_000
    readings = 0
    for _ in range(20_000):
        now += rng.choice([0, 0, 1, 3, 33, 400, 998, 999, 1000, 1500])
        action = rng.random()
        if action < 0.6:
            size = rng.randrange(0, 1400)
            theirs.add(size, now)
            ours.add(size, now)
        elif action < 0.999:
            assert ours.rate(now) == theirs.rate(now)
            readings += theirs.rate(now) is not None
        else:
            theirs.reset()
            ours.reset()
    assert readings > 5000


def test_the_lean_frame_period_keeps_aiortcs_overuse_estimate() -> None:
    """The overuse estimator of a burst-fed estimate computes exactly what aiortc's
    own computes from the same deltas (its noise estimate uses the frame period)."""
    from aiortc.rate import BandwidthUsage, OveruseEstimator

    rng = random.Random(4)
    theirs = OveruseEstimator()
    ours = BurstEstimator(RemoteBitrateEstimator()).estimator.estimator
    for n in range(500):
        ts_delta = rng.choice([33.0, 33.3, 16.7, 66.6, 5.1 + rng.random()])
        args = (int(ts_delta) + rng.randint(-3, 3), ts_delta, rng.randint(-3000, 3000),
                BandwidthUsage.NORMAL, n * 33)
        theirs.update(*args)
        ours.update(*args)
        assert (ours.offset(), ours.var_noise, ours.avg_noise) == (
            theirs.offset(), theirs.var_noise, theirs.avg_noise)
