"""Visibility drives forwarding: each page says whose camera it shows (`visible`), and
the SFU forwards it only those. Every other camera consumer of that participant is
paused (nothing sent, no renegotiation) and resumed, from a keyframe, once shown.

Screen shares (always in the large view) and microphones are always forwarded, and so
is the camera a host put in the spotlight: every page shows it large, whichever page of
tiles it is on. A page that has not said yet gets the cameras of the first page of the
tile order.
"""

from __future__ import annotations

import logging

from sfu.api import SfuClient, SfuError
from sfu.ids import ProducerId
from signaling.live import protocol as p
from signaling.live.participants import LiveMeeting, Participant, live_meeting_of
from signaling.live.tiles_protocol import Visible

logger = logging.getLogger(__name__)


def forwarded(track: p.TrackInfo, shown: frozenset[str] | None,
              spotlight: str | None = None) -> bool:
    """Whether a participant whose page shows `shown` receives `track`, while
    `spotlight` has their camera in the spotlight."""
    return (track.kind == "audio" or track.source == "screen" or shown is None
            or track.participant_id in shown or track.participant_id == spotlight)


def spotlit_camera(live_meeting: LiveMeeting) -> str | None:
    """The participant whose camera is in the spotlight, when one is."""
    spot = live_meeting.spotlight
    return spot.participant_id if spot is not None and spot.source == "camera" else None


def first_page(live_meeting: LiveMeeting, participant: Participant,
               per_page: int) -> frozenset[str]:
    """What a page shows before it says: the first page of the tile order, without itself."""
    others = [pid for pid in live_meeting.tile_order if pid != participant.id]
    return frozenset(others[:per_page])


class Visibility:
    def __init__(self, sfu: SfuClient, per_page: int) -> None:
        self._sfu = sfu
        self.per_page = per_page

    async def show(self, participant: Participant, message: Visible) -> None:
        """The page now shows these participants' cameras, and no others."""
        live_meeting = live_meeting_of(participant)
        participant.shown = frozenset(t.participant_id for t in message.tiles)
        async with live_meeting.lock:
            await self.apply(live_meeting, participant)

    async def apply(self, live_meeting: LiveMeeting, participant: Participant) -> None:
        """Pause each consumer of `participant` that is not shown, resume each that is."""
        for producer_id in list(participant.consumers):
            await self.consumer_added(live_meeting, participant, producer_id)
        participant.hidden &= set(participant.consumers)

    async def spotlight_changed(self, live_meeting: LiveMeeting) -> None:
        """The spotlight moved: bring every participant's consumers in line with it
        (called with the meeting's lock held)."""
        for participant in list(live_meeting.participants.values()):
            await self.apply(live_meeting, participant)

    async def consumer_added(self, live_meeting: LiveMeeting, participant: Participant,
                             producer_id: ProducerId) -> None:
        """Bring one consumer in line with what the page shows (a new one starts
        forwarding; it is paused at once when its camera is not shown)."""
        consumer_id = participant.consumers.get(producer_id)
        track = live_meeting.track(producer_id)
        if consumer_id is None or track is None:
            return
        shown = participant.shown
        if shown is None:
            shown = first_page(live_meeting, participant, self.per_page)
        hide = not forwarded(track, shown, spotlit_camera(live_meeting))
        if hide == (producer_id in participant.hidden):
            return
        try:
            await self._sfu.pause_consumer(consumer_id, hide)
        except SfuError as exc:  # gone with its transport: the participant rejoins
            logger.info("participant %s: cannot %s consumer %s: %s", participant.id,
                        "pause" if hide else "resume", consumer_id, exc.message)
            return
        if hide:
            participant.hidden.add(producer_id)
        else:
            participant.hidden.discard(producer_id)
