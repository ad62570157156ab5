"""SFU events, routed to the live meeting and participant they concern: a failed
transport or a lost router (whose participants are told to join again), the SFU
stopping a recording by itself, and the active speaker."""

from __future__ import annotations

import logging

from sfu.api import ActiveSpeaker, RecordingStopped, RouterClosed, SfuEvent, TransportClosed
from signaling.live import protocol as p
from signaling.live.background import BackgroundTasks
from signaling.live.membership import Membership
from signaling.live.participants import Participant
from signaling.live.recording import LiveRecording
from signaling.live.registry import LiveRegistry

logger = logging.getLogger(__name__)

MEDIA_LOST = "media_lost"
"""Error code telling a client to join again by itself (its media path is gone)."""


class SfuEventRouting:
    def __init__(self, registry: LiveRegistry, membership: Membership,
                 recording: LiveRecording, tasks: BackgroundTasks) -> None:
        self._registry = registry
        self._membership = membership
        self._recording = recording
        self._tasks = tasks

    def on_event(self, event: SfuEvent) -> None:
        if isinstance(event, TransportClosed) and event.reason == "failed":
            self._transport_failed(event)
        elif isinstance(event, RouterClosed):
            self._router_lost(event)
        elif isinstance(event, RecordingStopped):
            self._tasks.spawn(self._recording_stopped(event))
        elif isinstance(event, ActiveSpeaker):
            self._active_speaker(event)

    def _transport_failed(self, event: TransportClosed) -> None:
        participant = self._registry.owner_of(event.transport_id)
        if participant is not None:
            logger.warning("participant %s: transport %s failed", participant.id,
                           event.transport_id)
            self._tasks.spawn(self._media_lost(participant, "The media connection failed."))

    def _router_lost(self, event: RouterClosed) -> None:
        live_meeting = self._registry.on_router(event.router_id)
        if live_meeting is None:
            return
        logger.error("meeting %s: router %s lost (%s)", live_meeting.meeting.id,
                     event.router_id, event.reason)
        self._registry.forget(live_meeting)
        live_meeting.lost = True
        self._recording.router_lost(live_meeting)
        for participant in list(live_meeting.participants.values()):
            self._tasks.spawn(self._media_lost(participant, "The media server restarted."))

    async def _recording_stopped(self, event: RecordingStopped) -> None:
        live_meeting = self._registry.on_router(event.router_id)
        if live_meeting is not None:
            await self._recording.stopped_by_sfu(live_meeting, event)

    def _active_speaker(self, event: ActiveSpeaker) -> None:
        live_meeting = self._registry.on_router(event.router_id)
        if live_meeting is None:
            return
        track = live_meeting.track(event.producer_id) if event.producer_id else None
        message = p.ActiveSpeakerChanged(
            participant_id=track.participant_id if track is not None else None)
        for participant in list(live_meeting.participants.values()):
            self._tasks.spawn(participant.tell(message))

    async def _media_lost(self, participant: Participant, detail: str) -> None:
        """Tell the client to join again by itself, and take it out meanwhile, so the
        meeting record shows no one who is not really there."""
        if participant.left:
            return
        await participant.tell(p.Error(
            code=MEDIA_LOST, title="Media connection lost", detail=detail + " Reconnecting.",
            fatal=True, extra={"rejoin": True}))
        await self._membership.leave(participant, reason="media lost")
