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
from collections.abc import AsyncIterator

import pytest

from sfu.config import SfuSettings
from sfu.ids import ProducerId

from .bad_input import Meeting, Resources, keeps_decoding, rtp, send_raw, sent_ssrc
from .peers import Publisher, Subscriber

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
                                       ) -> tuple[Publisher, Publisher, Subscriber,
                                                  dict[str, ProducerId]]:
    """'good' (pattern 1) and 'other' (pattern 2) publish; the watcher sees both."""
    good, other, watcher = Publisher(index=1), Publisher(index=2), Subscriber()
    watcher.expected_index.update(good=1, other=2)
    _, good_producers = await meeting.publish(good)
    _, other_producers = await meeting.publish(other)
    await meeting.subscribe(watcher, {"good": good_producers, "other": other_producers})
    await keeps_decoding(watcher, "good", 1, timeout=15)
    return good, other, watcher, other_producers


async def test_rtp_with_unknown_ssrc_or_payload_type_is_dropped(meeting: Meeting) -> None:
    _, rogue, watcher, rogue_producers = await two_publishers_and_a_watcher(meeting)
    video = meeting.router.producers[rogue_producers["video"]]
    real_ssrcs = {sent_ssrc(rogue, "video"), sent_ssrc(rogue, "audio")}
    negotiated = {int(c.payloadType or 0) for t in rogue.pc.getTransceivers()
                  for c in t._codecs}
    unknown_pt = next(pt for pt in range(96, 128) if pt not in negotiated)
    known_pt = int(video.codec.payloadType or 0)
    rtx_pt = next(int(c.payloadType or 0) for t in rogue.pc.getTransceivers() for c in t._codecs
                  if c.mimeType.lower() == "video/rtx")
    audio_pt = int(meeting.router.producers[rogue_producers["audio"]].codec.payloadType or 0)
    rng = random.Random(11)

    async def stray_packets() -> None:
        # Sent on SSRCs the publisher never announced (its own SSRCs carry its own
        # stream, protected with its own SRTP sequence).
        for i in range(600):
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
    audio = meeting.router.producers[rogue_producers["audio"]]
    assert video.tap.unknown_ssrc + audio.tap.unknown_ssrc >= 300
    assert sent_ssrc(rogue, "video") in video.tap.ssrcs and len(video.tap.ssrcs) <= 2
    for producer in (video, audio):
        assert set(producer.tap._streams) <= producer.tap.ssrcs
