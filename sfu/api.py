"""The SFU's one small async API, and the typed events it emits.

Signaling talks to the media plane only through `SfuClient`. The API speaks IDs and
opaque SDP strings; it knows nothing of accounts or meetings. This module imports no
aiortc, so the control plane can depend on it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Literal, Protocol, TypeAlias

from .ids import ConsumerId, ProducerId, RouterId, TransportId

Kind = Literal["audio", "video"]
TransportRole = Literal["publish", "subscribe"]


class SfuError(Exception):
    """A request the SFU cannot carry out; `code` says which kind."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InvalidSdpError(SfuError):
    def __init__(self, message: str) -> None:
        super().__init__("invalid_sdp", message)


class LowDiskError(SfuError):
    def __init__(self, message: str) -> None:
        super().__init__("low_disk", message)


class UnknownIdError(SfuError):
    def __init__(self, what: str, ident: str, message: str | None = None) -> None:
        super().__init__("unknown_id", message or f"no {what} with id {ident}")


@dataclass(frozen=True, slots=True)
class ProducerInfo:
    producer_id: ProducerId
    transport_id: TransportId
    mid: str
    kind: Kind
    codec: str
    """MIME type of the publisher's codec, e.g. video/VP8."""


@dataclass(frozen=True, slots=True)
class PublishResult:
    answer_sdp: str
    producers: list[ProducerInfo]
    """Producers created by this offer (tracks already published are not repeated)."""


@dataclass(frozen=True, slots=True)
class ConsumerMid:
    consumer_id: ConsumerId
    producer_id: ProducerId
    mid: str


@dataclass(frozen=True, slots=True)
class SubscribeOffer:
    offer_sdp: str
    consumers: list[ConsumerMid]
    """Every live consumer of the transport, with the m-line that carries it."""


# ---------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class TransportConnected:
    router_id: RouterId
    transport_id: TransportId


@dataclass(frozen=True, slots=True)
class TransportClosed:
    router_id: RouterId
    transport_id: TransportId
    reason: str
    """'failed' when ICE/DTLS broke, 'closed' when closed on request."""


@dataclass(frozen=True, slots=True)
class TrackPublished:
    router_id: RouterId
    producer: ProducerInfo


@dataclass(frozen=True, slots=True)
class ProducerClosed:
    router_id: RouterId
    producer_id: ProducerId


@dataclass(frozen=True, slots=True)
class RouterClosed:
    """A router ended without being asked to; 'worker_lost' when its worker died.

    Every transport of the router was closed too (a TransportClosed 'failed' was
    emitted for each), so its participants must join again, on a new router.
    """

    router_id: RouterId
    reason: str


@dataclass(frozen=True, slots=True)
class StreamStats:
    """One producer (inbound from its publisher) or consumer (outbound to a subscriber)."""

    stream_id: str
    """The producer id or consumer id."""
    direction: Literal["inbound", "outbound"]
    kind: Kind
    transport_id: TransportId
    producer_id: ProducerId
    packets: int
    bytes: int
    bitrate_bps: float
    """Payload bits per second over the last sampling interval."""
    packets_lost: int
    """Cumulative: counted by the SFU for inbound, reported by the subscriber for outbound."""
    loss_fraction: float
    """0..1 over the last interval (last receiver report for outbound)."""
    jitter_ms: float
    rtt_ms: float | None
    """Round trip to the peer from RTCP, when known."""
    nacks: int
    plis: int
    """Keyframe requests: sent to the publisher (inbound) or received from the subscriber."""
    keyframes: int
    """Keyframes forwarded (outbound) or keyframe requests answered (inbound)."""
    paused: bool


@dataclass(frozen=True, slots=True)
class StatsSample:
    """Every stream of one router at one moment; emitted every few seconds."""

    router_id: RouterId
    at: float
    """Unix time of the sample."""
    streams: tuple[StreamStats, ...]


@dataclass(frozen=True, slots=True)
class ActiveSpeaker:
    """The loudest audio producer of a router changed (None: nobody is speaking)."""

    router_id: RouterId
    producer_id: ProducerId | None


@dataclass(frozen=True, slots=True)
class WorkerLoad:
    """One SFU worker's load, reported every few seconds."""

    worker: int
    pid: int
    alive: bool
    routers: int
    streams: int
    packets_per_s: float
    cpu_percent: float


@dataclass(frozen=True, slots=True)
class RecordingStarted:
    router_id: RouterId
    directory: str


@dataclass(frozen=True, slots=True)
class RecordingStopped:
    router_id: RouterId
    reason: str
    """'stopped' on request or when the router closed, 'low_disk' when free space fell
    below the floor, 'error' when a file could not be written."""


SfuEvent: TypeAlias = (TransportConnected | TransportClosed | TrackPublished | ProducerClosed
                       | StatsSample | ActiveSpeaker | WorkerLoad | RouterClosed
                       | RecordingStarted | RecordingStopped)
EventListener = Callable[[SfuEvent], None]


class SfuClient(Protocol):
    async def start(self) -> None:
        """Prepare the media plane (check aiortc, start workers); safe to call again."""
        ...

    async def create_router(self) -> RouterId: ...

    async def close_router(self, router_id: RouterId) -> None: ...

    async def create_transport(self, router_id: RouterId, role: TransportRole) -> TransportId: ...

    async def close_transport(self, transport_id: TransportId) -> None: ...

    async def publish(self, transport_id: TransportId, offer_sdp: str,
                      mids: Collection[str] | None = None) -> PublishResult:
        """Apply a publisher's offer; answer it and create a producer per new track.

        With `mids`, only those m-lines become producers (the ones the browser declared).
        """
        ...

    async def close_producer(self, producer_id: ProducerId) -> None: ...

    async def pause_producer(self, producer_id: ProducerId, paused: bool) -> None: ...

    async def consume(self, transport_id: TransportId, producer_id: ProducerId) -> ConsumerId:
        """Forward a producer on a subscribe transport (takes effect at the next offer)."""
        ...

    async def close_consumer(self, consumer_id: ConsumerId) -> None: ...

    async def create_offer(self, transport_id: TransportId) -> SubscribeOffer: ...

    async def apply_answer(self, transport_id: TransportId, answer_sdp: str) -> None: ...

    async def add_ice_candidate(self, transport_id: TransportId, candidate: str,
                                sdp_mid: str | None, sdp_mline_index: int | None) -> None: ...

    async def stats(self, router_id: RouterId) -> StatsSample:
        """The current figures of every producer and consumer of a router."""
        ...

    async def start_recording(self, router_id: RouterId, directory: str) -> None:
        """Record every current and future track of the router into `directory`.

        Starting again on a directory that already holds segments continues their
        numbering. Raises SfuError 'low_disk' when free space is below the floor.
        """
        ...

    async def stop_recording(self, router_id: RouterId) -> None:
        """Finish every open segment and stop recording; nothing happens when idle."""
        ...

    def add_listener(self, listener: EventListener) -> Callable[[], None]:
        """Receive every event; returns a function that removes the listener."""
        ...

    async def close(self) -> None: ...
