"""Frozen copies of live meetings for observers such as the quality monitor, the /it
dashboard and /metrics: who is in, on which transports, publishing what."""

from __future__ import annotations

from dataclasses import dataclass

from sfu.ids import RouterId, TransportId
from signaling.ids import MeetingId, ParticipantId
from signaling.live import protocol as p
from signaling.live.participants import LiveMeeting


@dataclass(frozen=True, slots=True)
class ParticipantSnapshot:
    """One participant of a live meeting, as they were when the snapshot was taken."""

    participant_id: ParticipantId
    username: str
    display_name: str
    publish_transport: TransportId | None
    subscribe_transport: TransportId | None
    tracks: tuple[p.TrackInfo, ...]
    audio_muted: bool
    video_muted: bool


@dataclass(frozen=True, slots=True)
class LiveMeetingSnapshot:
    """One live meeting and the participants still in it, when the snapshot was taken."""

    meeting_id: MeetingId
    title: str
    router_id: RouterId
    participants: tuple[ParticipantSnapshot, ...]


def snapshot_of(live_meeting: LiveMeeting) -> LiveMeetingSnapshot:
    return LiveMeetingSnapshot(
        meeting_id=live_meeting.meeting.id, title=live_meeting.meeting.title,
        router_id=live_meeting.router_id,
        participants=tuple(
            ParticipantSnapshot(
                participant_id=x.id, username=x.username, display_name=x.display_name,
                publish_transport=x.publish_transport,
                subscribe_transport=x.subscribe_transport,
                tracks=tuple(x.tracks.values()), audio_muted=x.audio_muted,
                video_muted=x.video_muted)
            for x in live_meeting.participants.values() if not x.left))
