"""The live meetings on this node, found by meeting, by SFU router and by transport.

Membership adds a live meeting when its router starts and forgets it when the router
closes or is lost; the indexes follow, so no lookup scans the meetings.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sfu.ids import RouterId, TransportId
from signaling.ids import MeetingId
from signaling.live.participants import LiveMeeting, Participant


class LiveRegistry:
    def __init__(self) -> None:
        self._by_meeting: dict[MeetingId, LiveMeeting] = {}
        self._by_router: dict[RouterId, LiveMeeting] = {}
        self._by_transport: dict[TransportId, Participant] = {}

    @property
    def by_meeting(self) -> Mapping[MeetingId, LiveMeeting]:
        """The live meeting that new joins of each meeting go to."""
        return self._by_meeting

    def add(self, live_meeting: LiveMeeting) -> None:
        self._by_meeting[live_meeting.meeting.id] = live_meeting
        self._by_router[live_meeting.router_id] = live_meeting

    def forget(self, live_meeting: LiveMeeting) -> None:
        """New joins of this meeting get a new live meeting (and router) from now on."""
        if self._by_meeting.get(live_meeting.meeting.id) is live_meeting:
            del self._by_meeting[live_meeting.meeting.id]
            del self._by_router[live_meeting.router_id]

    def get(self, meeting_id: MeetingId) -> LiveMeeting | None:
        return self._by_meeting.get(meeting_id)

    def on_router(self, router_id: RouterId) -> LiveMeeting | None:
        """The live meeting on this router, unless it was forgotten."""
        return self._by_router.get(router_id)

    def all(self) -> list[LiveMeeting]:
        return list(self._by_meeting.values())

    def participants(self) -> Iterator[Participant]:
        """Every participant of every live meeting, leaving or not."""
        for live_meeting in list(self._by_meeting.values()):
            yield from list(live_meeting.participants.values())

    def add_transports(self, participant: Participant) -> None:
        for transport in (participant.publish_transport, participant.subscribe_transport):
            if transport is not None:
                self._by_transport[transport] = participant

    def remove_transports(self, participant: Participant) -> None:
        for transport in (participant.publish_transport, participant.subscribe_transport):
            if transport is not None:
                self._by_transport.pop(transport, None)

    def owner_of(self, transport_id: TransportId) -> Participant | None:
        """The participant this transport belongs to, if they are still in."""
        participant = self._by_transport.get(transport_id)
        if participant is None or participant.left:
            return None
        return participant
