"""Real aiortc peers for tests: a publisher and a subscriber, over loopback."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)

from sfu.aiortc_peer import KeyframeAsks, keyframes_only_when_asked
from sfu.sdp_sections import Section, join, split
from tests.integration.media import (
    HEIGHT,
    SMALL,
    WIDTH,
    PatternVideoTrack,
    ReceivedAudio,
    ReceivedVideo,
    ToneAudioTrack,
    drain_audio,
    drain_video,
)


def loopback_pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[],
                                              bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))


@dataclass
class Publisher:
    index: int
    screen_index: int | None = None
    """When set, also share a 'screen': a second video track with this pattern."""
    video_codec: str | None = None
    """Prefer this video codec (e.g. video/H264) instead of aiortc's default VP8."""
    silent: bool = False
    """Send silence (the microphone of someone who does not speak)."""
    fps: int = 30
    """Camera frame rate."""
    small: bool = False
    """Send the camera as a thumbnail (media.SMALL) instead of 320x240."""
    rekeys_on_remb: bool = False
    """Let aiortc re-key on every bitrate change. By default a publisher sends a keyframe
    only at its start and when asked, so the tests see the SFU's own keyframe logic."""
    pc: RTCPeerConnection = field(default_factory=loopback_pc)
    sources: dict[str, str] = field(default_factory=dict)
    """mid -> source, known after the first offer."""
    keyframe_asks: dict[str, KeyframeAsks] = field(default_factory=dict)
    """source -> the keyframe requests its video sender received."""

    def __post_init__(self) -> None:
        tone = ToneAudioTrack(self.index, amplitude=0 if self.silent else 8000)
        self.tone = tone
        size = SMALL if self.small else (WIDTH, HEIGHT)
        camera = PatternVideoTrack(self.index, self.fps, *size)
        self._pending = [("microphone", self.pc.addTransceiver(tone,
                                                               direction="sendonly")),
                         ("camera", self.pc.addTransceiver(camera, direction="sendonly"))]
        if self.screen_index is not None:
            self._pending.append(("screen", self.pc.addTransceiver(
                PatternVideoTrack(self.screen_index, fps=15), direction="sendonly")))
        if self.video_codec is not None:
            caps = [c for c in RTCRtpSender.getCapabilities("video").codecs
                    if c.mimeType.lower() == self.video_codec.lower()]
            for _, transceiver in self._pending:
                if transceiver.kind == "video":
                    transceiver.setCodecPreferences(caps)
        for source, transceiver in self._pending:
            if transceiver.kind == "video" and not self.rekeys_on_remb:
                self.keyframe_asks[source] = keyframes_only_when_asked(transceiver.sender)

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        for source, transceiver in self._pending:
            self.sources[str(transceiver.mid)] = source
        return str(self.pc.localDescription.sdp)

    async def accept(self, answer_sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(answer_sdp, "answer"))

    def tracks(self) -> list[dict[str, str]]:
        return [{"mid": str(t.mid), "kind": t.kind, "source": source}
                for source, t in self._pending]


@dataclass
class Subscriber:
    pc: RTCPeerConnection = field(default_factory=loopback_pc)
    video: dict[str, ReceivedVideo] = field(default_factory=dict)
    audio: dict[str, ReceivedAudio] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    mid_labels: dict[str, str] = field(default_factory=dict)
    """mid -> label (e.g. publisher name), filled from the offer's consumer list."""
    expected_index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        transceiver = next(t for t in self.pc.getTransceivers() if t.receiver.track is track)
        label = self.mid_labels.get(str(transceiver.mid), str(transceiver.mid))
        if track.kind == "video":
            out_v = self.video.setdefault(label, ReceivedVideo())
            self.tasks.append(asyncio.create_task(
                drain_video(track, out_v, self.expected_index.get(label))))
        else:
            out_a = self.audio.setdefault(label, ReceivedAudio())
            self.tasks.append(asyncio.create_task(drain_audio(track, out_a)))

    async def answer(self, offer_sdp: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return str(self.pc.localDescription.sdp)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.pc.close()


def reject_like_firefox(answer: str, mime: str) -> str:
    """`answer` with each section whose codec is `mime` (e.g. video/H264) rejected as
    Firefox without that codec does: port 0, inactive, a placeholder codec, no ICE,
    DTLS or SSRC lines, and the mid left out of the BUNDLE group."""
    session, sections = split(answer)
    name = mime.split("/")[1].lower()
    rejected: set[str] = set()
    out = []
    for section in sections:
        codecs = {line.split(" ", 1)[1].split("/")[0].lower()
                  for line in section.attrs(("a=rtpmap:",))}
        if name in codecs and section.mid is not None:
            rejected.add(section.mid)
            section = Section([f"m={section.kind} 0 UDP/TLS/RTP/SAVPF 120", "c=IN IP4 0.0.0.0",
                               "a=inactive", f"a=mid:{section.mid}", "a=rtpmap:120 VP8/90000"])
        out.append(section)
    session = [" ".join(w for w in line.split(" ") if w not in rejected)
               if line.startswith("a=group:BUNDLE") else line for line in session]
    return join(session, out)


@dataclass
class H264Refuser(Subscriber):
    """A subscriber whose browser cannot decode H.264: it rejects every H.264 section
    of the offers it answers."""

    answers: list[str] = field(default_factory=list)

    async def answer(self, offer_sdp: str) -> str:
        edited = reject_like_firefox(await super().answer(offer_sdp), "video/H264")
        self.answers.append(edited)
        return edited
