"""Live meetings: who is in each one, what they publish, and what each one receives.

A Conference is one meeting while it is live. It owns one SFU router. Each
participant has a publish transport (the browser offers) and a subscribe transport
(the server offers; renegotiated whenever the set of forwarded tracks changes).
The SFU is reached only through `SfuClient`; SDP stays an opaque string here.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from sfu.api import (
    ActiveSpeaker,
    RecordingStopped,
    RouterClosed,
    SfuClient,
    SfuError,
    SfuEvent,
    TransportClosed,
)
from sfu.config import IceServer
from sfu.ids import ProducerId, TransportId
from signaling.accounts.accounts import Account
from signaling.errors import BadRequest, Forbidden, InvalidSdp, NotFound, ServiceUnavailable
from signaling.ids import MeetingId, ParticipantId
from signaling.live import protocol as p
from signaling.live.participants import (
    Close,
    Conference,
    LiveMeeting,
    LiveParticipant,
    Participant,
    Send,
)
from signaling.records.attendance import AttendanceService
from signaling.schedule.meetings import Meeting

if TYPE_CHECKING:
    from signaling.live.recording_control import RecordingControl

logger = logging.getLogger(__name__)

MEDIA_LOST = "media_lost"
"""Error code telling a client to join again by itself (its media path is gone)."""
RETRYABLE_SFU_CODES = frozenset({"worker_unavailable", "unknown_id"})


def _sfu_error(exc: SfuError) -> Exception:
    by_code = {"worker_unavailable": ServiceUnavailable, "invalid_sdp": InvalidSdp,
               "unknown_id": NotFound}
    return by_code.get(exc.code, BadRequest)(exc.message)


class Conferences:
    """Every live meeting on this node."""

    def __init__(self, sfu: SfuClient, attendance: AttendanceService,
                 ice_servers: list[IceServer],
                 recording: RecordingControl | None = None) -> None:
        self._sfu = sfu
        self._recording = recording
        self._attendance = attendance
        self._ice_servers = [{"urls": s.urls, **({"username": s.username} if s.username else {}),
                              **({"credential": s.credential} if s.credential else {})}
                             for s in ice_servers]
        self.live: dict[MeetingId, Conference] = {}
        self._resume_recording: set[MeetingId] = set()
        self._starting: dict[MeetingId, asyncio.Lock] = {}
        self._by_transport: dict[TransportId, Participant] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._leaving: set[asyncio.Future[None]] = set()
        self._remove_listener = sfu.add_listener(self._on_sfu_event)

    # ------------------------------------------------------------ membership

    async def join(self, meeting: Meeting, account: Account, send: Send,
                   close: Close | None = None) -> Participant:
        if meeting.state == "cancelled":
            raise Forbidden("This meeting has been cancelled")
        for attempt in (1, 2):
            conference = await self._live_conference(meeting)
            try:
                return await self._join(conference, account, send, close)
            except SfuError as exc:
                # The router's worker died under us: move the meeting to a new router.
                if attempt == 2 or exc.code not in RETRYABLE_SFU_CODES:
                    raise _sfu_error(exc) from exc
                logger.warning("meeting %s: router %s unusable (%s); using a new one",
                               meeting.id, conference.router_id, exc.message)
                self._forget(conference)
        raise AssertionError("unreachable")

    async def _live_conference(self, meeting: Meeting) -> Conference:
        """The live conference; the first joiner starts it, others joining then wait."""
        async with self._starting.setdefault(meeting.id, asyncio.Lock()):
            conference = self.live.get(meeting.id)
            if conference is not None:
                return conference
            try:
                router_id = await self._sfu.create_router()
            except SfuError as exc:
                raise _sfu_error(exc) from exc
            conference = Conference(meeting=meeting, router_id=router_id)
            self.live[meeting.id] = conference
            logger.info("meeting %s live on router %s", meeting.id, router_id)
            if self._recording is not None:
                await self._recording.meeting_live(conference)
                if meeting.id in self._resume_recording and not conference.recording:
                    await self._recording.resume(conference)
                self._resume_recording.discard(meeting.id)
            return conference

    async def _join(self, conference: Conference, account: Account, send: Send,
                    close: Close | None) -> Participant:
        meeting = conference.meeting
        async with conference.lock:
            publish = await self._sfu.create_transport(conference.router_id, "publish")
            try:
                subscribe = await self._sfu.create_transport(conference.router_id, "subscribe")
            except SfuError:
                await self._sfu.close_transport(publish)
                raise
            participant = Participant(
                id=ParticipantId(f"pa-{secrets.token_hex(6)}"), meeting_id=meeting.id,
                username=account.username, display_name=account.display_name, send=send,
                publish_transport=publish, subscribe_transport=subscribe,
                conference=conference, close=close)
            self._by_transport[publish] = participant
            self._by_transport[subscribe] = participant
            others = list(conference.participants.values())
            conference.participants[participant.id] = participant
            self._attendance.joined(meeting.id, account.username, participant.id)
            logger.info("meeting %s: %s joined as %s", meeting.id, account.username, participant.id)
            await send(p.Joined(meeting_id=meeting.id, title=meeting.title,
                                participant_id=participant.id,
                                participants=[x.info for x in conference.participants.values()],
                                tracks=conference.tracks(), ice_servers=self._ice_servers))
            if self._recording is not None:
                if self._recording.may_control(conference, account):
                    conference.managers.add(participant.id)
                await send(self._recording_state(conference, participant))
            for other in others:
                await self._safe_send(other, p.ParticipantJoined(participant=participant.info))
            for track in conference.tracks():
                await self._consume(participant, ProducerId(track.producer_id))
        self._spawn(self._negotiate(participant))
        return participant

    def _forget(self, conference: Conference) -> None:
        """New joins of this meeting get a new conference (and router) from now on."""
        if self.live.get(conference.meeting.id) is conference:
            del self.live[conference.meeting.id]

    async def leave(self, participant: Participant, reason: str = "left") -> None:
        """Take a participant out; completes even if the caller is cancelled."""
        if participant.leaving is None:
            participant.left = True
            participant.leaving = asyncio.ensure_future(self._leave(participant, reason))
            self._leaving.add(participant.leaving)
            participant.leaving.add_done_callback(self._leaving.discard)
        await asyncio.shield(participant.leaving)

    async def _leave(self, participant: Participant, reason: str) -> None:
        conference = participant.conference
        if conference is None:
            return
        async with conference.lock:
            conference.participants.pop(participant.id, None)
            for transport in (participant.publish_transport, participant.subscribe_transport):
                if transport is not None:
                    self._by_transport.pop(transport, None)
            for producer_id in list(participant.tracks):
                await self._remove_track(conference, participant, producer_id)
            for transport in (participant.publish_transport, participant.subscribe_transport):
                if transport is not None:
                    await self._sfu.close_transport(transport)
            self._attendance.left(participant.id)
            logger.info("meeting %s: %s left (%s)", participant.meeting_id, participant.username,
                        reason)
            for other in conference.participants.values():
                await self._safe_send(other, p.ParticipantLeft(participant_id=participant.id,
                                                               username=participant.username))
            conference.managers.discard(participant.id)
            if not conference.participants:
                self._forget(conference)
                if self._recording is not None and not conference.lost:
                    await self._recording.meeting_over(conference)
                await self._sfu.close_router(conference.router_id)
                logger.info("meeting %s: last participant left, router closed",
                            participant.meeting_id)

    async def remove_account(self, username: str, reason: str, detail: str) -> int:
        """Tell the account's live participants their session expired (fatal), take
        them out of their meetings and close their sockets; returns how many."""
        found = [part for conference in list(self.live.values())
                 for part in list(conference.participants.values())
                 if part.username == username and not part.left]
        for participant in found:
            await self._safe_send(participant, p.Error(
                code="session_expired", title="Session ended", detail=detail, fatal=True))
            await self.leave(participant, reason=reason)
            if participant.close is not None:
                await participant.close()
        return len(found)

    def live_usernames(self) -> set[str]:
        return {part.username for conference in self.live.values()
                for part in conference.participants.values() if not part.left}

    # ------------------------------------------------------------ publishing

    async def publish(self, participant: Participant, message: p.Publish) -> None:
        conference = self._conference(participant)
        assert participant.publish_transport is not None
        sources = {t.mid: t for t in message.tracks}
        async with conference.lock:
            try:
                result = await self._sfu.publish(participant.publish_transport, message.sdp,
                                                 mids=list(sources) or None)
            except SfuError as exc:
                raise _sfu_error(exc) from exc
            created: list[p.TrackInfo] = []
            for producer in result.producers:
                declared = sources.get(producer.mid)
                source: p.Source = (declared.source if declared and declared.kind == producer.kind
                                    else "microphone" if producer.kind == "audio" else "camera")
                track = p.TrackInfo(producer_id=producer.producer_id, participant_id=participant.id,
                                    username=participant.username, kind=producer.kind,
                                    source=source)
                participant.tracks[producer.producer_id] = track
                conference.codecs[producer.producer_id] = producer.codec
                if self._recording is not None:
                    self._recording.track_published(conference, producer.producer_id,
                                                    producer.kind, participant.username, source)
                created.append(track)
                muted = participant.audio_muted if producer.kind == "audio" else (
                    participant.video_muted and source == "camera")
                if muted:
                    await self._sfu.pause_producer(producer.producer_id, True)
            await participant.send(p.Published(sdp=result.answer_sdp, tracks=created))
            for track in created:
                for other in conference.participants.values():
                    if other is participant:
                        continue
                    await self._safe_send(other, p.TrackPublished(track=track))
                    await self._consume(other, ProducerId(track.producer_id))
        for other in list(conference.participants.values()):
            if other is not participant and created:
                self._spawn(self._negotiate(other))

    async def unpublish(self, participant: Participant, producer_id: ProducerId) -> None:
        conference = self._conference(participant)
        if producer_id not in participant.tracks:
            raise NotFound(f"you publish no track with id {producer_id}")
        async with conference.lock:
            await self._remove_track(conference, participant, producer_id)

    async def _remove_track(self, conference: Conference, participant: Participant,
                            producer_id: ProducerId) -> None:
        participant.tracks.pop(producer_id, None)
        await self._sfu.close_producer(producer_id)
        for other in conference.participants.values():
            if other.consumers.pop(producer_id, None) is not None:
                self._spawn(self._negotiate(other))
            if other is not participant:
                await self._safe_send(other, p.TrackUnpublished(producer_id=producer_id,
                                                                participant_id=participant.id))

    async def mute(self, participant: Participant, kind: p.Kind, muted: bool) -> None:
        conference = self._conference(participant)
        async with conference.lock:
            if kind == "audio":
                participant.audio_muted = muted
            else:
                participant.video_muted = muted
            for track in participant.tracks.values():
                if track.kind == kind and (kind == "audio" or track.source == "camera"):
                    await self._sfu.pause_producer(ProducerId(track.producer_id), muted)
            for other in conference.participants.values():
                await self._safe_send(other, p.MuteChanged(participant_id=participant.id,
                                                           kind=kind, muted=muted))

    # ------------------------------------------------------------ recording

    async def set_recording(self, participant: Participant, account: Account,
                            start: bool) -> None:
        conference = self._conference(participant)
        if self._recording is None:
            raise BadRequest("recording is not available on this server")
        async with conference.lock:
            before = (conference.recording, conference.recording_reason)
            try:
                await self._recording.request(conference, account, start)
            finally:
                if (conference.recording, conference.recording_reason) != before:
                    await self._broadcast_recording(conference)

    def _recording_state(self, conference: Conference,
                         participant: Participant) -> p.RecordingState:
        return p.RecordingState(recording=conference.recording,
                                policy=conference.recording_policy,
                                reason=conference.recording_reason,
                                can_control=participant.id in conference.managers)

    async def _broadcast_recording(self, conference: Conference) -> None:
        for other in list(conference.participants.values()):
            await self._safe_send(other, self._recording_state(conference, other))

    async def _recording_stopped(self, event: RecordingStopped) -> None:
        for conference in list(self.live.values()):
            if conference.router_id == event.router_id and self._recording is not None:
                if self._recording.stopped_by_sfu(conference, event):
                    await self._broadcast_recording(conference)

    # ------------------------------------------------------------ subscribing

    async def _consume(self, participant: Participant, producer_id: ProducerId) -> None:
        if participant.subscribe_transport is None or producer_id in participant.consumers:
            return
        consumer_id = await self._sfu.consume(participant.subscribe_transport, producer_id)
        participant.consumers[producer_id] = consumer_id

    async def _negotiate(self, participant: Participant) -> None:
        """Send the subscriber a fresh offer; one at a time, repeated while changes queue."""
        if participant.negotiating:
            participant.renegotiate = True
            return
        if participant.left or participant.subscribe_transport is None:
            return
        if not participant.consumers:
            return
        participant.negotiating = True
        participant.renegotiate = False
        try:
            offer = await self._sfu.create_offer(participant.subscribe_transport)
        except SfuError as exc:
            participant.negotiating = False
            logger.warning("participant %s: no offer: %s", participant.id, exc.message)
            return
        conference = self.live.get(participant.meeting_id)
        consumers = []
        for c in offer.consumers:
            track = conference.track(c.producer_id) if conference else None
            if track is not None:
                consumers.append(p.ConsumerInfo(
                    mid=c.mid, producer_id=c.producer_id, participant_id=track.participant_id,
                    username=track.username, kind=track.kind, source=track.source))
        await self._safe_send(participant, p.Offer(sdp=offer.offer_sdp, consumers=consumers))

    async def answer(self, participant: Participant, sdp: str) -> None:
        self._conference(participant)
        if not participant.negotiating or participant.subscribe_transport is None:
            raise BadRequest("there is no offer waiting for an answer")
        try:
            await self._sfu.apply_answer(participant.subscribe_transport, sdp)
        except SfuError as exc:
            if exc.code != "invalid_sdp":  # a bad answer leaves the offer waiting for a good one
                participant.negotiating = False
            raise _sfu_error(exc) from exc
        participant.negotiating = False
        if participant.renegotiate:
            await self._negotiate(participant)

    async def ice(self, participant: Participant, message: p.Ice) -> None:
        self._conference(participant)
        transport = (participant.publish_transport if message.transport == "publish"
                     else participant.subscribe_transport)
        if transport is None:
            raise BadRequest("that transport does not exist yet")
        try:
            await self._sfu.add_ice_candidate(transport, message.candidate, message.sdp_mid,
                                              message.sdp_mline_index)
        except SfuError as exc:
            raise _sfu_error(exc) from exc

    # ------------------------------------------------------------ observing

    def snapshot(self) -> list[LiveMeeting]:
        """Every live meeting with its participants and their tracks, as they are now."""
        return [
            LiveMeeting(
                meeting_id=c.meeting.id, title=c.meeting.title, router_id=c.router_id,
                participants=tuple(
                    LiveParticipant(
                        participant_id=x.id, username=x.username, display_name=x.display_name,
                        publish_transport=x.publish_transport,
                        subscribe_transport=x.subscribe_transport,
                        tracks=tuple(x.tracks.values()), audio_muted=x.audio_muted,
                        video_muted=x.video_muted)
                    for x in c.participants.values() if not x.left))
            for c in self.live.values()
        ]

    def describe_transport(self, transport_id: TransportId) -> tuple[MeetingId, ParticipantId,
                                                                      str] | None:
        """(meeting, participant, username) owning a transport, if it is live."""
        participant = self._by_transport.get(transport_id)
        if participant is None or participant.left:
            return None
        return participant.meeting_id, participant.id, participant.username

    async def notify(self, meeting_id: MeetingId, message: p.ServerMessage) -> None:
        """Send one message to every participant of a live meeting."""
        conference = self.live.get(meeting_id)
        if conference is None:
            return
        for participant in list(conference.participants.values()):
            await self._safe_send(participant, message)

    # ------------------------------------------------------------ plumbing

    def _conference(self, participant: Participant) -> Conference:
        conference = participant.conference
        if conference is None or participant.left:
            raise BadRequest("you are not in a meeting; join first")
        return conference

    def _on_sfu_event(self, event: SfuEvent) -> None:
        if isinstance(event, TransportClosed) and event.reason == "failed":
            participant = self._by_transport.get(event.transport_id)
            if participant is not None and not participant.left:
                logger.warning("participant %s: transport %s failed", participant.id,
                               event.transport_id)
                self._spawn(self._media_lost(participant, "The media connection failed."))
        elif isinstance(event, RouterClosed):
            for conference in list(self.live.values()):
                if conference.router_id == event.router_id:
                    logger.error("meeting %s: router %s lost (%s)", conference.meeting.id,
                                 event.router_id, event.reason)
                    self._forget(conference)
                    conference.lost = True
                    if self._recording is not None and self._recording.interrupted(conference):
                        # Recording goes on in the meeting's next conference.
                        self._resume_recording.add(conference.meeting.id)
                    for participant in list(conference.participants.values()):
                        self._spawn(self._media_lost(
                            participant, "The media server restarted."))
        elif isinstance(event, RecordingStopped):
            self._spawn(self._recording_stopped(event))
        elif isinstance(event, ActiveSpeaker):
            self._active_speaker(event)

    def _active_speaker(self, event: ActiveSpeaker) -> None:
        for conference in self.live.values():
            if conference.router_id != event.router_id:
                continue
            track = conference.track(event.producer_id) if event.producer_id else None
            message = p.ActiveSpeakerChanged(
                participant_id=track.participant_id if track is not None else None)
            for participant in list(conference.participants.values()):
                self._spawn(self._safe_send(participant, message))

    async def _media_lost(self, participant: Participant, detail: str) -> None:
        """Tell the client to join again by itself, and take it out meanwhile, so the
        meeting record shows no one who is not really there."""
        if participant.left:
            return
        await self._safe_send(participant, p.Error(
            code=MEDIA_LOST, title="Media connection lost", detail=detail + " Reconnecting.",
            fatal=True, extra={"rejoin": True}))
        await self.leave(participant, reason="media lost")

    async def _safe_send(self, participant: Participant, message: p.ServerMessage) -> None:
        if participant.left:
            return
        try:
            await participant.send(message)
        except (ConnectionError, RuntimeError) as exc:
            logger.info("participant %s: cannot send %s: %s", participant.id, message.type, exc)

    def _spawn(self, coro: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await coro
            except Exception:
                logger.exception("background signaling task failed")

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        self._remove_listener()
        for conference in list(self.live.values()):
            for participant in list(conference.participants.values()):
                await self.leave(participant, reason="server shutting down")
        await asyncio.gather(*self._leaving, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
