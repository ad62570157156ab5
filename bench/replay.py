"""A cheap publisher for the multi-stream modes: the test picture encoded once, replayed.

Encoding 640x480 VP8 live costs about a quarter of a core per publisher, so eight
live publishers would fill this machine before the SFU did any work. A process
therefore encodes `CYCLE` frames of the test picture once (with the same pinned
bitrate as the live publisher, and a keyframe every `GOP` frames), and each
`ReplayTrack` sends those frames again and again, at 30 fps, as `av.Packet`s that
aiortc only packetizes. Frame numbers in the bar code run modulo `CYCLE`; RTP
timestamps keep growing by one frame (3000 ticks) per frame.

The replayed stream ignores keyframe requests: a new subscriber gets the next
periodic keyframe, at most `GOP` frames (1 s) later.

`ReplayTrack.fps` can be raised while it runs, for the workers mode's capacity
window: frames then leave faster than real time, with the same RTP timestamps.
"""

from __future__ import annotations

import asyncio
import time
from functools import cache

from aiortc import MediaStreamTrack
from av import Packet

from .pattern import FPS, TIME_BASE, VIDEO_CLOCK, PatternSource

CYCLE = 90
GOP = 30
TICKS_PER_FRAME = VIDEO_CLOCK // FPS


@cache
def encoded_cycle(index: int, bitrate: int) -> tuple[bytes, ...]:
    """VP8 frames 0 .. CYCLE-1 of publisher `index`'s picture, each a whole frame."""
    from aiortc.codecs.vpx import Vp8Encoder, VpxPayloadDescriptor

    source = PatternSource(index)
    encoder = Vp8Encoder()
    if bitrate:
        encoder.target_bitrate = bitrate
    frames = []
    for number in range(CYCLE):
        payloads, _ = encoder.encode(source.frame(number), force_keyframe=number % GOP == 0)
        frames.append(b"".join(VpxPayloadDescriptor.parse(p)[1] for p in payloads))
    return tuple(frames)


class ReplayTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self, index: int, bitrate: int) -> None:
        super().__init__()
        self.frames = encoded_cycle(index, bitrate)
        self.sent = 0
        self.fps: float = FPS
        """Frames sent per second; more than 30 sends faster than real time."""
        self._due: float | None = None

    async def recv(self) -> Packet:  # type: ignore[override]
        now = time.monotonic()
        if self._due is None:
            self._due = now
        delay = self._due - now
        if delay > 0:
            await asyncio.sleep(delay)
        # The schedule may slip behind real time once (a busy machine) but not build up
        # a backlog that would then leave in one burst.
        self._due = max(self._due, now - 1.0) + 1 / self.fps
        packet = Packet(self.frames[self.sent % CYCLE])
        packet.pts = self.sent * TICKS_PER_FRAME
        packet.time_base = TIME_BASE
        self.sent += 1
        return packet
