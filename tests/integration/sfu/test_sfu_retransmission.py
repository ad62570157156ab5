"""A subscriber that loses packets gets them again from its consumer's own history,
through RTX, and its picture does not freeze."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sfu.aiortc_adapter import sender_ssrc
from sfu.aiortc_peer import filter_received, sender_rtx_ssrc
from sfu.config import SfuSettings
from tests.integration.bad_input import Meeting, dtls_of, keeps_decoding
from tests.integration.peers import Publisher, Subscriber

SETTINGS = SfuSettings(announced_addresses=["127.0.0.1"], stats_interval_ms=500)
DROP_EVERY = 5
"""Of the video RTP datagrams reaching the lossy subscriber, drop one in this many."""


@pytest.fixture
async def meeting() -> AsyncIterator[Meeting]:
    opened = await Meeting.open(SETTINGS)
    try:
        yield opened
    finally:
        await opened.close()


async def test_lost_packets_are_sent_again_through_rtx(meeting: Meeting) -> None:
    publisher, lossy = Publisher(index=2), Subscriber()
    lossy.expected_index["pub"] = 2
    _, producers = await meeting.publish(publisher)
    await meeting.subscribe(lossy, {"pub": producers})
    await keeps_decoding(lossy, "pub", 2, timeout=15)

    # From now on the subscriber's network loses every 5th video packet (RTP, not
    # RTCP, whose header stays readable under SRTP). Retransmissions come on the RTX
    # SSRC and are let through.
    video_consumer = next(c for c in meeting.router.consumers.values() if c.kind == "video")
    media_ssrc = sender_ssrc(video_consumer.transceiver.sender)
    rtx_ssrc = sender_rtx_ssrc(video_consumer.transceiver.sender)
    seen = {"video": 0, "dropped": 0, "rtx": 0}

    def lossy_network(data: bytes) -> bool:
        """False for the datagrams the network loses."""
        if len(data) >= 12 and 127 < data[0] < 192 and not 191 < data[1] < 209:
            ssrc = int.from_bytes(data[8:12], "big")
            if ssrc == media_ssrc:
                seen["video"] += 1
                if seen["video"] % DROP_EVERY == 0:
                    seen["dropped"] += 1
                    return False
            elif ssrc == rtx_ssrc:
                seen["rtx"] += 1
        return True

    filter_received(dtls_of(lossy.pc), lossy_network)
    # The picture goes on: frames keep coming, in order, with the right pattern.
    await keeps_decoding(lossy, "pub", 2, frames=120, audio_frames=100, timeout=20)
    assert seen["dropped"] >= 10
    # The subscriber asked again, and the consumer answered on the RTX stream.
    assert video_consumer.feedback.nacks >= seen["dropped"] // 2
    assert seen["rtx"] >= seen["dropped"] // 2
    outbound = next(s for s in (await meeting.engine.stats(meeting.router_id)).streams
                    if s.stream_id == video_consumer.id)
    assert outbound.nacks == video_consumer.feedback.nacks
