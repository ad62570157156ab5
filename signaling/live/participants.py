"""What a live meeting is made of: its participants and the conference holding them.

`Conferences` (signaling/live/meetings.py) changes these; observers such as the quality
monitor get read-only views (`LiveMeeting`, `LiveParticipant`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sfu.ids import ConsumerId, ProducerId, RouterId, TransportId
from signaling.ids import MeetingId, ParticipantId
from signaling.live import protocol as p
from signaling.schedule.meetings import Meeting

Send = Callable[[p.ServerMessage], Awaitable[None]]
Close = Callable[[], Awaitable[object]]


@dataclass(eq=False)
class Participant:
    id: ParticipantId
    meeting_id: MeetingId
    username: str
    display_name: str
    send: Send
    close: Close | None = None
    """Closes this participant's socket; used when the server removes them."""
    publish_transport: TransportId | None = None
    subscribe_transport: TransportId | None = None
    audio_muted: bool = False
    video_muted: bool = False
    tracks: dict[ProducerId, p.TrackInfo] = field(default_factory=dict)
    """What this participant publishes."""
    consumers: dict[ProducerId, ConsumerId] = field(default_factory=dict)
    """What this participant receives, by the producer forwarded."""
    negotiating: bool = False
    renegotiate: bool = False
    left: bool = False
    leaving: asyncio.Future[None] | None = None
    conference: Conference | None = None
    """The live conference joined (a meeting may get a new one if its router is lost)."""

    @property
    def info(self) -> p.ParticipantInfo:
        return p.ParticipantInfo(participant_id=self.id, username=self.username,
                                 display_name=self.display_name,
                                 audio_muted=self.audio_muted, video_muted=self.video_muted)


@dataclass(eq=False)
class Conference:
    meeting: Meeting
    router_id: RouterId
    participants: dict[ParticipantId, Participant] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    recording: bool = False
    recording_policy: str = "off"
    recording_reason: str | None = None
    """Why the meeting is not being recorded, when it is not."""
    codecs: dict[str, str] = field(default_factory=dict)
    lost: bool = False
    """Its router died with its SFU worker; the meeting goes on in a new conference."""
    """MIME type of each published track's codec, by producer id."""
    managers: set[ParticipantId] = field(default_factory=set)
    """Participants who may start and stop the recording."""

    def tracks(self) -> list[p.TrackInfo]:
        return [t for part in self.participants.values() for t in part.tracks.values()]

    def track(self, producer_id: ProducerId) -> p.TrackInfo | None:
        for part in self.participants.values():
            if producer_id in part.tracks:
                return part.tracks[producer_id]
        return None


@dataclass(frozen=True, slots=True)
class LiveParticipant:
    """A read-only view of one participant, for observers such as the quality monitor."""

    participant_id: ParticipantId
    username: str
    display_name: str
    publish_transport: TransportId | None
    subscribe_transport: TransportId | None
    tracks: tuple[p.TrackInfo, ...]
    audio_muted: bool
    video_muted: bool


@dataclass(frozen=True, slots=True)
class LiveMeeting:
    meeting_id: MeetingId
    title: str
    router_id: RouterId
    participants: tuple[LiveParticipant, ...]
