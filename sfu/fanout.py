"""Where a producer and the consumers it fans out to meet, so neither imports the other.

A producer sees each consumer as a `Downstream`; a consumer sees its producer as an
`Upstream`: the producer's fixed facts and two callbacks the producer hands it. Only
the producer writes the producer's counters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from .api import Kind
from .ids import ProducerId


class Downstream(Protocol):
    """What a producer needs of each consumer it forwards to."""

    @property
    def active(self) -> bool:
        """True while the consumer forwards (its subscriber's transport is connected)."""
        ...

    @property
    def waiting_for_keyframe(self) -> bool: ...

    @property
    def paused(self) -> bool:
        """True while the subscriber does not show it: the producer does not forward."""
        ...

    def set_paused(self, paused: bool) -> None:
        """Pause, or resume (from a keyframe it asks for)."""
        ...

    @property
    def remb_bps(self) -> int | None:
        """The subscriber's latest receiver-estimated maximum bitrate, when it sent one."""
        ...

    def forward(self, packet: RtpPacket, now: float, ntp: int) -> None:
        """Send one packet; `now` is monotonic seconds and `ntp` the NTP time, both read
        once per incoming packet by the producer."""
        ...

    def restart(self) -> None:
        """Continue after a gap (the producer was paused): wait for a keyframe again."""
        ...


@dataclass(frozen=True, slots=True)
class Upstream:
    """What a consumer knows of the producer it forwards."""

    producer_id: ProducerId
    kind: Kind
    codec: RTCRtpCodecParameters
    request_keyframe: Callable[[], None]
    """Ask the publisher for a keyframe (the producer coalesces requests)."""
    keyframe_forwarded: Callable[[int], None]
    """Report the sequence number of a keyframe that ended the consumer's wait."""
