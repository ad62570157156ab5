"""The briefing's participants, many to a load-generator process.

Publishers (a process of them) send, each on one connection:

- a camera, replayed as in the workers mode (`bench.replay`): a thumbnail of the test
  picture at 320×240 and 15 fps, or for a speaker the 640×480 picture at 30 fps,
  whose sender answers keyframe requests;
- a microphone. A muted one is a sending m-line that sends nothing, as a muted
  browser microphone does. A speaker's sends the tone (`bench.peers.ToneTrack`, with
  aiortc's RFC 6464 audio level in every packet, which the SFU's speaker detection
  reads) while it is their turn to speak, and nothing otherwise.

Subscribers (other processes) count the frames of every camera they receive at the
socket (`bench.counting`), noting when each starts flowing, and one subscriber per
process decodes and verifies a speaker's camera.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiortc import MediaStreamTrack, RTCSessionDescription
from av import AudioFrame

from .counting import Peers, StreamCount, count_at_socket, count_instead_of_decoding
from .pattern import VIDEO_CLOCK
from .peers import Received, ToneTrack, drain_video
from .replay import ReplaySender, encoded_cycle, encoded_keyframes

THUMBNAIL = (320, 240)
THUMBNAIL_FPS = 15
SPEAKER_FPS = 30
THUMBNAIL_GOP = 15
"""A thumbnail's keyframe every second, like the speaker's."""


class Microphone(ToneTrack):
    """A speaker's microphone: the tone while `talking`, nothing (muted) otherwise."""

    def __init__(self) -> None:
        super().__init__()
        self.talking = asyncio.Event()

    async def recv(self) -> AudioFrame:
        if not self.talking.is_set():
            await self.talking.wait()
            self._start, self.sent = None, 0  # the tone starts again, in real time
        return await super().recv()


class BriefingPeers(Peers):
    """Publishers, or subscribers, of the briefing."""

    def __init__(self, options: dict[str, Any]) -> None:
        from sfu.aiortc_adapter import use_consent_timeout

        super().__init__(options)
        # Many connections in one process on a busy machine answer consent checks late;
        # the SFU, not this side, is the one whose consent is under test.
        use_consent_timeout(60)
        self.thumbnail_bitrate = int(options.get("thumbnail_bitrate", 150_000))
        self.microphones: dict[str, Microphone] = {}

    async def op_prepare(self, thumbnails: list[int], speakers: list[int]) -> None:
        """Encode every picture this process will replay, before any connection exists:
        encoding takes seconds, in which no connection's ICE or DTLS would be served."""
        for index in thumbnails:
            encoded_cycle(index, self.thumbnail_bitrate, THUMBNAIL, THUMBNAIL_GOP)
        for index in speakers:
            encoded_cycle(index, self.bitrate)
            encoded_keyframes(index, self.bitrate)

    async def op_publish(self, name: str, index: int, speaker: bool = False) -> str:
        from sfu.transport import SilentTrack

        pc = self._pc()
        if speaker:
            video = ReplaySender(index, self.bitrate, encoded_cycle(index, self.bitrate),
                                 SPEAKER_FPS, encoded_keyframes(index, self.bitrate))
            microphone: MediaStreamTrack = self.microphones.setdefault(name, Microphone())
        else:
            video = ReplaySender(index, self.bitrate,
                                 encoded_cycle(index, self.thumbnail_bitrate, THUMBNAIL,
                                               THUMBNAIL_GOP), THUMBNAIL_FPS)
            microphone = SilentTrack("audio")
        self.publishers[name] = (pc, video)
        pc.addTransceiver(microphone, direction="sendonly")
        pc.addTransceiver(SilentTrack("video"), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        return str(pc.localDescription.sdp)

    async def op_talk(self, name: str, talking: bool) -> None:
        """A speaker unmutes (and speaks) or mutes."""
        event = self.microphones[name].talking
        if talking:
            event.set()
        else:
            event.clear()

    async def op_speed(self, fps: float = 0, factor: float = 1.0,
                       names: list[str] | None = None) -> None:
        """Send these publishers' pictures `factor` times faster than real time."""
        for name, (_, video) in self.publishers.items():
            if names is None or name in names:
                video.fps = video.real_fps * factor

    async def op_subscribe(self, name: str, offer: str, mids: dict[str, int] | None = None,
                           fps: dict[str, int] | None = None,
                           sample_mid: str | None = None) -> str:
        """Answer a subscribe offer; `fps` gives each camera's frame rate by m-line, and
        the camera on `sample_mid` (of publisher `mids[sample_mid]`) is decoded."""
        mids, fps = mids or {}, fps or {}
        pc = self.subscribers[name] = self._pc()

        def on_track(track: MediaStreamTrack) -> None:
            transceiver = next(t for t in pc.getTransceivers() if t.receiver.track is track)
            mid = str(transceiver.mid)
            key = f"{name}/{mid}"
            if mid == sample_mid and self.sample is None:
                self.sample = Received()
                self.sample_key = key
                self.tasks.append(asyncio.create_task(
                    drain_video(track, self.sample, mids.get(mid, self.index),
                                modulus=self.modulus)))
                return
            count = self.counts[key] = StreamCount(str(track.kind), timed=True)
            if track.kind == "video":
                count.step = VIDEO_CLOCK // fps.get(mid, SPEAKER_FPS)
            count_instead_of_decoding(transceiver.receiver, count, self.by_ssrc)

        pc.on("track", on_track)
        count_at_socket(pc, self.by_ssrc, self.socket_counted)
        await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return str(pc.localDescription.sdp)

    async def op_starts(self, since: float) -> dict[str, float | None]:
        """For every counted camera: when it first brought a frame at or after `since`
        (monotonic time); `since` itself when it was flowing already; None: not yet."""
        out: dict[str, float | None] = {}
        for key, count in self.counts.items():
            if count.kind != "video":
                continue
            later = [t for t in count.starts if t >= since]
            if count.starts and count.starts[-1] < since and count.last_at >= since:
                out[key] = since
            else:
                out[key] = later[0] if later else None
        return out
