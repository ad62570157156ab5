"""The subscribe side of each participant: what it receives, the server's offer and the
browser's answer (one offer at a time, offered again while changes queue), and the ICE
candidates of both transports. SDP stays an opaque string here."""

from __future__ import annotations

import logging

from sfu.api import InvalidSdpError, PortsExhaustedError, SfuClient, SfuError
from sfu.ids import ProducerId
from signaling.errors import BadRequest, ServiceUnavailable
from signaling.live import protocol as p
from signaling.live.background import BackgroundTasks
from signaling.live.participants import Participant, live_meeting_of
from signaling.live.registry import LiveRegistry
from signaling.live.sfu_errors import sfu_error
from signaling.live.visibility import Visibility

logger = logging.getLogger(__name__)


class Negotiation:
    def __init__(self, sfu: SfuClient, registry: LiveRegistry, tasks: BackgroundTasks,
                 tiles_per_page: int = 9) -> None:
        self._sfu = sfu
        self._registry = registry
        self._tasks = tasks
        self.visibility = Visibility(sfu, tiles_per_page)

    async def consume(self, participant: Participant, producer_id: ProducerId) -> bool:
        """Forward a producer to the participant (offered at the next negotiation);
        False, with one line logged, when the SFU cannot (a transport is gone)."""
        if participant.subscribe_transport is None or producer_id in participant.consumers:
            return True
        try:
            consumer_id = await self._sfu.consume(participant.subscribe_transport, producer_id)
        except SfuError as exc:
            logger.warning("participant %s: cannot receive producer %s: %s", participant.id,
                           producer_id, exc.message)
            return False
        participant.consumers[producer_id] = consumer_id
        live_meeting = self._registry.get(participant.meeting_id)
        if live_meeting is not None:
            await self.visibility.consumer_added(live_meeting, participant, producer_id)
        return True

    def renegotiate(self, participant: Participant) -> None:
        """Offer the participant what it receives now, in the background."""
        self._tasks.spawn(self.negotiate(participant))

    async def negotiate(self, participant: Participant) -> None:
        """Send the subscriber a fresh offer; one at a time, repeated while changes queue."""
        if participant.negotiating and not participant.offer_refused:
            participant.renegotiate = True
            return
        if participant.left or participant.subscribe_transport is None:
            return
        if not participant.consumers:
            return
        participant.negotiating = True
        participant.renegotiate = False
        participant.offer_refused = False
        try:
            offer = await self._sfu.create_offer(participant.subscribe_transport)
        except SfuError as exc:
            participant.negotiating = False
            logger.warning("participant %s: no offer: %s", participant.id, exc.message)
            if isinstance(exc, PortsExhaustedError):
                # Nothing can reach this participant: say why rather than stay silent.
                error = ServiceUnavailable(exc.message)
                await participant.tell(p.Error(code=error.code, title=error.title,
                                               detail=error.detail))
            return
        live_meeting = self._registry.get(participant.meeting_id)
        consumers = []
        for c in offer.consumers:
            track = live_meeting.track(c.producer_id) if live_meeting else None
            if track is not None:
                consumers.append(p.ConsumerInfo(
                    mid=c.mid, producer_id=c.producer_id, participant_id=track.participant_id,
                    username=track.username, kind=track.kind, source=track.source))
        await participant.tell(p.Offer(sdp=offer.offer_sdp, consumers=consumers))

    async def answer(self, participant: Participant, sdp: str) -> None:
        live_meeting_of(participant)
        if not participant.negotiating or participant.subscribe_transport is None:
            raise BadRequest("there is no offer waiting for an answer")
        try:
            result = await self._sfu.apply_answer(participant.subscribe_transport, sdp)
        except SfuError as exc:
            # A bad answer leaves the offer waiting for a good one, or for the next
            # change to replace it.
            if not isinstance(exc, InvalidSdpError):
                participant.negotiating = False
            else:
                participant.offer_refused = True
                if participant.renegotiate:
                    self.renegotiate(participant)
            raise sfu_error(exc) from exc
        participant.negotiating = False
        participant.offer_refused = False
        live_meeting = self._registry.get(participant.meeting_id)
        for consumer in result.undeliverable:
            track = live_meeting.track(consumer.producer_id) if live_meeting else None
            if track is not None:
                logger.info("participant %s: cannot decode producer %s", participant.id,
                            consumer.producer_id)
                await participant.tell(p.TrackUnsupported(
                    producer_id=track.producer_id, participant_id=track.participant_id,
                    kind=track.kind, source=track.source))
        if participant.renegotiate:
            await self.negotiate(participant)

    async def ice(self, participant: Participant, message: p.Ice) -> None:
        live_meeting_of(participant)
        transport = (participant.publish_transport if message.transport == "publish"
                     else participant.subscribe_transport)
        if transport is None:
            raise BadRequest("that transport does not exist yet")
        try:
            await self._sfu.add_ice_candidate(transport, message.candidate, message.sdp_mid,
                                              message.sdp_mline_index)
        except SfuError as exc:
            raise sfu_error(exc) from exc
