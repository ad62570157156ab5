"""What a live meeting is made of: the `LiveMeeting` and its participants.

`LiveMeetings` (signaling/live/meetings.py) and its collaborators change these;
observers get frozen copies (signaling/live/snapshot.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sfu.ids import ConsumerId, ProducerId, RouterId, TransportId
from signaling.accounts.hosts import HostReason, may_name_cohosts
from signaling.errors import BadRequest
from signaling.ids import MeetingId, ParticipantId
from signaling.live import host_protocol as hp
from signaling.live import protocol as p
from signaling.schedule.meetings import Meeting

logger = logging.getLogger(__name__)

Send = Callable[[p.ServerMessage], Awaitable[None]]
Close = Callable[[], Awaitable[object]]


@dataclass(eq=False)
class Participant:
    id: ParticipantId
    meeting_id: MeetingId
    username: str
    display_name: str
    send: Send
    unit: str = ""
    """The unit of their account (a guest's is part of their display name)."""
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
    shown: frozenset[str] | None = None
    """Whose camera the page shows (its last `visible`); None until it says (then the
    first page of the tile order)."""
    hidden: set[ProducerId] = field(default_factory=set)
    """The producers whose consumer to this participant is paused, as not shown."""
    negotiating: bool = False
    renegotiate: bool = False
    offer_refused: bool = False
    """The answer to the offer under way was refused: it still waits for a good answer,
    but the next change replaces it with a new offer."""
    left: bool = False
    lost: bool = False
    """Their media path is gone: they were told to rejoin and are being taken out."""
    leaving: asyncio.Future[None] | None = None
    live_meeting: LiveMeeting | None = None
    """The live meeting joined (a meeting gets a new one if its router is lost)."""
    host_reason: HostReason | None = None
    """Why they chair the meeting (signaling/accounts/hosts.py); None: they do not."""
    audio_held: bool = False
    """A host muted them: they may not unmute until a host asks."""
    unmute_asked: bool = False
    """A host asked them to unmute and they have not answered yet."""

    @property
    def host(self) -> bool:
        return self.host_reason is not None

    @property
    def owner(self) -> bool:
        """Chairs as more than a co-host: may name co-hosts."""
        return may_name_cohosts(self.host_reason)

    @property
    def info(self) -> p.ParticipantInfo:
        return p.ParticipantInfo(participant_id=self.id, username=self.username,
                                 display_name=self.display_name,
                                 audio_muted=self.audio_muted, video_muted=self.video_muted,
                                 host=self.host, unit=self.unit)

    async def tell(self, message: p.ServerMessage) -> None:
        """Send unless they left; a socket that cannot take it is logged, not raised."""
        if self.left:
            return
        try:
            await self.send(message)
        except (ConnectionError, RuntimeError) as exc:
            logger.info("participant %s: cannot send %s: %s", self.id, message.type, exc)


@dataclass(eq=False)
class LiveMeeting:
    """One meeting while it is live, on one SFU router."""

    meeting: Meeting
    router_id: RouterId
    participants: dict[ParticipantId, Participant] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    recording: bool = False
    recording_policy: str = "off"
    recording_reason: str | None = None
    """Why the meeting is not being recorded, when it is not."""
    codecs: dict[str, str] = field(default_factory=dict)
    """MIME type of each published track's codec, by producer id."""
    lost: bool = False
    """Its router died with its SFU worker; the meeting goes on in a new live meeting."""
    managers: set[ParticipantId] = field(default_factory=set)
    """Participants who may start and stop the recording."""
    hands: dict[ParticipantId, datetime] = field(default_factory=dict)
    """Raised hands and when, first raised first (signaling/live/hands.py)."""
    spotlight: hp.SpotlightInfo | None = None
    """Shown large for everyone until a host releases it."""
    tile_order: list[str] = field(default_factory=list)
    """The tile order last sent to the pages (signaling/live/last_n.py)."""
    tile_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held while the tile order is worked out and sent, so that every page gets the
    orders in the order they were worked out (the last one it gets is the current one)."""
    speakers: list[str] = field(default_factory=list)
    """Participants who spoke, most recent first."""

    def tracks(self) -> list[p.TrackInfo]:
        return [t for part in self.participants.values() for t in part.tracks.values()]

    def track(self, producer_id: ProducerId) -> p.TrackInfo | None:
        for part in self.participants.values():
            if producer_id in part.tracks:
                return part.tracks[producer_id]
        return None


def live_meeting_of(participant: Participant) -> LiveMeeting:
    """The live meeting the participant is in; BadRequest once they left."""
    live_meeting = participant.live_meeting
    if live_meeting is None or participant.left:
        raise BadRequest("you are not in a meeting; join first")
    return live_meeting
