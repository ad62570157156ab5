"""A Consumer forwards one producer's packets to one subscriber, without transcoding.

Only the SSRC, payload type, sequence number, timestamp and header extensions are
rewritten. Video is held back until a keyframe passes; the audio level travels
unchanged. The consumer knows its producer only as an `Upstream` (see `sfu.fanout`).
"""

from __future__ import annotations

import logging

from aiortc.rtcrtptransceiver import RTCRtpTransceiver
from aiortc.rtp import RtpPacket

from . import aiortc_adapter as adapter
from .aiortc_rtp import PacketWriter
from .codecs import is_keyframe_start
from .fanout import Upstream
from .ids import ConsumerId, TransportId
from .rewrite import SequenceRewriter

logger = logging.getLogger(__name__)


class Consumer:
    """Satisfies `sfu.fanout.Downstream`, which is how its producer sees it."""

    __slots__ = ("id", "transport_id", "producer_id", "transceiver", "kind", "clock_rate",
                 "_upstream", "_mime", "_rewriter", "_writer", "_payload_type", "active",
                 "paused", "closed", "waiting_for_keyframe", "packets", "bytes",
                 "dropped_waiting_keyframe", "keyframes", "keyframe_requests", "feedback",
                 "undeliverable")

    def __init__(self, consumer_id: ConsumerId, transport_id: TransportId, upstream: Upstream,
                 transceiver: RTCRtpTransceiver, numbering: SequenceRewriter) -> None:
        self.id = consumer_id
        self.transport_id = transport_id
        self.producer_id = upstream.producer_id
        self.transceiver = transceiver
        self.kind = upstream.kind
        self.clock_rate = upstream.codec.clockRate or 90000
        self._upstream = upstream
        self._mime = upstream.codec.mimeType
        self._rewriter = numbering
        self._writer: PacketWriter | None = None
        self._payload_type = 0
        self.active = False
        """True once the subscriber's transport is connected and the sender started."""
        self.paused = False
        """True while its subscriber does not show it: nothing is forwarded (the
        producer leaves it out of its fan-out)."""
        self.closed = False
        self.waiting_for_keyframe = self.kind == "video"
        self.undeliverable = False
        """The subscriber's browser rejected this consumer's section (it cannot decode
        the codec): it is never activated and sends nothing."""
        # counters for stats
        self.packets = 0
        self.bytes = 0
        self.dropped_waiting_keyframe = 0
        self.keyframes = 0
        self.keyframe_requests = 0
        adapter.on_keyframe_request(transceiver.sender, self._on_subscriber_keyframe_request)
        self.feedback = adapter.install_sender_feedback(transceiver.sender)

    @property
    def mid(self) -> str | None:
        return self.transceiver.mid

    @property
    def codec(self) -> str:
        """The MIME type of what it forwards, e.g. video/H264."""
        return self._mime

    @property
    def remb_bps(self) -> int | None:
        return self.feedback.remb_bps

    def ready_to_activate(self) -> bool:
        return (not self.active and not self.closed and not self.undeliverable
                and adapter.sender_ready(self.transceiver.sender))

    def activate(self) -> None:
        """Start forwarding; video waits for (and asks for) a keyframe first."""
        codecs = adapter.negotiated_codecs(self.transceiver)
        self._payload_type = int(codecs[0].payloadType or 0)
        self._writer = PacketWriter(self.transceiver.sender)
        self.active = True
        self.restart()
        logger.debug("consumer %s active on mid %s (pt %d)", self.id, self.mid, self._payload_type)

    def restart(self) -> None:
        """Continue after a gap: new numbering run, and for video, wait for a keyframe
        (asked for at once, unless the consumer is paused: then on resuming)."""
        self._rewriter.resync()
        if self.kind == "video":
            self.waiting_for_keyframe = True
            if not self.paused:
                self._upstream.request_keyframe()

    def set_paused(self, paused: bool) -> None:
        """Pause or resume forwarding; an active consumer resumes from a keyframe."""
        if paused == self.paused:
            return
        self.paused = paused
        if not paused and self.active:
            self.restart()

    def _on_subscriber_keyframe_request(self) -> None:
        self.keyframe_requests += 1
        self._upstream.request_keyframe()

    def forward(self, packet: RtpPacket, now: float, ntp: int) -> None:
        """Send one of the producer's packets; `now` is monotonic seconds, `ntp` the
        NTP time, both read once per incoming packet by the producer."""
        writer = self._writer
        if writer is None or not self.active:
            return
        if self.waiting_for_keyframe:
            if not is_keyframe_start(self._mime, packet.payload):
                self.dropped_waiting_keyframe += 1
                return
            self.waiting_for_keyframe = False
            self.keyframes += 1
            self._upstream.keyframe_forwarded(packet.sequence_number)
            self._rewriter.resync()
        seq, ts = self._rewriter.rewrite(packet.ssrc, packet.sequence_number, packet.timestamp,
                                         now)
        try:
            self.bytes += writer.write(self._payload_type, packet.marker, seq, ts,
                                       packet.payload, packet.extensions.audio_level, ntp)
            self.packets += 1
        except ConnectionError:
            # The subscriber's transport went away; its closure is handled by the router.
            self.active = False

    def close(self) -> None:
        """Stop forwarding; the router takes the consumer off its producer."""
        self.closed = True
        self.active = False
