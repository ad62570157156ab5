"""Closing a producer ends its keyframe task even when a keyframe request wakes that
task in the same loop turn as the close: the cancellation is not lost, so the close
(and the participant's leave that awaits it) returns."""

from __future__ import annotations

import asyncio

from aiortc import RTCPeerConnection
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from sfu.config import SfuSettings
from sfu.ids import ProducerId, TransportId
from sfu.producer import Producer


async def test_a_close_racing_a_keyframe_request_ends_the_keyframe_task() -> None:
    pc = RTCPeerConnection()
    try:
        transceiver = pc.addTransceiver("video", direction="recvonly")
        codec = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
        for _ in range(20):
            producer = Producer(ProducerId("p-close"), TransportId("t-close"), transceiver,
                                codec, SfuSettings())
            await asyncio.sleep(0.01)  # its keyframe task now waits for a wake-up
            # The wake-up and the close land in one loop turn, as when a subscriber
            # asks for a keyframe while the publisher leaves.
            producer.request_keyframe()
            closing = asyncio.ensure_future(producer.close())
            await asyncio.wait({closing}, timeout=10)  # a bound: it takes a few loop turns
            task = producer._keyframe_task
            assert task is not None
            if not closing.done():
                task.cancel()  # let the test end
            assert closing.done() and task.cancelled(), "the close never returned"
    finally:
        await pc.close()
