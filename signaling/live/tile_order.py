"""The meeting's tile order, kept current: on every join, leave, new active speaker and
spotlight (signaling/live/hosts.py), the order is worked out again
(signaling/live/last_n.py) and, when it changed, sent to every page as `tile_order`."""

from __future__ import annotations

from signaling.live.last_n import order_tiles
from signaling.live.participants import LiveMeeting, Participant
from signaling.live.tiles_protocol import TileOrder

SPEAKERS_KEPT = 64
"""How many recent speakers a meeting remembers."""


def spotlit(live_meeting: LiveMeeting) -> str | None:
    """The participant a host put in the spotlight, when there is one."""
    return live_meeting.spotlight.participant_id if live_meeting.spotlight else None


class TileOrdering:
    def __init__(self, per_page: int) -> None:
        self.per_page = per_page

    def message(self, live_meeting: LiveMeeting) -> TileOrder:
        return TileOrder(order=list(live_meeting.tile_order), per_page=self.per_page,
                         spotlight=spotlit(live_meeting))

    async def refresh(self, live_meeting: LiveMeeting,
                      joined: Participant | None = None) -> None:
        """Work the order out again; send it to everyone if it changed, and to the
        participant who just `joined` in any case."""
        async with live_meeting.tile_lock:
            order = order_tiles(live_meeting.tile_order, list(live_meeting.participants),
                                live_meeting.speakers, self.per_page, spotlit(live_meeting))
            changed = order != live_meeting.tile_order
            live_meeting.tile_order = order
            message = self.message(live_meeting)
            for participant in list(live_meeting.participants.values()):
                if changed or participant is joined:
                    await participant.tell(message)

    async def spoke(self, live_meeting: LiveMeeting, participant_id: str) -> None:
        """Someone became the active speaker."""
        live_meeting.speakers = [participant_id, *(
            pid for pid in live_meeting.speakers if pid != participant_id)][:SPEAKERS_KEPT]
        await self.refresh(live_meeting)
