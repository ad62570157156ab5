"""One participant's bad input hurts no one else, and leaves nothing behind.

Each test runs a meeting on an in-process `Engine` with real aiortc peers over
loopback: one participant misbehaves (stray RTP, malformed RTCP, a PLI flood, a
transport that never connects, a subscriber that vanishes) while a watcher keeps
decoding the other publishers' own frames, in order. After the engine is closed, no
task, socket or peer connection opened by the meeting is left.
"""

from __future__ import annotations

import asyncio
import random
import struct
import time
from collections.abc import AsyncIterator

import pytest
from aiortc.rtp import RTCP_PSFB_PLI, AnyRtcpPacket, RtcpPsfbPacket
from aiortc.sdp import SessionDescription

from sfu.aiortc_adapter import negotiated_codecs, sender_ssrc
from sfu.aiortc_peer import ice_protocols, observe_rtcp
from sfu.aiortc_receive import send_pli
from sfu.api import TransportClosed
from sfu.config import SfuSettings
from sfu.ids import ProducerId
from tests.integration.bad_input import (
    Meeting,
    Resources,
    dtls_of,
    keeps_decoding,
    rtp,
    send_raw,
    sent_ssrc,
)
from tests.integration.conftest import wait_until
from tests.integration.peers import Publisher, Subscriber

pytestmark = pytest.mark.timeout(20)

SETTINGS = SfuSettings(announced_addresses=["127.0.0.1"])
MIN_PLI_GAP_S = SETTINGS.pli_min_interval_ms / 1000


@pytest.fixture
async def meeting() -> AsyncIterator[Meeting]:
    """A meeting whose every task, socket and peer connection is gone after it closes."""
    resources = Resources.snapshot()
    opened = await Meeting.open(SETTINGS)
    try:
        yield opened
    finally:
        await opened.close()
        del opened
        await resources.assert_released()


async def two_publishers_and_a_watcher(meeting: Meeting
                                       ) -> tuple[Publisher, Subscriber,
                                                  dict[str, ProducerId], dict[str, ProducerId]]:
    """'good' (pattern 1) and 'other' (pattern 2) publish; the watcher sees both."""
    good, other, watcher = Publisher(index=1), Publisher(index=2), Subscriber()
    watcher.expected_index.update(good=1, other=2)
    _, good_producers = await meeting.publish(good)
    _, other_producers = await meeting.publish(other)
    await meeting.subscribe(watcher, {"good": good_producers, "other": other_producers})
    await keeps_decoding(watcher, "good", 1, timeout=15)
    return other, watcher, good_producers, other_producers


async def test_rtp_with_unknown_ssrc_or_payload_type_is_dropped(meeting: Meeting) -> None:
    rogue, watcher, _, rogue_producers = await two_publishers_and_a_watcher(meeting)
    video = meeting.router.producers[rogue_producers["video"]]
    real_ssrcs = {sent_ssrc(rogue, "video"), sent_ssrc(rogue, "audio")}
    negotiated = {int(c.payloadType or 0) for t in rogue.pc.getTransceivers()
                  for c in negotiated_codecs(t)}
    unknown_pt = next(pt for pt in range(96, 128) if pt not in negotiated)
    known_pt = int(video.codec.payloadType or 0)
    rtx_pt = next(int(c.payloadType or 0) for t in rogue.pc.getTransceivers()
                  for c in negotiated_codecs(t) if c.mimeType.lower() == "video/rtx")
    audio_pt = int(meeting.router.producers[rogue_producers["audio"]].codec.payloadType or 0)
    rng = random.Random(11)
    audio = meeting.router.producers[rogue_producers["audio"]]

    def counted_at_the_door() -> int:
        return video.tap.unknown_ssrc + audio.tap.unknown_ssrc

    async def stray_packets() -> None:
        # Sent on SSRCs the publisher never announced (its own SSRCs carry its own
        # stream, protected with its own SRTP sequence), in bursts, until the SFU has
        # counted 300 of them: UDP on a busy machine may drop some on the way.
        for i in range(3000):
            if i % 30 == 0 and counted_at_the_door() >= 300:
                return
            ssrc = rng.randrange(1, 1 << 32)
            while ssrc in real_ssrcs:
                ssrc = rng.randrange(1, 1 << 32)
            payload_type = (known_pt, unknown_pt, rtx_pt, audio_pt)[i % 4]
            await send_raw(rogue.pc, rtp(payload_type, ssrc, rng.randrange(1 << 16),
                                         rng.randrange(1 << 32),
                                         rng.randbytes(rng.randrange(1, 1200))))
            if i % 30 == 29:
                await asyncio.sleep(0.05)

    strays = asyncio.create_task(stray_packets())
    await keeps_decoding(watcher, "good", 1)
    await strays
    await keeps_decoding(watcher, "good", 1)
    await keeps_decoding(watcher, "other", 2)
    # Dropped at the door: no stray stream is counted, reported or forwarded.
    assert counted_at_the_door() >= 300
    assert sent_ssrc(rogue, "video") in video.tap.ssrcs and len(video.tap.ssrcs) <= 2
    for producer in (video, audio):
        assert producer.tap.counted_ssrcs() <= producer.tap.ssrcs


def malformed_rtcp(ssrc: int, rng: random.Random) -> list[bytes]:
    """RTCP that no parser should trust; each starts with a plausible header."""
    own = struct.pack("!L", ssrc)
    return [
        b"\x80\xc8\x00\x06" + own,                          # SR running past the datagram
        b"\x9f\xc9\x00\x01" + own,                          # RR of 31 reports, with none
        b"\x80\xcb\x00\x01" + own + b"\x81\xcb\x00\x05",    # BYE, then a cut header
        b"\x81\xca\x00\x02" + own + b"\x01\xff\x00\x00",    # SDES item longer than the packet
        b"\xa1\xcd\x00\x02" + own + own[:3] + b"\x00",      # NACK with a zero padding length
        b"\x80\xce\x00\x01" + own,                          # PLI without its media SSRC
        b"\x8f\xce\x00\x04" + own + b"\x00" * 4 + b"REMB\xff\x00\x00\x01",  # REMB of 255
        b"\x8f\xce\x00\x04" + own + b"\x00" * 4 + b"REMX\x01\x00\x00\x01",  # not a REMB
        b"\x81\xc9\x00\x07" + own + rng.randbytes(24),      # RR carrying random numbers
        b"\x80\xcc\x00\x02" + own + rng.randbytes(4),       # APP, a type nobody handles
        b"\x80\xc9\x00\x01" + own + rng.randbytes(37),      # garbage after a valid header
    ]


async def test_malformed_rtcp_is_dropped(meeting: Meeting) -> None:
    rogue, watcher, good_producers, _ = await two_publishers_and_a_watcher(meeting)
    rogue_watcher = Subscriber()
    rogue_watcher_transport = await meeting.subscribe(rogue_watcher, {"good": good_producers})
    await keeps_decoding(rogue_watcher, "good", 1, timeout=15)
    rng = random.Random(3)

    async def malformed() -> None:
        for _ in range(20):
            for peer, ssrc in ((rogue, sent_ssrc(rogue, "video")),
                               (rogue_watcher, rng.randrange(1 << 32))):
                for data in malformed_rtcp(ssrc, rng):
                    await send_raw(peer.pc, data)
            await asyncio.sleep(0.05)

    sending = asyncio.create_task(malformed())
    await keeps_decoding(watcher, "good", 1)
    await sending
    await keeps_decoding(watcher, "good", 1)
    # The senders of the malformed RTCP are no worse off either.
    await keeps_decoding(watcher, "other", 2)
    await keeps_decoding(rogue_watcher, "good", 1)
    assert not [e for e in meeting.events if isinstance(e, TransportClosed)]
    assert meeting.router.transports[rogue_watcher_transport].connection_state == "connected"


async def test_a_pli_flood_reaches_the_publisher_coalesced(meeting: Meeting) -> None:
    good, flooder, watcher = Publisher(index=1), Subscriber(), Subscriber()
    watcher.expected_index["good"] = 1
    _, producers = await meeting.publish(good)
    await meeting.subscribe(watcher, {"good": producers})
    flooder_transport = await meeting.subscribe(flooder, {"good": producers})
    await keeps_decoding(watcher, "good", 1, timeout=15)
    await keeps_decoding(flooder, "good", 1, timeout=15)
    # Every PLI the publisher's camera gets, as it arrives.
    plis: list[float] = []
    camera = next(t.sender for t in good.pc.getTransceivers() if t.kind == "video")

    def observe(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_PLI:
            plis.append(time.monotonic())

    observe_rtcp(camera, observe)
    consumer = next(c for c in meeting.router.consumers.values()
                    if c.transport_id == flooder_transport and c.kind == "video")
    receiver = next(t.receiver for t in flooder.pc.getTransceivers() if t.kind == "video")
    media_ssrc = sender_ssrc(consumer.transceiver.sender)

    async def flood() -> None:
        for i in range(500):
            await send_pli(receiver, media_ssrc)
            if i % 5 == 4:
                await asyncio.sleep(0.02)

    started = time.monotonic()
    flooding = asyncio.create_task(flood())
    await keeps_decoding(watcher, "good", 1, frames=45)
    await flooding
    await asyncio.sleep(MIN_PLI_GAP_S)
    elapsed = time.monotonic() - started
    assert consumer.keyframe_requests >= 450, "the flood did not reach the SFU"
    during = [t for t in plis if t >= started]
    # Coalesced: at most one PLI per window reached the publisher (the count is bounded
    # by the elapsed time, which a loaded machine only makes longer; the gaps between
    # arrivals are not asserted, since delivery jitter on a busy loop would move them).
    assert 1 <= len(during) <= elapsed / MIN_PLI_GAP_S + 1, (len(during), elapsed)
    assert len(during) * 10 < consumer.keyframe_requests, (len(during), consumer.keyframe_requests)
    await keeps_decoding(watcher, "good", 1)


def without_candidates(sdp: str) -> str:
    return "".join(line for line in sdp.splitlines(keepends=True)
                   if not line.startswith("a=candidate"))


async def test_consumers_whose_transport_never_connects_cost_nothing(meeting: Meeting) -> None:
    good, watcher = Publisher(index=1), Subscriber()
    watcher.expected_index["good"] = 1
    _, producers = await meeting.publish(good)
    await meeting.subscribe(watcher, {"good": producers})
    await keeps_decoding(watcher, "good", 1, timeout=15)
    engine = meeting.engine
    # One subscriber gets an offer and never answers.
    unanswered = await engine.create_transport(meeting.router_id, "subscribe")
    meeting.engine_pcs.append(meeting.router.transports[unanswered].pc)
    for producer in producers.values():
        await engine.consume(unanswered, producer)
    await engine.create_offer(unanswered)
    # Another answers with a well-formed description, but never does ICE: neither side
    # learns a candidate of the other.
    silent = Subscriber()
    meeting.subscribers.append(silent)
    never = await engine.create_transport(meeting.router_id, "subscribe")
    meeting.engine_pcs.append(meeting.router.transports[never].pc)
    for producer in producers.values():
        await engine.consume(never, producer)
    offer = await engine.create_offer(never)
    answer = await silent.answer(without_candidates(offer.offer_sdp))
    assert SessionDescription.parse(answer).media
    await engine.apply_answer(never, without_candidates(answer))
    video = meeting.router.producers[producers["video"]]
    requests_before = video.keyframe_requests_sent
    await keeps_decoding(watcher, "good", 1, frames=90, audio_frames=150)
    ghosts = [c for c in meeting.router.consumers.values()
              if c.transport_id in (unanswered, never)]
    # The one whose ICE fails is closed by the router with its consumers (a lost
    # connection); until then, it forwards nothing either.
    assert len([c for c in ghosts if c.transport_id == unanswered]) == 2
    assert len([c for c in ghosts if c.transport_id == never]) in (0, 2)
    assert all(not c.active and c.packets == 0 for c in ghosts)
    # A consumer that never started does not make the publisher send keyframes.
    assert video.keyframe_requests_sent <= requests_before + 1


async def test_a_subscriber_that_vanishes_hurts_no_one(meeting: Meeting) -> None:
    good, watcher, leaver, unplugged = Publisher(index=1), Subscriber(), Subscriber(), Subscriber()
    watcher.expected_index["good"] = 1
    _, producers = await meeting.publish(good)
    await meeting.subscribe(watcher, {"good": producers})
    leaver_transport = await meeting.subscribe(leaver, {"good": producers})
    await meeting.subscribe(unplugged, {"good": producers})
    for subscriber in (watcher, leaver, unplugged):
        await keeps_decoding(subscriber, "good", 1, timeout=15)
    # One closes its peer connection without a word to signaling; the other's UDP
    # sockets are closed under it, as when its process is killed.
    await leaver.close()
    for protocol in ice_protocols(dtls_of(unplugged.pc)):
        protocol.transport.close()
    await keeps_decoding(watcher, "good", 1, frames=60, audio_frames=100)
    await wait_until(lambda: any(isinstance(e, TransportClosed)
                                 and e.transport_id == leaver_transport
                                 for e in meeting.events), 5, "the leaver's transport closing")
    assert all(not c.active for c in meeting.router.consumers.values()
               if c.transport_id == leaver_transport)
    await keeps_decoding(watcher, "good", 1)
