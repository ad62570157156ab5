"""The SFU's one small async API, and the typed events it emits.

Signaling talks to the media plane only through `SfuClient`. The API speaks IDs and
opaque SDP strings; it knows nothing of accounts or meetings. This module imports no
aiortc, so the control plane can depend on it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol, TypeAlias

from .ids import ConsumerId, ProducerId, RouterId, TransportId

Kind = Literal["audio", "video"]
TransportRole = Literal["publish", "subscribe"]


class SfuError(Exception):
    """A request the SFU cannot carry out; `code` says which kind.

    Each kind is a subclass of `SfuErrorKind`, listed in `SFU_ERRORS` by its code; a
    plain SfuError carries a code that no subclass claims.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


SFU_ERRORS: dict[str, type[SfuErrorKind]] = {}
"""Every kind of SfuError, by its code; each kind enters itself when it is declared."""


class SfuErrorKind(SfuError):
    """One kind of SfuError: its class fixes its code."""

    CODE: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if SFU_ERRORS.setdefault(cls.CODE, cls) is not cls:
            raise TypeError(f"{cls.__name__}: the code {cls.CODE!r} is "
                            f"{SFU_ERRORS[cls.CODE].__name__}'s")

    def __init__(self, message: str) -> None:
        super().__init__(self.CODE, message)


class InvalidSdpError(SfuErrorKind):
    """An offer, answer or ICE candidate that cannot be applied."""

    CODE = "invalid_sdp"


class LowDiskError(SfuErrorKind):
    """Recording refused: free space is below the floor."""

    CODE = "low_disk"


class UnknownIdError(SfuErrorKind):
    """No router, transport, producer or consumer has that id."""

    CODE = "unknown_id"

    @classmethod
    def of(cls, what: str, ident: str) -> UnknownIdError:
        return cls(f"no {what} with id {ident}")


class OwnTrackError(SfuErrorKind):
    """A transport asked to consume its own producer."""

    CODE = "own_track"


class RecordingFailedError(SfuErrorKind):
    """The recording directory cannot be written."""

    CODE = "recording_failed"


class WrongRoleError(SfuErrorKind):
    """A publish request on a subscribe transport, or the other way round."""

    CODE = "wrong_role"


class TransportClosedError(SfuErrorKind):
    """The transport is closed."""

    CODE = "closed"


class NegotiationInProgressError(SfuErrorKind):
    """A new offer was asked for before the previous one was answered."""

    CODE = "negotiation_in_progress"


class NoOfferError(SfuErrorKind):
    """An answer came with no offer waiting for it."""

    CODE = "no_offer"


class PortsExhaustedError(SfuErrorKind):
    """No UDP port of the configured range is free for a new transport's ICE socket."""

    CODE = "ports_exhausted"


class BadRequestError(SfuErrorKind):
    """A worker got a control request it cannot read (unknown method, bad params)."""

    CODE = "bad_request"


class WorkerError(SfuErrorKind):
    """A worker failed unexpectedly, or sent a reply that cannot be read."""

    CODE = "worker_error"


class WorkerUnavailableError(SfuErrorKind):
    """No SFU worker can take the request (none running, or it died or timed out)."""

    CODE = "worker_unavailable"


def sfu_error(code: str, message: str) -> SfuError:
    """The SfuError of kind `code`; a plain SfuError when no kind has that code."""
    kind = SFU_ERRORS.get(code)
    return SfuError(code, message) if kind is None else kind(message)


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


@dataclass(frozen=True, slots=True)
class AnswerResult:
    undeliverable: list[ConsumerMid]
    """Consumers that became undeliverable with this answer: the subscriber rejected
    their section or left it inactive (its browser cannot decode that codec). They
    carry nothing; the others flow."""


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
    dropped_waiting_keyframe: int = 0
    """Outbound video: packets withheld because the subscriber had no keyframe yet."""
    undeliverable: bool = False
    """Outbound: the subscriber's browser rejected this stream's codec, so nothing is
    sent to it."""


@dataclass(frozen=True, slots=True)
class SpeakerFigures:
    """A router's active-speaker detector: its own counts and its current choice."""

    ticks: int = 0
    """Ticks that read the audio levels."""
    announcements: int = 0
    """Changes of speaker reported (each one an `ActiveSpeaker` event)."""
    current: ProducerId | None = None


@dataclass(frozen=True, slots=True)
class StatsSample:
    """Every stream of one router at one moment; emitted every few seconds."""

    router_id: RouterId
    at: float
    """Unix time of the sample."""
    streams: tuple[StreamStats, ...]
    speaker: SpeakerFigures = SpeakerFigures()


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

    async def pause_consumer(self, consumer_id: ConsumerId, paused: bool) -> None:
        """Stop (or resume) forwarding to one subscriber, without renegotiation.

        A paused consumer sends nothing; a resumed video consumer asks its publisher for
        a keyframe (coalesced per publisher) and forwards from that keyframe on.
        """
        ...

    async def create_offer(self, transport_id: TransportId) -> SubscribeOffer: ...

    async def apply_answer(self, transport_id: TransportId, answer_sdp: str) -> AnswerResult:
        """Apply a subscriber's answer; a rejected or inactive section is accepted and
        its consumer is reported undeliverable. After a refused answer, the next
        `create_offer` replaces the offer that was refused."""
        ...

    async def add_ice_candidate(self, transport_id: TransportId, candidate: str,
                                sdp_mid: str | None, sdp_mline_index: int | None) -> None: ...

    async def stats(self, router_id: RouterId) -> StatsSample:
        """The current figures of every producer and consumer of a router."""
        ...

    async def start_recording(self, router_id: RouterId, directory: str) -> None:
        """Record every current and future track of the router into `directory`.

        Starting again on a directory that already holds segments continues their
        numbering. Raises LowDiskError when free space is below the floor.
        """
        ...

    async def stop_recording(self, router_id: RouterId) -> None:
        """Finish every open segment and stop recording; nothing happens when idle."""
        ...

    def add_listener(self, listener: EventListener) -> Callable[[], None]:
        """Receive every event; returns a function that removes the listener."""
        ...

    async def close(self) -> None: ...
