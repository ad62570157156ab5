"""A cheap publisher for the multi-stream modes: the test picture encoded once, replayed.

Encoding 640x480 VP8 live costs about a quarter of a core per publisher, so eight
live publishers would fill this machine before the SFU did any work. A process
therefore encodes `CYCLE` frames of the test picture once (with the same pinned
bitrate as the live publisher, and a keyframe every `GOP` frames), and each
`ReplaySender` sends those frames again and again, at 30 fps, as `av.Packet`s that
are only packetized. Frame numbers in the bar code run modulo `CYCLE`; RTP
timestamps keep growing by one frame (3000 ticks) per frame.

The replayed stream ignores keyframe requests and NACKs: a new subscriber gets the
next periodic keyframe, at most `GOP` frames (1 s) later.

`ReplaySender.fps` can be raised while it runs, for the workers mode's capacity
window: frames then leave faster than real time, with the same RTP timestamps.

The briefing mode's senders take their own frames and frame rate (thumbnails at
15 fps), and a speaker's sender answers keyframe requests, as a camera's encoder
does: the next frame leaves in its keyframe version (`encoded_keyframes`), so a
subscriber shown the speaker again need not wait for the next periodic keyframe.
"""

from __future__ import annotations

import asyncio
import random
import time
from functools import cache

from aiortc.rtcrtptransceiver import RTCRtpTransceiver
from av import Packet

from .pattern import FPS, TIME_BASE, VIDEO_CLOCK, PatternSource

CYCLE = 90
TICK_S = 0.01
GOP = 30
TICKS_PER_FRAME = VIDEO_CLOCK // FPS


@cache
def encoded_cycle(index: int, bitrate: int, size: tuple[int, int] | None = None,
                  gop: int = GOP) -> tuple[bytes, ...]:
    """VP8 frames 0 .. CYCLE-1 of publisher `index`'s picture, each a whole frame,
    scaled to `size` when one is given, with a keyframe every `gop` frames."""
    from aiortc.codecs.vpx import Vp8Encoder, VpxPayloadDescriptor

    source = PatternSource(index)
    encoder = Vp8Encoder()
    if bitrate:
        encoder.target_bitrate = bitrate
    frames = []
    for number in range(CYCLE):
        picture = source.frame(number)
        if size is not None:
            scaled = picture.reformat(width=size[0], height=size[1])
            scaled.pts, scaled.time_base = picture.pts, picture.time_base
            picture = scaled
        payloads, _ = encoder.encode(picture, force_keyframe=number % gop == 0)
        frames.append(b"".join(VpxPayloadDescriptor.parse(p)[1] for p in payloads))
    return tuple(frames)


@cache
def encoded_keyframes(index: int, bitrate: int) -> tuple[bytes, ...]:
    """Frames 0 .. CYCLE-1 of publisher `index`'s picture, each encoded as a keyframe:
    what a sender sends instead of the next frame when asked for a keyframe."""
    from aiortc.codecs.vpx import Vp8Encoder, VpxPayloadDescriptor

    source = PatternSource(index)
    frames = []
    for number in range(CYCLE):
        encoder = Vp8Encoder()
        if bitrate:
            encoder.target_bitrate = bitrate
        payloads, _ = encoder.encode(source.frame(number), force_keyframe=True)
        frames.append(b"".join(VpxPayloadDescriptor.parse(p)[1] for p in payloads))
    return tuple(frames)


def _packet(data: bytes) -> Packet:
    packet = Packet(data)
    packet.pts = 0
    packet.time_base = TIME_BASE
    return packet


class ReplaySender:
    """Sends the replayed picture on one video sender, writing the RTP itself.

    aiortc's sender path costs about 80 µs per packet in Python, so publishers sent
    through it would take a good part of a core in the workers mode's capacity window,
    a core the workers are measured on. Instead the sender's track never yields a
    frame (`sfu.transport.SilentTrack`) and this writes each packetized frame with
    the SFU's own `PacketWriter`: same header extensions, SRTP and socket as aiortc
    would use, and the history aiortc answers NACKs from.
    """

    def __init__(self, index: int, bitrate: int, frames: tuple[bytes, ...] | None = None,
                 fps: int = FPS, keyframes: tuple[bytes, ...] | None = None) -> None:
        self.frames = encoded_cycle(index, bitrate) if frames is None else frames
        self.keyframes = keyframes
        """Each frame as a keyframe, sent instead of the next one when a subscriber asks
        for a keyframe; None: keyframe requests are ignored."""
        self.keyframe_asked = False
        self.keyframes_sent = 0
        self.sent = 0
        """Frames sent."""
        self.real_fps = fps
        """The stream's own frame rate (its RTP timestamps' step)."""
        self.fps: float = fps
        """Frames sent per second; more than `real_fps` sends faster than real time."""
        self.task: asyncio.Task[None] | None = None

    def start(self, transceiver: RTCRtpTransceiver) -> None:
        self.task = asyncio.create_task(self._run(transceiver))

    async def _run(self, transceiver: RTCRtpTransceiver) -> None:
        from aiortc.codecs.vpx import Vp8Encoder

        from sfu import aiortc_adapter as adapter
        from sfu.aiortc_peer import ignore_nacks
        from sfu.aiortc_rtp import PacketWriter
        from sfu.clock import ntp_now

        sender = transceiver.sender
        while not adapter.sender_ready(sender):  # noqa: ASYNC110 (aiortc sets no event)
            await asyncio.sleep(0.02)
        writer = PacketWriter(sender)
        payload_type = int(adapter.negotiated_codecs(transceiver)[0].payloadType or 0)
        ignore_nacks(sender)  # a replayed stream does not retransmit
        if self.keyframes is not None:
            adapter.on_keyframe_request(sender, self._ask_keyframe)
        packetizer = Vp8Encoder()
        cycle = [packetizer.pack(_packet(frame))[0] for frame in self.frames]
        keys = [packetizer.pack(_packet(frame))[0] for frame in self.keyframes or ()]
        ticks_per_frame = VIDEO_CLOCK // self.real_fps
        seq = random.randrange(1 << 15)
        origin = random.randrange(1 << 32)
        due = time.monotonic()
        while True:
            now = time.monotonic()
            if due > now:
                # Above real time, wake at most every TICK_S and send every frame due:
                # a flood must not cost the machine a wakeup per frame.
                await asyncio.sleep(max(due - now, TICK_S if self.fps > self.real_fps else 0))
                now = time.monotonic()
            # The schedule may slip behind real time (a busy machine) but does not
            # build up a backlog that would then leave in one burst.
            due = max(due, now - 1.0)
            while due <= now:
                due += 1 / self.fps
                payloads = cycle[self.sent % len(cycle)]
                if self.keyframe_asked and keys:
                    payloads = keys[self.sent % len(keys)]
                    self.keyframe_asked = False
                    self.keyframes_sent += 1
                timestamp = (origin + self.sent * ticks_per_frame) & 0xFFFFFFFF
                ntp = ntp_now()
                for i, payload in enumerate(payloads):
                    try:
                        writer.write(payload_type, int(i == len(payloads) - 1), seq, timestamp,
                                     payload, None, ntp)
                    except ConnectionError:  # not connected yet, or closed
                        due = time.monotonic() + 0.02
                        break
                    seq = (seq + 1) & 0xFFFF
                else:
                    self.sent += 1

    def _ask_keyframe(self) -> None:
        self.keyframe_asked = True

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
