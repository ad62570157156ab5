"""A Router is one live meeting's media hub: its transports, producers and consumers."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Literal, TypeAlias

from . import aiortc_adapter as adapter
from .api import (
    ActiveSpeaker,
    AnswerResult,
    ConsumerMid,
    LowDiskError,
    OwnTrackError,
    ProducerClosed,
    ProducerInfo,
    PublishResult,
    RecordingFailedError,
    RecordingStarted,
    RecordingStopped,
    SfuEvent,
    SpeakerFigures,
    StatsSample,
    SubscribeOffer,
    TrackPublished,
    TransportClosed,
    TransportConnected,
    TransportRole,
    UnknownIdError,
)
from .config import RecorderSettings, SfuSettings
from .consumer import Consumer
from .ids import ConsumerId, ProducerId, RouterId, TransportId
from .producer import Producer
from .recorder import LowDiskSpace, Recorder
from .speaker import TICK_S, UNCHANGED, SpeakerDetector
from .stats import StatsSampler
from .transport import Transport

logger = logging.getLogger(__name__)

ACTIVATION_POLL_S = 0.02
ACTIVATION_TIMEOUT_S = 10.0


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


Member = Literal["router", "transport", "producer", "consumer"]
Directory: TypeAlias = "dict[tuple[Member, str], Router]"
"""Which router holds each (kind, id): a router itself, its transports, producers and
consumers."""


class Router:
    def __init__(self, router_id: RouterId, settings: SfuSettings,
                 emit: Callable[[SfuEvent], None],
                 directory: Directory | None = None, home: bool = True) -> None:
        """`directory` is shared with the engine: the router enters each of its
        transports, producers and consumers as it creates them and takes them out as
        they close, so the engine finds any of them in one lookup.

        A router that is not its meeting's `home` serves subscribers on another worker
        than the meeting's publishers: its producers are pipe sources, and speaker
        detection and recording stay at home."""
        self.id = router_id
        self.settings = settings
        self._emit = emit
        self._directory: Directory = {} if directory is None else directory
        self.transports: dict[TransportId, Transport] = {}
        self.producers: dict[ProducerId, Producer] = {}
        self.consumers: dict[ConsumerId, Consumer] = {}
        self._activators: dict[TransportId, asyncio.Task[None]] = {}
        self._sampler = StatsSampler(router_id)
        self._speaker = SpeakerDetector()
        self.home = home
        self._speaker_task = (asyncio.create_task(self._detect_speaker(),
                                                  name=f"speaker-{router_id}")
                              if home else None)
        self.closed = False
        self.recorder: Recorder | None = None
        self._recorder_stops: set[asyncio.Task[None]] = set()
        self._cleanups: dict[TransportId, asyncio.Task[None]] = {}
        """Closing transports whose connection ended by itself."""

    async def _detect_speaker(self) -> None:
        """Every tick, read each audio producer's levels and report a new speaker."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(TICK_S)
            loudness: dict[str, float | None] = {
                p.id: p.take_loudness() for p in self.producers.values() if p.kind == "audio"}
            if not loudness and self._speaker.current is None:
                continue
            speaker = self._speaker.tick(loudness, loop.time())
            if speaker is not UNCHANGED:
                producer_id = ProducerId(str(speaker)) if speaker is not None else None
                self._emit(ActiveSpeaker(self.id, producer_id))

    def packets_total(self) -> int:
        return (sum(p.packets for p in self.producers.values())
                + sum(c.packets for c in self.consumers.values()))

    def streams_count(self) -> int:
        return len(self.producers) + len(self.consumers)

    def stats(self, periodic: bool = False) -> StatsSample:
        """Every stream's figures; only the periodic sampler moves the rate window on."""
        detector = self._speaker
        speaker = SpeakerFigures(detector.ticks, detector.announcements,
                                 None if detector.current is None
                                 else ProducerId(detector.current))
        return self._sampler.sample(list(self.producers.values()),
                                    list(self.consumers.values()), periodic, speaker)

    # ------------------------------------------------------------ transports

    def create_transport(self, role: TransportRole) -> Transport:
        transport = Transport(TransportId(new_id("t")), self.id, role, self.settings,
                              self._transport_state_changed)
        self.transports[transport.id] = transport
        self._directory["transport", transport.id] = self
        return transport

    def transport(self, transport_id: TransportId) -> Transport:
        transport = self.transports.get(transport_id)
        if transport is None:
            raise UnknownIdError.of("transport", transport_id)
        return transport

    def _transport_state_changed(self, transport: Transport, state: str) -> None:
        if state == "connected":
            self._emit(TransportConnected(self.id, transport.id))
            if transport.role == "subscribe":
                self._schedule_activation(transport)
        elif transport.lost and not self.closed and transport.id not in self._cleanups:
            # Nobody asked for this close: clean up after it, then say so (signaling
            # tells the participant to rejoin).
            logger.warning("router %s: transport %s %s by itself", self.id, transport.id, state)
            task = asyncio.create_task(self.close_transport(transport.id, reason=state),
                                       name=f"lost-{transport.id}")
            self._cleanups[transport.id] = task
            task.add_done_callback(lambda _: self._cleanups.pop(transport.id, None))

    async def close_transport(self, transport_id: TransportId, reason: str = "closed") -> None:
        transport = self.transports.get(transport_id)
        if transport is None:
            return
        task = self._activators.pop(transport_id, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        for producer in [p for p in self.producers.values() if p.transport_id == transport_id]:
            await self.close_producer(producer.id)
        for consumer in [c for c in self.consumers.values() if c.transport_id == transport_id]:
            self._drop_consumer(consumer)
        await transport.close()
        # Forgotten only once closed, so a cancelled close is finished by Router.close().
        if self.transports.pop(transport_id, None) is not None:
            self._directory.pop(("transport", transport_id), None)
            self._emit(TransportClosed(self.id, transport_id, reason=reason))

    # ------------------------------------------------------------ producers

    async def publish(self, transport_id: TransportId, offer_sdp: str,
                      mids: Collection[str] | None = None) -> PublishResult:
        transport = self.transport(transport_id)
        answer = await transport.answer_offer(offer_sdp, self.undecodable,
                                              self.settings.video_codecs)
        known = {p.mid for p in self.producers.values() if p.transport_id == transport_id}
        created: list[ProducerInfo] = []
        for transceiver in transport.receiving_transceivers():
            if transceiver.mid in known or (mids is not None and transceiver.mid not in mids):
                continue
            codecs = [c for c in adapter.negotiated_codecs(transceiver)
                      if c.mimeType.lower() != "video/rtx"]
            if not codecs:
                continue
            producer = Producer(ProducerId(new_id("p")), transport_id, transceiver, codecs[0],
                                self.settings, transport.announced_ssrcs(str(transceiver.mid)))
            self.producers[producer.id] = producer
            self._directory["producer", producer.id] = self
            if self.recorder is not None:
                self.recorder.attach(producer)
            created.append(producer.info)
            logger.info("router %s: producer %s (%s %s) on transport %s", self.id, producer.id,
                        producer.kind, producer.codec.mimeType, transport_id)
            self._emit(TrackPublished(self.id, producer.info))
        return PublishResult(answer_sdp=answer, producers=created)

    def undecodable(self) -> set[str]:
        """The video codecs (lowercase MIME types) some participant cannot decode: its
        publish offer leaves them out, or its browser rejected them as a subscriber."""
        steered = {f"video/{name}".lower() for name in self.settings.video_codecs}
        found: set[str] = set()
        for transport in self.transports.values():
            found |= transport.cannot_decode
            if transport.decodes is not None:
                found |= steered - transport.decodes
        return found

    def producer(self, producer_id: ProducerId) -> Producer:
        producer = self.producers.get(producer_id)
        if producer is None:
            raise UnknownIdError.of("producer", producer_id)
        return producer

    def add_source(self, source: Producer) -> None:
        """A producer of another worker, fed by a pipe: consumed like one of this
        router's own, but announced by its home router, not here."""
        self.producers[source.id] = source
        self._directory["producer", source.id] = self

    async def close_producer(self, producer_id: ProducerId, announce: bool = True) -> None:
        producer = self.producers.get(producer_id)
        if producer is None:
            return
        for consumer in [c for c in self.consumers.values() if c.producer_id == producer_id]:
            self.close_consumer(consumer.id)
        del self.producers[producer_id]
        self._directory.pop(("producer", producer_id), None)
        if self.recorder is not None:
            self.recorder.detach(producer)
        await producer.close()
        if announce:
            self._emit(ProducerClosed(self.id, producer_id))

    # ------------------------------------------------------------ consumers

    def consume(self, transport_id: TransportId, producer_id: ProducerId) -> Consumer:
        transport = self.transport(transport_id)
        producer = self.producer(producer_id)
        if producer.transport_id == transport_id:
            raise OwnTrackError("a transport cannot consume its own producer")
        transceiver, numbering = transport.add_sending_transceiver(producer.kind, producer.codec)
        consumer = Consumer(ConsumerId(new_id("c")), transport_id, producer.upstream,
                            transceiver, numbering)
        self.consumers[consumer.id] = consumer
        self._directory["consumer", consumer.id] = self
        producer.add_consumer(consumer)
        return consumer

    def close_consumer(self, consumer_id: ConsumerId) -> None:
        consumer = self.consumers.get(consumer_id)
        if consumer is None:
            return
        self._drop_consumer(consumer)
        transport = self.transports.get(consumer.transport_id)
        if transport is not None and not transport.closed:
            transport.release_transceiver(consumer.transceiver)

    def pause_consumer(self, consumer_id: ConsumerId, paused: bool) -> None:
        consumer = self.consumers.get(consumer_id)
        if consumer is None:
            raise UnknownIdError.of("consumer", consumer_id)
        producer = self.producers.get(consumer.producer_id)
        if producer is not None:
            producer.pause_consumer(consumer, paused)

    def _drop_consumer(self, consumer: Consumer) -> None:
        """Close the consumer and forget it, here and at its producer."""
        self.consumers.pop(consumer.id, None)
        self._directory.pop(("consumer", consumer.id), None)
        producer = self.producers.get(consumer.producer_id)
        if producer is not None:
            producer.remove_consumer(consumer)
        consumer.close()

    async def create_offer(self, transport_id: TransportId) -> SubscribeOffer:
        transport = self.transport(transport_id)
        sdp = await transport.create_offer()
        consumers = [ConsumerMid(c.id, c.producer_id, str(c.mid))
                     for c in self.consumers.values()
                     if c.transport_id == transport_id and c.mid is not None]
        return SubscribeOffer(offer_sdp=sdp, consumers=consumers)

    async def apply_answer(self, transport_id: TransportId, answer_sdp: str) -> AnswerResult:
        transport = self.transport(transport_id)
        silent = {id(t) for t in await transport.apply_answer(answer_sdp)}
        newly: list[ConsumerMid] = []
        for consumer in self.consumers.values():
            if consumer.transport_id != transport_id or consumer.closed:
                continue
            undeliverable = id(consumer.transceiver) in silent
            if undeliverable and not consumer.undeliverable:
                transport.cannot_decode.add(consumer.codec.lower())
                newly.append(ConsumerMid(consumer.id, consumer.producer_id, str(consumer.mid)))
                logger.info("router %s: consumer %s (%s) undeliverable: transport %s "
                            "rejected it", self.id, consumer.id, consumer.codec, transport_id)
            consumer.undeliverable = undeliverable
        self._schedule_activation(transport)
        return AnswerResult(undeliverable=newly)

    def _schedule_activation(self, transport: Transport) -> None:
        """Start consumers as soon as aiortc has started their senders.

        aiortc starts a sender shortly after the answer is applied and DTLS is up; sending
        before that fails, and a keyframe sent into the void is a keyframe lost.
        """
        current = self._activators.get(transport.id)
        if current is not None and not current.done():
            return
        self._activators[transport.id] = asyncio.create_task(
            self._activate_consumers(transport), name=f"activate-{transport.id}")

    async def _activate_consumers(self, transport: Transport) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ACTIVATION_TIMEOUT_S
        while not transport.closed and loop.time() < deadline:
            if transport.connection_state == "connected":
                pending = False
                for consumer in self.consumers.values():
                    if (consumer.transport_id != transport.id or consumer.active
                            or consumer.undeliverable):
                        continue
                    if consumer.ready_to_activate():
                        consumer.activate()
                    elif not consumer.closed:
                        pending = True
                if not pending:
                    return
            await asyncio.sleep(ACTIVATION_POLL_S)

    # ------------------------------------------------------------ recording

    async def start_recording(self, directory: str,
                              settings: RecorderSettings) -> None:
        """Attach a recorder to every current and future producer."""
        if self.recorder is not None:
            return
        recorder = Recorder(self.id, Path(directory), settings, self._recording_failed)
        try:
            recorder.start()
        except LowDiskSpace as exc:
            logger.error("ALERT router %s: recording refused: %s", self.id, exc)
            raise LowDiskError(str(exc)) from exc
        except OSError as exc:
            raise RecordingFailedError(f"cannot record into {directory}: {exc.strerror}") from exc
        self.recorder = recorder
        for producer in self.producers.values():
            recorder.attach(producer)
        self._emit(RecordingStarted(self.id, directory))

    async def stop_recording(self, reason: str = "stopped") -> None:
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        await recorder.stop(reason)
        self._emit(RecordingStopped(self.id, reason))

    def _recording_failed(self, reason: str) -> None:
        """The recorder stopped itself (low disk, write error): finish it off."""
        if self.recorder is None or self.recorder.stopped_reason != reason:
            return
        task = asyncio.create_task(self.stop_recording(reason), name=f"stop-recording-{self.id}")
        self._recorder_stops.add(task)
        task.add_done_callback(self._recorder_stops.discard)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._speaker_task is not None:
            self._speaker_task.cancel()
            await asyncio.gather(self._speaker_task, return_exceptions=True)
        await self.stop_recording()
        await asyncio.gather(*self._recorder_stops, *self._cleanups.values(),
                             return_exceptions=True)
        for transport_id in list(self.transports):
            await self.close_transport(transport_id)
        for producer_id in list(self.producers):  # pipe sources: no transport of theirs
            await self.close_producer(producer_id, announce=False)
        for task in self._activators.values():
            task.cancel()
        await asyncio.gather(*self._activators.values(), return_exceptions=True)
        self._activators.clear()
