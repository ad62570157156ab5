"""The SFU engine forwards real aiortc media without transcoding."""

from __future__ import annotations

import pytest

from sfu.config import SfuSettings
from sfu.engine import Engine

from .conftest import wait_until
from .media import TONES
from .peers import Publisher, Subscriber


@pytest.fixture
async def engine():
    e = Engine(SfuSettings(announced_addresses=["127.0.0.1"]))
    await e.start()
    yield e
    await e.close()


async def test_subscriber_decodes_publishers_own_frames(engine: Engine) -> None:
    router = await engine.create_router()
    pub_t = await engine.create_transport(router, "publish")
    sub_t = await engine.create_transport(router, "subscribe")
    publisher = Publisher(index=1)
    subscriber = Subscriber()
    try:
        result = await engine.publish(pub_t, await publisher.offer())
        await publisher.accept(result.answer_sdp)
        assert sorted(p.kind for p in result.producers) == ["audio", "video"]
        for p in result.producers:
            await engine.consume(sub_t, p.producer_id)
        offer = await engine.create_offer(sub_t)
        for c in offer.consumers:
            subscriber.mid_labels[c.mid] = "pub1"
        subscriber.expected_index["pub1"] = 1
        await engine.apply_answer(sub_t, await subscriber.answer(offer.offer_sdp))
        def received() -> bool:
            video, audio = subscriber.video.get("pub1"), subscriber.audio.get("pub1")
            return bool(video and video.frames >= 30 and audio and audio.frames >= 50)

        await wait_until(received, 15, "30 video frames and 50 audio frames")
        video = subscriber.video["pub1"]
        assert set(video.indexes) == {1}
        numbers = video.frame_numbers
        assert all(b > a for a, b in zip(numbers, numbers[1:])), numbers
        assert video.worst_colour_distance < 40
        assert abs(subscriber.audio["pub1"].frequency() - TONES[1]) < 15
    finally:
        await subscriber.close()
        await publisher.pc.close()
