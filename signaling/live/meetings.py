"""`LiveMeetings`: every live meeting on this node, and everything done to them.

A `LiveMeeting` (signaling/live/participants.py) is one meeting while it is live; it
owns one SFU router. This facade holds the shared state (the registry of live meetings,
the background tasks, the recording) and hands each request to the collaborator for its
facet:

    membership.py   joining and leaving, the router's start and close, attendance
    hosts.py        host controls (mute, stop video, remove, spotlight, end, co-hosts);
                    chairs.py who chairs and what hosts decided, hands.py raised hands
    publishing.py   tracks published, forwarded to every other participant, muting
    negotiation.py  the subscribe offer/answer cycle, ICE candidates
    recording.py    recording requests and state (a no-op when recording is off)
    events.py       SFU events to the right live meeting and participant
    losses.py       participants whose media path is gone: told to rejoin, taken out
    snapshot.py     frozen copies for observers
    tile_order.py   the meeting's tile order (last-N), sent to every page
    visibility.py   what each page shows, which decides what it is forwarded

A new facet (chat, the lobby) gets its own module the same way.
The SFU is reached only through `SfuClient`; SDP stays an opaque string here.
"""

from __future__ import annotations

from collections.abc import Mapping

from sfu.api import SfuClient
from sfu.ids import ProducerId, RouterId, TransportId
from signaling.accounts.accounts import Account
from signaling.ids import MeetingId, ParticipantId
from signaling.live import host_protocol as hp
from signaling.live import protocol as p
from signaling.live.background import BackgroundTasks
from signaling.live.chairs import Chairs, SecretariesOf
from signaling.live.events import SfuEventRouting
from signaling.live.hands import Hands
from signaling.live.hosts import Ended, HostControls
from signaling.live.ice_servers import IceServers
from signaling.live.losses import MediaLoss
from signaling.live.membership import Membership
from signaling.live.negotiation import Negotiation
from signaling.live.participants import Close, LiveMeeting, Participant, Send
from signaling.live.publishing import Publishing
from signaling.live.recording import recording_for
from signaling.live.recording_control import RecordingControl
from signaling.live.registry import LiveRegistry
from signaling.live.snapshot import LiveMeetingSnapshot, snapshot_of
from signaling.live.tile_order import TileOrdering
from signaling.live.tiles_protocol import Visible
from signaling.records.attendance import AttendanceService
from signaling.schedule.meetings import Meeting


class LiveMeetings:
    """Every live meeting on this node."""

    def __init__(self, sfu: SfuClient, attendance: AttendanceService,
                 ice_servers: IceServers,
                 recording: RecordingControl | None = None,
                 secretaries_of: SecretariesOf | None = None,
                 mute_on_entry_above: int = 8, tiles_per_page: int = 9,
                 ended: Ended | None = None) -> None:
        self._registry = LiveRegistry()
        self._tasks = BackgroundTasks()
        self._recording = recording_for(recording)
        self._negotiation = Negotiation(sfu, self._registry, self._tasks, tiles_per_page)
        losses = MediaLoss(self._tasks, lambda part, reason: self.leave(part, reason))
        self._publishing = Publishing(sfu, self._negotiation, self._recording, losses)
        self._chairs = Chairs(secretaries_of)
        self._hands = Hands()
        self._hosts = HostControls(self._registry, self._chairs, self._publishing, self._hands,
                                   lambda part, reason: self.leave(part, reason), ended)
        self._membership = Membership(sfu, self._registry, attendance, ice_servers,
                                      self._recording, self._negotiation, self._publishing,
                                      self._tasks, self._chairs, self._hosts.participant_left,
                                      mute_on_entry_above)
        self._tiles = TileOrdering(tiles_per_page)
        self._hosts.on_spotlight = self._spotlight_changed
        events = SfuEventRouting(self._registry, losses, self._recording, self._tasks,
                                 self._tiles)
        self._remove_listener = sfu.add_listener(events.on_event)

    @property
    def live(self) -> Mapping[MeetingId, LiveMeeting]:
        """The live meeting of each meeting that new joins go to."""
        return self._registry.by_meeting

    # ------------------------------------------------------------ membership

    async def join(self, meeting: Meeting, account: Account, send: Send,
                   close: Close | None = None) -> Participant:
        participant = await self._membership.join(meeting, account, send, close)
        if participant.live_meeting is not None:
            await self._tiles.refresh(participant.live_meeting, joined=participant)
        return participant

    async def leave(self, participant: Participant, reason: str = "left") -> None:
        """Take a participant out; completes even if the caller is cancelled."""
        await self._membership.leave(participant, reason)
        if participant.live_meeting is not None:
            await self._tiles.refresh(participant.live_meeting)

    async def remove_account(self, username: str, reason: str, detail: str) -> int:
        """Take the account's live participants out, closing their sockets; how many."""
        return await self._membership.remove_account(username, reason, detail)

    def live_usernames(self) -> set[str]:
        return self._membership.live_usernames()

    # ------------------------------------------------------------ publishing

    async def publish(self, participant: Participant, message: p.Publish) -> None:
        await self._publishing.publish(participant, message)

    async def unpublish(self, participant: Participant, producer_id: ProducerId) -> None:
        await self._publishing.unpublish(participant, producer_id)

    async def mute(self, participant: Participant, kind: p.Kind, muted: bool) -> None:
        self._hosts.check_unmute(participant, kind, muted)
        await self._publishing.mute(participant, kind, muted)

    # ------------------------------------------------------------ hands and hosts

    async def raise_hand(self, participant: Participant, raised: bool) -> None:
        await self._hands.raise_hand(participant, raised)

    async def answer_unmute(self, participant: Participant, accepted: bool) -> None:
        await self._hosts.answer_unmute(participant, accepted)

    async def host_control(self, participant: Participant, message: hp.HostControl) -> None:
        """A host control from this participant; refused unless they chair the meeting."""
        await self._hosts.handle(participant, message)

    # ------------------------------------------------------------ tiles

    async def _spotlight_changed(self, live_meeting: LiveMeeting) -> None:
        """Everyone is forwarded the spotlit camera (and no longer the one released);
        the tile order puts the spotlight first."""
        await self._negotiation.visibility.spotlight_changed(live_meeting)
        await self._tiles.refresh(live_meeting)

    async def show(self, participant: Participant, message: Visible) -> None:
        """The participant's page shows these cameras: forward only those."""
        await self._negotiation.visibility.show(participant, message)

    def is_host(self, meeting: Meeting, account: Account) -> bool:
        """Whether this account chairs the meeting, co-hosts named live included."""
        return self._chairs.reason(meeting, account) is not None

    # ------------------------------------------------------------ negotiation

    async def answer(self, participant: Participant, sdp: str) -> None:
        await self._negotiation.answer(participant, sdp)

    async def ice(self, participant: Participant, message: p.Ice) -> None:
        await self._negotiation.ice(participant, message)

    # ------------------------------------------------------------ recording

    async def set_recording(self, participant: Participant, account: Account,
                            start: bool) -> None:
        await self._recording.request(participant, account, start)

    # ------------------------------------------------------------ observing

    def snapshot(self) -> list[LiveMeetingSnapshot]:
        """Every live meeting with its participants and their tracks, as they are now."""
        return [snapshot_of(live_meeting) for live_meeting in self._registry.all()]

    def snapshot_on_router(self, router_id: RouterId) -> LiveMeetingSnapshot | None:
        """The live meeting on this router, as it is now."""
        live_meeting = self._registry.on_router(router_id)
        return None if live_meeting is None else snapshot_of(live_meeting)

    def describe_transport(self, transport_id: TransportId) -> tuple[MeetingId, ParticipantId,
                                                                      str] | None:
        """(meeting, participant, username) owning a transport, if it is live."""
        participant = self._registry.owner_of(transport_id)
        if participant is None:
            return None
        return participant.meeting_id, participant.id, participant.username

    async def notify(self, meeting_id: MeetingId, message: p.ServerMessage) -> None:
        """Send one message to every participant of a live meeting."""
        live_meeting = self._registry.get(meeting_id)
        if live_meeting is None:
            return
        for participant in list(live_meeting.participants.values()):
            await participant.tell(message)

    # ------------------------------------------------------------ closing

    async def close(self) -> None:
        self._remove_listener()
        await self._membership.close()
        await self._tasks.close()

