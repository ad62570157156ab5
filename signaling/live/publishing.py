"""What participants publish: their tracks (each forwarded to every other participant,
who then gets a fresh offer), taking a track down, and muting."""

from __future__ import annotations

import logging

from sfu.api import SfuClient, SfuError
from sfu.ids import ProducerId
from signaling.errors import NotFound, TooManyTracks
from signaling.live import protocol as p
from signaling.live.losses import MediaLoss
from signaling.live.negotiation import Negotiation
from signaling.live.participants import LiveMeeting, Participant, live_meeting_of
from signaling.live.recording import LiveRecording
from signaling.live.sfu_errors import sfu_error
from signaling.live.track_limits import MAX_TRACKS, TOO_MANY_TRACKS, check_track_limits

logger = logging.getLogger(__name__)


class Publishing:
    def __init__(self, sfu: SfuClient, negotiation: Negotiation,
                 recording: LiveRecording, losses: MediaLoss) -> None:
        self._sfu = sfu
        self._negotiation = negotiation
        self._recording = recording
        self._losses = losses

    async def publish(self, participant: Participant, message: p.Publish) -> None:
        live_meeting = live_meeting_of(participant)
        assert participant.publish_transport is not None
        sources = {t.mid: t for t in message.tracks}
        check_track_limits(message.sdp)
        async with live_meeting.lock:
            try:
                result = await self._sfu.publish(participant.publish_transport, message.sdp,
                                                 mids=list(sources) or None)
            except SfuError as exc:
                raise sfu_error(exc) from exc
            kinds: list[str] = [t.kind for t in participant.tracks.values()]
            kinds += [producer.kind for producer in result.producers]
            if any(kinds.count(kind) > limit for kind, limit in MAX_TRACKS.items()):
                for producer in result.producers:
                    await self._sfu.close_producer(producer.producer_id)
                raise TooManyTracks(TOO_MANY_TRACKS, **{f"max_{kind}": n
                                                          for kind, n in MAX_TRACKS.items()})
            created: list[p.TrackInfo] = []
            for producer in result.producers:
                declared = sources.get(producer.mid)
                source: p.Source = (declared.source if declared and declared.kind == producer.kind
                                    else "microphone" if producer.kind == "audio" else "camera")
                track = p.TrackInfo(producer_id=producer.producer_id, participant_id=participant.id,
                                    username=participant.username, kind=producer.kind,
                                    source=source)
                participant.tracks[producer.producer_id] = track
                live_meeting.codecs[producer.producer_id] = producer.codec
                self._recording.track_published(live_meeting, producer.producer_id,
                                                producer.kind, participant.username, source)
                created.append(track)
                muted = participant.audio_muted if producer.kind == "audio" else (
                    participant.video_muted and source == "camera")
                if muted:
                    await self._pause(producer.producer_id, True)
            await participant.send(p.Published(sdp=result.answer_sdp, tracks=created))
            for track in created:
                for other in live_meeting.participants.values():
                    if other is participant:
                        continue
                    await other.tell(p.TrackPublished(track=track))
                    # One subscriber's broken transport never fails the publisher.
                    if not await self._negotiation.consume(other, ProducerId(track.producer_id)):
                        self._losses.report(other, "The media connection was lost.")
        for other in list(live_meeting.participants.values()):
            if other is not participant and created:
                self._negotiation.renegotiate(other)

    async def unpublish(self, participant: Participant, producer_id: ProducerId) -> None:
        live_meeting = live_meeting_of(participant)
        if producer_id not in participant.tracks:
            raise NotFound(f"you publish no track with id {producer_id}")
        async with live_meeting.lock:
            await self.remove_track(live_meeting, participant, producer_id)

    async def remove_track(self, live_meeting: LiveMeeting, participant: Participant,
                           producer_id: ProducerId) -> None:
        """Close the producer and tell the others; called with the meeting's lock held."""
        participant.tracks.pop(producer_id, None)
        await self._sfu.close_producer(producer_id)
        for other in live_meeting.participants.values():
            if other.consumers.pop(producer_id, None) is not None:
                self._negotiation.renegotiate(other)
            if other is not participant:
                await other.tell(p.TrackUnpublished(producer_id=producer_id,
                                                    participant_id=participant.id))

    async def mute(self, participant: Participant, kind: p.Kind, muted: bool) -> None:
        live_meeting = live_meeting_of(participant)
        async with live_meeting.lock:
            if kind == "audio":
                participant.audio_muted = muted
            else:
                participant.video_muted = muted
            for track in participant.tracks.values():
                if track.kind == kind and (kind == "audio" or track.source == "camera"):
                    await self._pause(ProducerId(track.producer_id), muted)
            for other in live_meeting.participants.values():
                await other.tell(p.MuteChanged(participant_id=participant.id,
                                               kind=kind, muted=muted))

    async def _pause(self, producer_id: ProducerId, paused: bool) -> None:
        """Pause or resume a producer; one the SFU lost already is only logged (its
        participant is being told to rejoin)."""
        try:
            await self._sfu.pause_producer(producer_id, paused)
        except SfuError as exc:
            logger.warning("producer %s: cannot %s it: %s", producer_id,
                           "pause" if paused else "resume", exc.message)
