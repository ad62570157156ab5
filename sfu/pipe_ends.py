"""The two ends of a pipe inside a worker: what writes a producer into it, and what
stands in for that producer on the other side.

- `PipeSink` is one more consumer of a real producer (a `Downstream`): the fan-out
  hands it each packet synchronously, and it writes the packet once into the pipe.
  Keyframe requests coming back go to the producer, which coalesces them with its
  own subscribers' (`pli_min_interval_ms`); the REMB coming back counts as this
  consumer's, so the publisher never sends more than the other worker's subscribers
  can take.
- `PipeSource` is a `Producer` whose packets come out of the pipe: the same fan-out,
  header rewrite and keyframe handling for the consumers of its worker. Its keyframe
  requests and the bitrate its subscribers can take go back up the pipe.
"""

from __future__ import annotations

import logging

from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket
from aiortc.sdp import parameters_from_sdp, parameters_to_sdp

from .api import Kind
from .config import SfuSettings
from .fanout import Upstream
from .ids import ProducerId, TransportId
from .pipe import PipeTransport
from .pipe_api import PipeCodec, PipeFigures
from .producer import Producer

logger = logging.getLogger(__name__)


def pipe_codec(codec: RTCRtpCodecParameters) -> PipeCodec:
    return PipeCodec(mime_type=codec.mimeType, clock_rate=codec.clockRate,
                     payload_type=int(codec.payloadType or 0), channels=codec.channels,
                     fmtp=parameters_to_sdp(codec.parameters))


def codec_parameters(codec: PipeCodec) -> RTCRtpCodecParameters:
    return RTCRtpCodecParameters(mimeType=codec.mime_type, clockRate=codec.clock_rate,
                                 channels=codec.channels, payloadType=codec.payload_type,
                                 parameters=parameters_from_sdp(codec.fmtp) if codec.fmtp
                                 else {})


class PipeSink:
    """Satisfies `sfu.fanout.Downstream`: the producer forwards to it like a consumer."""

    __slots__ = ("pipe_id", "producer_id", "pipe", "active", "paused", "remb_bps",
                 "packets", "bytes", "_upstream")

    def __init__(self, pipe_id: str, upstream: Upstream, pipe: PipeTransport) -> None:
        self.pipe_id = pipe_id
        self.producer_id = upstream.producer_id
        self.pipe = pipe
        self._upstream = upstream
        self.active = False
        """True once the other end's address is known (`connect`)."""
        self.paused = False
        self.remb_bps: int | None = None
        self.packets = 0
        self.bytes = 0
        pipe.on_keyframe_request = upstream.request_keyframe
        pipe.on_bitrate = self._on_bitrate

    @property
    def waiting_for_keyframe(self) -> bool:
        """Never: every packet goes into the pipe; the consumers on the other side
        wait for their keyframe themselves (and ask for it up the pipe)."""
        return False

    def connect(self, host: str, port: int) -> None:
        self.pipe.connect(host, port)
        self.active = True

    def _on_bitrate(self, bitrate: int) -> None:
        self.remb_bps = bitrate

    def set_paused(self, paused: bool) -> None:
        self.paused = paused

    def restart(self) -> None:
        """The producer resumed: the other side's source was resumed too, and its
        consumers wait for the keyframe the producer asks for."""

    def forward(self, packet: RtpPacket, now: float, ntp: int) -> None:
        written = self.pipe.send_rtp(packet)
        if written:
            self.packets += 1
            self.bytes += written

    def figures(self) -> PipeFigures:
        return PipeFigures(pipe_id=self.pipe_id, producer_id=self.producer_id, end="sending",
                           packets=self.packets,
                           keyframe_requests=self.pipe.keyframe_requests_received,
                           bitrate_reports=self.pipe.remb_received, remb_bps=self.remb_bps,
                           consumers=0, paused=self.paused)

    def close(self) -> None:
        self.active = False
        self.pipe.close()


class PipeInlet:
    """What a pipe source's figures read of its inlet: the pipe counts no losses."""

    uplink_bps: int | None = None
    nacks_sent = 0

    def stream_counts(self, ssrc: int) -> tuple[int, int, float] | None:
        return None

    def close(self) -> None:
        pass


class PipeSource(Producer):
    """A producer of another worker, fed by a pipe; it has the producer's id."""

    def __init__(self, pipe_id: str, producer_id: ProducerId, kind: Kind, codec: PipeCodec,
                 settings: SfuSettings, pipe: PipeTransport) -> None:
        self._start(producer_id, TransportId(f"pipe:{pipe_id}"), "", kind,
                    codec_parameters(codec), settings)
        self.pipe_id = pipe_id
        self.pipe = pipe
        self.tap = PipeInlet()
        self.last_remb_bps: int | None = None
        pipe.on_rtp = self._on_packet

    async def _send_keyframe_request(self, media_ssrc: int) -> None:
        self.pipe.send_keyframe_request(media_ssrc)

    async def _send_bitrate(self, bitrate: int, media_ssrc: int) -> None:
        self.last_remb_bps = bitrate
        self.pipe.send_bitrate(bitrate, media_ssrc)

    def figures(self) -> PipeFigures:
        return PipeFigures(pipe_id=self.pipe_id, producer_id=self.id, end="receiving",
                           packets=self.pipe.rtp_received,
                           keyframe_requests=self.pipe.keyframe_requests_sent,
                           bitrate_reports=self.pipe.remb_sent, remb_bps=self.last_remb_bps,
                           consumers=len(self.consumers))

    async def close(self) -> None:
        await super().close()
        self.pipe.close()
