"""Recording as the live meetings see it: always there, and off on a server that records
nothing, so no caller asks whether it exists.

`RecordingOn` drives `RecordingControl` (signaling/live/recording_control.py) and tells
participants the recording state; `RecordingOff` does nothing and refuses requests.
"""

from __future__ import annotations

from typing import Protocol

from sfu.api import RecordingStopped
from sfu.ids import ProducerId
from signaling.accounts.accounts import Account
from signaling.errors import BadRequest
from signaling.ids import MeetingId
from signaling.live import protocol as p
from signaling.live.participants import LiveMeeting, Participant, live_meeting_of
from signaling.live.recording_control import RecordingControl


class LiveRecording(Protocol):
    async def meeting_live(self, live_meeting: LiveMeeting) -> None:
        """The live meeting's router just started."""

    async def joined(self, live_meeting: LiveMeeting, participant: Participant,
                     account: Account) -> None:
        """The participant just joined: tell them the recording state."""

    def track_published(self, live_meeting: LiveMeeting, producer_id: ProducerId, kind: str,
                        username: str, source: str) -> None: ...

    async def request(self, participant: Participant, account: Account, start: bool) -> None:
        """A participant asks to start or stop the recording."""

    async def meeting_over(self, live_meeting: LiveMeeting) -> None:
        """The last participant left; the router closes next."""

    def router_lost(self, live_meeting: LiveMeeting) -> None:
        """The router died with its SFU worker; the meeting may go on on a new one."""

    async def stopped_by_sfu(self, live_meeting: LiveMeeting, event: RecordingStopped) -> None:
        ...


def recording_for(control: RecordingControl | None) -> LiveRecording:
    return RecordingOff() if control is None else RecordingOn(control)


class RecordingOff:
    """The server records nothing: participants are not told a state, requests fail."""

    async def meeting_live(self, live_meeting: LiveMeeting) -> None:
        pass

    async def joined(self, live_meeting: LiveMeeting, participant: Participant,
                     account: Account) -> None:
        pass

    def track_published(self, live_meeting: LiveMeeting, producer_id: ProducerId, kind: str,
                        username: str, source: str) -> None:
        pass

    async def request(self, participant: Participant, account: Account, start: bool) -> None:
        live_meeting_of(participant)
        raise BadRequest("recording is not available on this server")

    async def meeting_over(self, live_meeting: LiveMeeting) -> None:
        pass

    def router_lost(self, live_meeting: LiveMeeting) -> None:
        pass

    async def stopped_by_sfu(self, live_meeting: LiveMeeting, event: RecordingStopped) -> None:
        pass


class RecordingOn:
    def __init__(self, control: RecordingControl) -> None:
        self._control = control
        self._resume: set[MeetingId] = set()
        """Meetings whose recording was interrupted with their router; it goes on when
        the meeting is live again."""

    async def meeting_live(self, live_meeting: LiveMeeting) -> None:
        meeting_id = live_meeting.meeting.id
        await self._control.meeting_live(live_meeting)
        if meeting_id in self._resume and not live_meeting.recording:
            await self._control.resume(live_meeting)
        self._resume.discard(meeting_id)

    async def joined(self, live_meeting: LiveMeeting, participant: Participant,
                     account: Account) -> None:
        if self._control.may_control(live_meeting, account):
            live_meeting.managers.add(participant.id)
        await participant.send(_state(live_meeting, participant))

    def track_published(self, live_meeting: LiveMeeting, producer_id: ProducerId, kind: str,
                        username: str, source: str) -> None:
        self._control.track_published(live_meeting, producer_id, kind, username, source)

    async def request(self, participant: Participant, account: Account, start: bool) -> None:
        live_meeting = live_meeting_of(participant)
        async with live_meeting.lock:
            before = (live_meeting.recording, live_meeting.recording_reason)
            try:
                await self._control.request(live_meeting, account, start)
            finally:
                if (live_meeting.recording, live_meeting.recording_reason) != before:
                    await _broadcast(live_meeting)

    async def meeting_over(self, live_meeting: LiveMeeting) -> None:
        if not live_meeting.lost:  # a lost meeting's recording resumes on its next router
            await self._control.meeting_over(live_meeting)

    def router_lost(self, live_meeting: LiveMeeting) -> None:
        if self._control.interrupted(live_meeting):
            self._resume.add(live_meeting.meeting.id)

    async def stopped_by_sfu(self, live_meeting: LiveMeeting, event: RecordingStopped) -> None:
        if self._control.stopped_by_sfu(live_meeting, event):
            await _broadcast(live_meeting)


def _state(live_meeting: LiveMeeting, participant: Participant) -> p.RecordingState:
    return p.RecordingState(recording=live_meeting.recording,
                            policy=live_meeting.recording_policy,
                            reason=live_meeting.recording_reason,
                            can_control=participant.id in live_meeting.managers)


async def _broadcast(live_meeting: LiveMeeting) -> None:
    for other in list(live_meeting.participants.values()):
        await other.tell(_state(live_meeting, other))
