"""Load-generator peers for the multi-stream modes: they count, and decode only a sample.

Decoding every received VP8 stream would make the load generators, not the SFU, the
bottleneck (one 640x480 stream costs several ms of CPU per frame). So a `Peers`
process receives every stream with aiortc, but for all streams but one it replaces
the receiver's RTP handler by a counter: packets still go through ICE, DTLS, SRTP
and aiortc's RTP parsing, and the receiver keeps its RTCP statistics (so receiver
reports still flow), but nothing is reassembled or decoded. A frame is counted when
a packet with a new RTP timestamp arrives; the frames a stream skipped are the
timestamp gaps beyond one frame.

The first video stream each process receives keeps aiortc's whole path: it is
decoded, each frame's number is read from the picture, and every 30th frame gets the
full check (colour and bar code), as `bench.peers` does for every subscriber.

A `Peers` process also holds publishers (`bench.replay`), so one process can be
several mesh participants, a set of fan-out publishers, or only subscribers.
"""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription
from aiortc.rtp import RtpPacket

from sfu import aiortc_peer as peer

from .control import cpu_seconds, enlarge_udp_receive_buffers, pin_loopback
from .peers import (
    CLOSE_TIMEOUT_S,
    Received,
    ToneTrack,
    drain_video,
    inbound_packets,
    loopback_pc,
)
from .replay import CYCLE, TICKS_PER_FRAME, ReplaySender

AUDIO_TICKS_PER_FRAME = 960
"""Opus at 48 kHz in 20 ms frames."""


@dataclass
class StreamCount:
    kind: str
    frames: int = 0
    gaps: int = 0
    """Frames skipped between consecutive RTP timestamps."""
    last_timestamp: int | None = None
    packets_missing: int = 0
    """Sequence numbers skipped between consecutive packets counted at the socket."""
    last_seq: int | None = None
    step: int = 0
    """RTP ticks per frame; 0: the kind's usual (30 fps video, 20 ms audio)."""
    timed: bool = False
    """Note when the stream starts flowing (`starts`), for the briefing mode."""
    last_at: float = 0.0
    starts: list[float] = field(default_factory=list)
    """Monotonic times of the first frame after a pause of at least `FLOW_GAP_S`."""


FLOW_GAP_S = 0.5


def count_packet(count: StreamCount, seq: int) -> None:
    """Account one RTP packet's sequence number: how many were skipped before it."""
    if count.last_seq is not None:
        delta = (seq - count.last_seq) & 0xFFFF
        if delta == 0 or delta >= 1 << 15:  # a duplicate, or an older packet
            return
        count.packets_missing += delta - 1
    count.last_seq = seq


def count_frame(count: StreamCount, timestamp: int) -> None:
    """Account one RTP packet's timestamp: a new frame, and how many were skipped."""
    if count.last_timestamp is None:
        if count.timed:
            _note_flow(count)
        count.frames += 1
        count.last_timestamp = timestamp
        return
    delta = (timestamp - count.last_timestamp) & 0xFFFFFFFF
    if delta == 0 or delta >= 1 << 31:  # same frame, or an older packet
        return
    step = count.step or (TICKS_PER_FRAME if count.kind == "video" else AUDIO_TICKS_PER_FRAME)
    resumed = count.timed and _note_flow(count)
    count.frames += 1
    if not resumed:  # a paused stream resumes at a later timestamp: nothing was lost
        count.gaps += max(0, round(delta / step) - 1)
    count.last_timestamp = timestamp


def _note_flow(count: StreamCount) -> bool:
    """Note a frame's arrival; True when it starts the stream again after a pause."""
    now = time.monotonic()
    started = now - count.last_at >= FLOW_GAP_S
    if started:
        count.starts.append(now)
    count.last_at = now
    return started


def count_instead_of_decoding(receiver: RTCRtpReceiver, count: StreamCount,
                              by_ssrc: dict[int, StreamCount]) -> None:
    """Make `receiver` count frames instead of reassembling and decoding them; the
    stream's SSRC goes into `by_ssrc`, for `count_at_socket`."""

    def on_media(packet: RtpPacket) -> None:
        by_ssrc[packet.ssrc] = count
        count_frame(count, packet.timestamp)

    peer.count_instead_of_decoding(receiver, on_media)


def count_at_socket(pc: RTCPeerConnection, by_ssrc: dict[int, StreamCount],
                    tally: list[int]) -> None:
    """Once `pc` is connected, count the RTP of known counted streams as each datagram
    arrives, from its header (SRTP leaves sequence number, timestamp and SSRC in the
    clear), without decrypting or queueing it: a few microseconds per packet instead
    of aiortc's whole receive path, so that the load generators stay cheaper than the
    SFU they load. Everything else (DTLS, RTCP, the decoded sample stream, RTX) keeps
    aiortc's path."""
    installed = False

    def uncounted(data: bytes) -> bool:
        if len(data) >= 12 and 127 < data[0] < 192 and not 191 < data[1] < 209:
            count = by_ssrc.get(int.from_bytes(data[8:12], "big"))
            if count is not None:
                tally[0] += 1
                count_packet(count, int.from_bytes(data[2:4], "big"))
                count_frame(count, int.from_bytes(data[4:8], "big"))
                return False
        return True

    def install() -> None:
        nonlocal installed
        if installed or pc.connectionState != "connected" or not pc.getTransceivers():
            return
        installed = True
        peer.filter_received(pc.getTransceivers()[0].receiver.transport, uncounted)

    pc.on("connectionstatechange", install)


def _ice_transports(pc: RTCPeerConnection) -> list[Any]:
    """The UDP transports of `pc`'s ICE connection (one per local candidate)."""
    protocols = peer.ice_protocols(pc.getTransceivers()[0].receiver.transport)
    return [p.transport for p in protocols if p.transport is not None]


class Peers:
    """Publishers and subscribers of one load-generator process."""

    def __init__(self, options: dict[str, Any]) -> None:
        pin_loopback()
        self.bitrate = int(options.get("bitrate", 0))
        self.index = int(options.get("index", 0))
        """The publisher index of a received stream that `mids` does not name."""
        self.modulus = int(options.get("modulus", CYCLE))
        """Frame numbers of the received picture run modulo this (replayed: CYCLE)."""
        self.pcs: list[RTCPeerConnection] = []
        self.publishers: dict[str, tuple[RTCPeerConnection, ReplaySender]] = {}
        self.subscribers: dict[str, RTCPeerConnection] = {}
        self.counts: dict[str, StreamCount] = {}
        self.by_ssrc: dict[int, StreamCount] = {}
        self.socket_counted = [0]
        """RTP packets counted at the socket (not seen by aiortc's statistics)."""
        self.sample: Received | None = None
        self.sample_key = ""
        self.tasks: list[asyncio.Task[None]] = []

    def _pc(self) -> RTCPeerConnection:
        if not self.pcs:
            enlarge_udp_receive_buffers()
        pc = loopback_pc()
        self.pcs.append(pc)
        return pc

    async def op_publish(self, name: str, index: int) -> str:
        from sfu.transport import SilentTrack

        pc = self._pc()
        video = ReplaySender(index, self.bitrate)
        self.publishers[name] = (pc, video)
        pc.addTransceiver(ToneTrack(), direction="sendonly")
        pc.addTransceiver(SilentTrack("video"), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)

    async def op_accept(self, name: str, answer: str) -> None:
        pc, video = self.publishers[name]
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        video.start(next(t for t in pc.getTransceivers() if t.kind == "video"))

    async def op_subscribe(self, name: str, offer: str,
                           mids: dict[str, int] | None = None) -> str:
        """Answer a subscribe offer; `mids` maps each m-line to its publisher's index."""
        mids = mids or {}
        pc = self.subscribers[name] = self._pc()

        def on_track(track: MediaStreamTrack) -> None:
            transceiver = next(t for t in pc.getTransceivers() if t.receiver.track is track)
            key = f"{name}/{transceiver.mid}"
            if track.kind == "video" and self.sample is None:
                self.sample = Received()
                self.sample_key = key
                index = mids.get(str(transceiver.mid), self.index)
                self.tasks.append(asyncio.create_task(
                    drain_video(track, self.sample, index, modulus=self.modulus)))
                return
            count = self.counts[key] = StreamCount(str(track.kind))
            count_instead_of_decoding(transceiver.receiver, count, self.by_ssrc)

        pc.on("track", on_track)
        count_at_socket(pc, self.by_ssrc, self.socket_counted)
        await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return str(pc.localDescription.sdp)

    def _video_frames(self) -> dict[str, int]:
        frames = {key: c.frames for key, c in self.counts.items() if c.kind == "video"}
        if self.sample is not None:
            frames[self.sample_key] = self.sample.decoded
        return frames

    async def op_status(self) -> dict[str, int]:
        return self._video_frames()

    async def op_speed(self, fps: float) -> None:
        """Send every replayed picture at `fps` frames per second from now on."""
        for _, video in self.publishers.values():
            video.fps = fps

    async def op_sink(self) -> list[int]:
        """Stop reading every subscriber's socket; return their local ports.

        From then on the kernel drops what the SFU sends them (the socket buffer is
        full), so the subscribers cost this process nothing, and each socket's drop
        counter in /proc/net/udp counts what reached it. ICE consent then lapses,
        after about 30 s, so a window must be shorter than that.
        """
        ports = []
        for pc in self.subscribers.values():
            for transport in _ice_transports(pc):
                transport.pause_reading()
                sock = transport.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 0)  # the kernel's minimum
                ports.append(int(transport.get_extra_info("sockname")[1]))
        return ports

    async def op_mark(self) -> dict[str, Any]:
        received = lost = published = 0
        for pc in self.subscribers.values():
            r, missing = await inbound_packets(pc)
            received += r
            lost += missing
        received += self.socket_counted[0]
        lost += sum(c.packets_missing for c in self.counts.values())
        for pc, _ in self.publishers.values():
            published += sum(s.packetsSent for s in (await pc.getStats()).values()
                             if s.type == "outbound-rtp")
        gaps = {key: c.gaps for key, c in self.counts.items() if c.kind == "video"}
        if self.sample is not None:
            gaps[self.sample_key] = self.sample.gaps
        return {"t": time.monotonic(), "cpu": cpu_seconds(), "frames": self._video_frames(),
                "gaps": gaps, "sample": asdict(self.sample) if self.sample else None,
                "packets": received, "packets_lost": lost, "published_packets": published,
                "published_frames": {name: video.sent
                                     for name, (_, video) in self.publishers.items()}}

    async def close(self) -> None:
        for _, video in self.publishers.values():
            await video.stop()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.wait_for(asyncio.gather(*(pc.close() for pc in self.pcs),
                                              return_exceptions=True), CLOSE_TIMEOUT_S)
