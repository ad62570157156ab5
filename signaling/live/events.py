"""SFU events, routed to the live meeting and participant they concern: a transport
that closed without signaling asking (ICE failed or consent expired, DTLS closed, the
worker cleaned up) or a lost router, whose participants are told to join again; the SFU
stopping a recording by itself; and the active speaker (who also moves onto the first
page of tiles)."""

from __future__ import annotations

import logging

from sfu.api import ActiveSpeaker, RecordingStopped, RouterClosed, SfuEvent, TransportClosed
from signaling.live import protocol as p
from signaling.live.background import BackgroundTasks
from signaling.live.losses import MediaLoss
from signaling.live.recording import LiveRecording
from signaling.live.registry import LiveRegistry
from signaling.live.tile_order import TileOrdering

logger = logging.getLogger(__name__)


class SfuEventRouting:
    def __init__(self, registry: LiveRegistry, losses: MediaLoss,
                 recording: LiveRecording, tasks: BackgroundTasks,
                 tiles: TileOrdering) -> None:
        self._registry = registry
        self._losses = losses
        self._recording = recording
        self._tasks = tasks
        self._tiles = tiles

    def on_event(self, event: SfuEvent) -> None:
        if isinstance(event, TransportClosed):
            self._transport_closed(event)
        elif isinstance(event, RouterClosed):
            self._router_lost(event)
        elif isinstance(event, RecordingStopped):
            self._tasks.spawn(self._recording_stopped(event))
        elif isinstance(event, ActiveSpeaker):
            self._active_speaker(event)

    def _transport_closed(self, event: TransportClosed) -> None:
        """A transport of someone still in closed: signaling did not ask for it (a
        participant's transports leave the registry before signaling closes them)."""
        participant = self._registry.owner_of(event.transport_id)
        if participant is not None:
            logger.warning("participant %s: transport %s %s", participant.id,
                           event.transport_id, event.reason)
            self._losses.report(participant, "The media connection was lost.")

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
            self._losses.report(participant, "The media server restarted.")

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
        if track is not None:  # onto everyone's first page
            self._tasks.spawn(self._tiles.spoke(live_meeting, track.participant_id))
