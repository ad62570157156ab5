"""Raised hands: an ordered queue per live meeting, first raised first, shown to everyone.

Each change and the `hands` message telling it happen under the meeting's lock, so
every page receives the queues in the order they were made, however many raise at once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from signaling.errors import BadRequest
from signaling.live import host_protocol as hp
from signaling.live.participants import LiveMeeting, Participant, live_meeting_of


def queue_of(live_meeting: LiveMeeting) -> list[hp.HandInfo]:
    return [hp.HandInfo(participant_id=pid, raised_at=at.isoformat())
            for pid, at in live_meeting.hands.items()]


class Hands:
    async def raise_hand(self, participant: Participant, raised: bool) -> None:
        """Raise or lower one's own hand; raising again keeps one's place."""
        live_meeting = live_meeting_of(participant)
        async with live_meeting.lock:
            if raised == (participant.id in live_meeting.hands):
                return
            if raised:
                live_meeting.hands[participant.id] = datetime.now(UTC)
            else:
                del live_meeting.hands[participant.id]
            await self.tell(live_meeting)

    async def lower(self, live_meeting: LiveMeeting, target: Participant) -> None:
        async with live_meeting.lock:
            if live_meeting.hands.pop(target.id, None) is None:
                raise BadRequest(f"{target.display_name} has no hand raised")
            await self.tell(live_meeting)

    async def lower_all(self, live_meeting: LiveMeeting) -> None:
        async with live_meeting.lock:
            live_meeting.hands.clear()
            await self.tell(live_meeting)

    async def participant_left(self, live_meeting: LiveMeeting,
                               participant: Participant) -> None:
        """Their hand goes with them; called with the lock held."""
        if live_meeting.hands.pop(participant.id, None) is not None:
            await self.tell(live_meeting)

    async def tell(self, live_meeting: LiveMeeting) -> None:
        """Send everyone the queue; called with the lock held."""
        message = hp.Hands(queue=queue_of(live_meeting))
        for other in list(live_meeting.participants.values()):
            await other.tell(message)
