"""The benchmark's publisher and subscribers: real aiortc peers, each in a child process.

The publisher sends the pattern of `bench.pattern` (640x480 VP8, 30 fps) and an Opus
tone. A load generator holds several subscribers; each decodes what it receives (as
aiortc always does), reads the frame number of every decoded frame from a few luma
pixels, counts the frame numbers it never saw, and fully checks every 30th frame.
The same code serves both SFUs.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame

from sfu.aiortc_peer import pin_vp8_bitrate, receiver_streams

from .control import cpu_seconds, pin_loopback
from .pattern import FPS, FRAME_MOD, PatternSource, frame_gap, read_number, verify

VERIFY_EVERY = 30
CLOSE_TIMEOUT_S = 5.0


def loopback_pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[],
                                              bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))


async def inbound_packets(pc: RTCPeerConnection) -> tuple[int, int]:
    """(packets received, packets lost) over every incoming RTP stream, RTX included.

    aiortc's `inbound-rtp` stats keep one entry per receiver, so once an RTX stream
    exists it overwrites the media stream's figures; the receiver's per-SSRC
    statistics are read instead.
    """
    received = lost = 0
    for receiver in pc.getReceivers():
        for stream in receiver_streams(receiver).values():
            received += stream.packets_received
            lost += stream.packets_lost
    return received, lost


# ---------------------------------------------------------------- publisher


class PatternTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self, index: int) -> None:
        super().__init__()
        self.source = PatternSource(index)
        self.sent = 0
        self._start: float | None = None

    async def recv(self) -> VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self.sent / FPS - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        frame = self.source.frame(self.sent)
        self.sent += 1
        return frame


class ToneTrack(MediaStreamTrack):
    """A 440 Hz tone in 20 ms frames (one second of it is computed once)."""

    kind = "audio"
    RATE = 48000
    SAMPLES = 960

    def __init__(self) -> None:
        super().__init__()
        t = np.arange(self.RATE) / self.RATE
        self._second = (np.sin(2 * np.pi * 440.0 * t) * 8000).astype(np.int16)
        self.sent = 0
        self._start: float | None = None

    async def recv(self) -> AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self.sent / self.RATE - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        offset = self.sent % self.RATE
        samples = self._second[offset:offset + self.SAMPLES]
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.RATE
        frame.pts = self.sent
        frame.time_base = fractions.Fraction(1, self.RATE)
        self.sent += self.SAMPLES
        return frame


class Publisher:
    def __init__(self, options: dict[str, Any]) -> None:
        pin_loopback()
        if options.get("bitrate"):
            pin_vp8_bitrate(int(options["bitrate"]))
        self.pc = loopback_pc()
        self.video = PatternTrack(int(options.get("index", 1)))
        self.pc.addTransceiver(ToneTrack(), direction="sendonly")
        self.pc.addTransceiver(self.video, direction="sendonly")

    async def op_offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def op_accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    async def op_mark(self) -> dict[str, Any]:
        packets = sum(s.packetsSent for s in (await self.pc.getStats()).values()
                      if s.type == "outbound-rtp")
        return {"t": time.monotonic(), "cpu": cpu_seconds(), "frames": self.video.sent,
                "packets": packets}

    async def close(self) -> None:
        await asyncio.wait_for(self.pc.close(), CLOSE_TIMEOUT_S)


# ---------------------------------------------------------------- subscribers


@dataclass
class Received:
    decoded: int = 0
    """Video frames decoded with a readable frame number."""
    last_number: int = -1
    gaps: int = 0
    """Frame numbers skipped between consecutive decoded frames (lost frames)."""
    out_of_order: int = 0
    unreadable: int = 0
    verified: int = 0
    verify_failed: int = 0


async def drain_video(track: MediaStreamTrack, out: Received, index: int,
                      modulus: int = FRAME_MOD) -> None:
    """Decode `track`, reading every frame's number (which runs modulo `modulus`)."""
    try:
        while True:
            frame = await track.recv()
            number = read_number(frame) if isinstance(frame, VideoFrame) else None
            if number is None:
                out.unreadable += 1
                continue
            if out.last_number >= 0:
                gap = frame_gap(out.last_number, number, modulus)
                if gap < 0:
                    out.out_of_order += 1
                    continue
                out.gaps += gap
            out.last_number = number
            out.decoded += 1
            if out.decoded % VERIFY_EVERY == 0:
                if verify(cast(VideoFrame, frame), index, number):
                    out.verified += 1
                else:
                    out.verify_failed += 1
    except MediaStreamError:
        pass
