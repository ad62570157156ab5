"""Host controls: what a host does to the others in a live meeting.

Every control is checked here against the rule (signaling/accounts/permissions.py
`may_control`, on the host reason of signaling/accounts/hosts.py) before anything
changes: a participant who does not chair, a target who is not in this meeting or a
control that makes no sense gets a typed error, and nothing happens to anyone.

A host only ever stops things: muting pauses the microphone's producer at once
through the SFU and holds it muted until a host asks to unmute (which the participant
accepts or declines); stopping a camera pauses it, stopping a screen share closes it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sfu.ids import ProducerId
from signaling.accounts.permissions import may_control
from signaling.errors import BadRequest, Forbidden
from signaling.ids import MeetingId, ParticipantId
from signaling.live import host_protocol as hp
from signaling.live import protocol as p
from signaling.live.chairs import (
    Chairs,
    MutedByHost,
    NotHost,
    NotOwner,
    Removed,
    UnknownParticipant,
)
from signaling.live.hands import Hands
from signaling.live.participants import LiveMeeting, Participant, live_meeting_of
from signaling.live.publishing import Publishing
from signaling.live.registry import LiveRegistry
from signaling.schedule.meetings import MeetingEnded

logger = logging.getLogger(__name__)

Leave = Callable[[Participant, str], Awaitable[None]]
Ended = Callable[[MeetingId], object]
"""Stores that a host ended the meeting (signaling/schedule/service.py `end_now`)."""


class HostControls:
    def __init__(self, registry: LiveRegistry, chairs: Chairs, publishing: Publishing,
                 hands: Hands, leave: Leave, ended: Ended | None = None) -> None:
        self._registry = registry
        self._ended = ended
        self._chairs = chairs
        self._publishing = publishing
        self._hands = hands
        self._leave = leave
        self.on_spotlight: Callable[[LiveMeeting], Awaitable[None]] | None = None
        """Told after every spotlight change (the tile order follows it)."""

    async def handle(self, host: Participant, message: hp.HostControl) -> None:
        live_meeting = live_meeting_of(host)
        if not may_control(message.type, host.host, host.owner):
            if host.host:
                raise NotOwner("Only the organizer, the leader, their secretaries or an "
                               "administrator may name co-hosts")
            raise NotHost("Only the hosts of this meeting may do this")
        if isinstance(message, hp.MuteAll):
            for other in list(live_meeting.participants.values()):
                if not other.host and other is not host:
                    await self._mute(host, other)
        elif isinstance(message, hp.LowerAllHands):
            await self._hands.lower_all(live_meeting)
        elif isinstance(message, hp.EndMeeting):
            await self._end(host, live_meeting)
        elif isinstance(message, hp.Spotlight):
            await self._spotlight(host, live_meeting, message)
        else:
            target = self._target(live_meeting, message.participant_id)
            await self._on_target(host, live_meeting, target, message)

    def _target(self, live_meeting: LiveMeeting, participant_id: str) -> Participant:
        target = live_meeting.participants.get(ParticipantId(participant_id))
        if target is not None and not target.left:
            return target
        elsewhere = any(x.id == participant_id for x in self._registry.participants())
        if elsewhere:
            raise UnknownParticipant(f"Participant {participant_id} is in another meeting",
                                     participant_id=participant_id)
        raise UnknownParticipant(f"No participant {participant_id} is in this meeting",
                                 participant_id=participant_id)

    async def _on_target(self, host: Participant, live_meeting: LiveMeeting,
                         target: Participant, message: hp.HostControl) -> None:
        if isinstance(message, hp.MuteParticipant):
            await self._mute(host, target)
        elif isinstance(message, hp.AskUnmute):
            if not target.audio_muted:
                raise BadRequest(f"{target.display_name}'s microphone is not muted")
            target.audio_held = False
            target.unmute_asked = True
            await target.tell(hp.HostAction(action="unmute_requested", by=host.display_name))
        elif isinstance(message, hp.StopVideo):
            await self._stop_video(host, live_meeting, target, message.source)
        elif isinstance(message, hp.LowerHand):
            await self._hands.lower(live_meeting, target)
            await target.tell(hp.HostAction(action="hand_lowered", by=host.display_name))
        elif isinstance(message, hp.RemoveParticipant):
            await self._remove(host, target)
        elif isinstance(message, hp.MakeCohost):
            await self._make_cohost(live_meeting, target, message.cohost)

    async def _mute(self, host: Participant, target: Participant) -> None:
        target.audio_held = True
        target.unmute_asked = False
        await self._publishing.mute(target, "audio", True)
        await target.tell(hp.HostAction(action="muted", by=host.display_name))
        logger.info("meeting %s: %s muted %s", target.meeting_id, host.username, target.id)

    async def _stop_video(self, host: Participant, live_meeting: LiveMeeting,
                          target: Participant, source: hp.VideoSource) -> None:
        if source == "camera":
            await self._publishing.mute(target, "video", True)
            await target.tell(hp.HostAction(action="camera_stopped", by=host.display_name))
            return
        screens = [ProducerId(t.producer_id) for t in target.tracks.values()
                   if t.source == "screen"]
        if not screens:
            raise BadRequest(f"{target.display_name} is not sharing a screen")
        for producer_id in screens:
            await self._publishing.unpublish(target, producer_id)
        await target.tell(hp.HostAction(action="screen_stopped", by=host.display_name))
        spot = live_meeting.spotlight
        if spot is not None and spot.participant_id == target.id and spot.source == "screen":
            await self._set_spotlight(live_meeting, None)

    async def _remove(self, host: Participant, target: Participant) -> None:
        if target is host:
            raise BadRequest("To leave the meeting, use the leave button")
        if target.host:
            raise Forbidden(f"{target.display_name} chairs this meeting and cannot be removed",
                            rule="host_not_removable")
        self._chairs.state(target.meeting_id).removed.add(target.username)
        exc = Removed("A host removed you from this meeting")
        await target.tell(p.Error(code=exc.code, title=exc.title, detail=exc.detail, fatal=True))
        logger.info("meeting %s: %s removed %s", target.meeting_id, host.username,
                    target.username)
        await self._leave(target, "removed by a host")
        if target.close is not None:
            await target.close()

    async def _spotlight(self, host: Participant, live_meeting: LiveMeeting,
                         message: hp.Spotlight) -> None:
        if message.participant_id is None:
            await self._set_spotlight(live_meeting, None)
            return
        target = self._target(live_meeting, message.participant_id)
        if message.source == "screen" and not any(t.source == "screen"
                                                  for t in target.tracks.values()):
            raise BadRequest(f"{target.display_name} is not sharing a screen")
        await self._set_spotlight(live_meeting, hp.SpotlightInfo(participant_id=target.id,
                                                                 source=message.source))

    async def _set_spotlight(self, live_meeting: LiveMeeting,
                             spotlight: hp.SpotlightInfo | None) -> None:
        async with live_meeting.lock:
            live_meeting.spotlight = spotlight
            await self.tell_spotlight(live_meeting)

    async def tell_spotlight(self, live_meeting: LiveMeeting) -> None:
        message = hp.SpotlightChanged(spotlight=live_meeting.spotlight)
        for other in list(live_meeting.participants.values()):
            await other.tell(message)
        if self.on_spotlight is not None:
            await self.on_spotlight(live_meeting)

    async def _make_cohost(self, live_meeting: LiveMeeting, target: Participant,
                           cohost: bool) -> None:
        state = self._chairs.state(target.meeting_id)
        if cohost:
            if target.host:
                raise BadRequest(f"{target.display_name} already chairs this meeting")
            state.cohosts.add(target.username)
            state.dropped.discard(target.username)
            target.host_reason = "cohost"
        else:
            if target.host_reason != "cohost":
                raise BadRequest(f"{target.display_name} is not a co-host")
            state.cohosts.discard(target.username)
            state.dropped.add(target.username)
            target.host_reason = None
        message = hp.HostChanged(participant_id=target.id, host=target.host)
        for other in list(live_meeting.participants.values()):
            await other.tell(message)

    async def _end(self, host: Participant, live_meeting: LiveMeeting) -> None:
        self._chairs.state(host.meeting_id).ended = True
        logger.info("meeting %s: ended for everyone by %s", host.meeting_id, host.username)
        if self._ended is not None:
            # Stored before anyone is told, so a rejoin is refused even after a restart.
            try:
                self._ended(host.meeting_id)
            except Exception:  # the live meeting ends all the same
                logger.exception("meeting %s: could not store its end", host.meeting_id)
        exc = MeetingEnded("A host ended the meeting for everyone")
        for other in list(live_meeting.participants.values()):
            await other.tell(p.Error(code=exc.code, title=exc.title, detail=exc.detail,
                                     fatal=True))
            await self._leave(other, "ended by a host")
            if other.close is not None:
                await other.close()

    # ------------------------------------------------------------ the participant's side

    async def answer_unmute(self, participant: Participant, accepted: bool) -> None:
        live_meeting = live_meeting_of(participant)
        if not participant.unmute_asked:
            raise BadRequest("No host has asked you to unmute")
        participant.unmute_asked = False
        if accepted:
            await self._publishing.mute(participant, "audio", False)
        message = hp.UnmuteAnswered(participant_id=participant.id, accepted=accepted)
        for other in list(live_meeting.participants.values()):
            if other.host:
                await other.tell(message)

    def check_unmute(self, participant: Participant, kind: p.Kind, muted: bool) -> None:
        """A participant unmuting themselves: refused while a host holds them muted."""
        if kind == "audio" and not muted and participant.audio_held:
            raise MutedByHost("A host muted your microphone; you can unmute when a host "
                              "asks you to")

    async def participant_left(self, live_meeting: LiveMeeting,
                               participant: Participant) -> None:
        """Their hand and any spotlight on them go; called with the lock held."""
        await self._hands.participant_left(live_meeting, participant)
        spot = live_meeting.spotlight
        if spot is not None and spot.participant_id == participant.id:
            live_meeting.spotlight = None
            await self.tell_spotlight(live_meeting)

