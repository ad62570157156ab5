"""Who is in each live meeting: joining (the first joiner starts the meeting's SFU
router, others joining then wait for it), leaving (the last one out closes it), the
attendance record, and taking an account out of every meeting it is in.

A person is in a live meeting once: joining again (another window, or a rejoin racing
an earlier one) replaces their earlier participant, whose page is told so. The
newcomer keeps the participant id and its attendance row, so the others see no
duplicate and the record shows one stay.

Each participant gets a publish transport (the browser offers) and a subscribe
transport (the server offers; see signaling/live/negotiation.py).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable

from sfu.api import SfuClient, SfuError
from sfu.ids import ProducerId
from signaling.accounts.accounts import Account
from signaling.errors import Forbidden
from signaling.ids import MeetingId, ParticipantId
from signaling.live import protocol as p
from signaling.live.background import BackgroundTasks
from signaling.live.chairs import Chairs
from signaling.live.hands import queue_of
from signaling.live.ice_servers import IceServers
from signaling.live.negotiation import Negotiation
from signaling.live.participants import Close, LiveMeeting, Participant, Send
from signaling.live.publishing import Publishing
from signaling.live.recording import LiveRecording
from signaling.live.registry import LiveRegistry
from signaling.live.sfu_errors import RETRYABLE_SFU_ERRORS, sfu_error
from signaling.records.attendance import AttendanceService
from signaling.schedule.meetings import Meeting

logger = logging.getLogger(__name__)

REPLACED = "replaced"
"""Error code telling a page its person joined the same meeting again elsewhere."""


LeftHook = Callable[[LiveMeeting, Participant], Awaitable[None]]
"""Called with the meeting's lock held once a participant is out (not when replaced)."""


class Membership:
    def __init__(self, sfu: SfuClient, registry: LiveRegistry, attendance: AttendanceService,
                 ice_servers: IceServers, recording: LiveRecording,
                 negotiation: Negotiation, publishing: Publishing,
                 tasks: BackgroundTasks, chairs: Chairs, left: LeftHook,
                 mute_on_entry_above: int = 8) -> None:
        self._sfu = sfu
        self._registry = registry
        self._attendance = attendance
        self._ice_servers = ice_servers
        self._recording = recording
        self._negotiation = negotiation
        self._publishing = publishing
        self._tasks = tasks
        self._chairs = chairs
        self._left = left
        self._mute_on_entry_above = mute_on_entry_above
        self._starting: dict[MeetingId, asyncio.Lock] = {}
        self._leaving: set[asyncio.Future[None]] = set()

    # ------------------------------------------------------------ joining

    async def join(self, meeting: Meeting, account: Account, send: Send,
                   close: Close | None = None) -> Participant:
        if meeting.state == "cancelled":
            raise Forbidden("This meeting has been cancelled")
        self._chairs.check_join(meeting, account)
        for attempt in (1, 2):
            live_meeting = await self._live_meeting(meeting)
            try:
                return await self._join(live_meeting, account, send, close)
            except SfuError as exc:
                # The router's worker died under us: move the meeting to a new router.
                if attempt == 2 or not isinstance(exc, RETRYABLE_SFU_ERRORS):
                    raise sfu_error(exc) from exc
                logger.warning("meeting %s: router %s unusable (%s); using a new one",
                               meeting.id, live_meeting.router_id, exc.message)
                self._registry.forget(live_meeting)
        raise AssertionError("unreachable")

    async def _live_meeting(self, meeting: Meeting) -> LiveMeeting:
        """The meeting while live; the first joiner starts it, others joining then wait."""
        async with self._starting.setdefault(meeting.id, asyncio.Lock()):
            live_meeting = self._registry.get(meeting.id)
            if live_meeting is not None:
                return live_meeting
            try:
                router_id = await self._sfu.create_router()
            except SfuError as exc:
                raise sfu_error(exc) from exc
            live_meeting = LiveMeeting(meeting=meeting, router_id=router_id)
            self._registry.add(live_meeting)
            logger.info("meeting %s live on router %s", meeting.id, router_id)
            await self._recording.meeting_live(live_meeting)
            return live_meeting

    async def _join(self, live_meeting: LiveMeeting, account: Account, send: Send,
                    close: Close | None) -> Participant:
        meeting = live_meeting.meeting
        async with live_meeting.lock:
            publish = await self._sfu.create_transport(live_meeting.router_id, "publish")
            try:
                subscribe = await self._sfu.create_transport(live_meeting.router_id,
                                                             "subscribe")
            except SfuError:
                await self._sfu.close_transport(publish)
                raise
            # Also one whose leave waits for the lock: its socket closed meanwhile.
            previous = next((x for x in live_meeting.participants.values()
                             if x.username == account.username), None)
            participant = Participant(
                id=previous.id if previous else ParticipantId(f"pa-{secrets.token_hex(6)}"),
                meeting_id=meeting.id,
                username=account.username, display_name=account.display_name, send=send,
                unit=account.unit,
                publish_transport=publish, subscribe_transport=subscribe,
                live_meeting=live_meeting, close=close,
                host_reason=self._chairs.reason(meeting, account))
            if previous is not None:
                participant.audio_held = previous.audio_held
                participant.audio_muted = previous.audio_muted
                await self._replace(live_meeting, previous)
            self._registry.add_transports(participant)
            others = list(live_meeting.participants.values())
            mic_off = participant.audio_held or (previous is None
                                                 and len(others) >= self._mute_on_entry_above)
            if mic_off:
                participant.audio_muted = True
            live_meeting.participants[participant.id] = participant
            if previous is None:
                self._attendance.joined(meeting.id, account.username, participant.id)
            logger.info("meeting %s: %s %s as %s", meeting.id, account.username,
                        "joined again" if previous else "joined", participant.id)
            await send(p.Joined(meeting_id=meeting.id, title=meeting.title,
                                participant_id=participant.id,
                                participants=[x.info for x in live_meeting.participants.values()],
                                tracks=live_meeting.tracks(),
                                ice_servers=self._ice_servers.for_account(account.username),
                                host=participant.host, owner=participant.owner,
                                hands=queue_of(live_meeting), spotlight=live_meeting.spotlight,
                                mic_off_on_entry=mic_off, audio_held=participant.audio_held))
            await self._recording.joined(live_meeting, participant, account)
            for other in others:
                await other.tell(p.ParticipantJoined(participant=participant.info))
            for track in live_meeting.tracks():
                # A track whose publisher's transport is gone is skipped (they rejoin).
                await self._negotiation.consume(participant, ProducerId(track.producer_id))
        self._negotiation.renegotiate(participant)
        return participant

    async def _replace(self, live_meeting: LiveMeeting, previous: Participant) -> None:
        """Take the same person's earlier participant out for the one joining now: its
        page is told and its socket closed; its attendance row goes on, and the others
        see its tracks go (the newcomer publishes its own). Called with the lock held."""
        await previous.tell(p.Error(
            code=REPLACED, title="Joined elsewhere",
            detail="You joined this meeting again from another window or device; "
                   "this one has left it.", fatal=True))
        previous.left = True
        if previous.leaving is None:  # its socket closing later takes no one out
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            previous.leaving = done
        live_meeting.participants.pop(previous.id, None)
        live_meeting.managers.discard(previous.id)
        self._registry.remove_transports(previous)
        await self._release(live_meeting, previous)
        logger.info("meeting %s: %s replaced by a new join", previous.meeting_id, previous.id)
        if previous.close is not None:
            self._tasks.spawn(_closed(previous.close))

    async def _release(self, live_meeting: LiveMeeting, participant: Participant) -> None:
        """Close the participant's producers and transports; an SFU error is logged, so
        the rest (attendance, the others) still happens."""
        try:
            for producer_id in list(participant.tracks):
                await self._publishing.remove_track(live_meeting, participant, producer_id)
            for transport in (participant.publish_transport, participant.subscribe_transport):
                if transport is not None:
                    await self._sfu.close_transport(transport)
        except SfuError as exc:
            logger.warning("participant %s: SFU clean-up failed: %s", participant.id,
                           exc.message)

    # ------------------------------------------------------------ leaving

    async def leave(self, participant: Participant, reason: str = "left") -> None:
        """Take a participant out; completes even if the caller is cancelled."""
        if participant.leaving is None:
            participant.left = True
            participant.leaving = asyncio.ensure_future(self._leave(participant, reason))
            self._leaving.add(participant.leaving)
            participant.leaving.add_done_callback(self._leaving.discard)
        await asyncio.shield(participant.leaving)

    async def _leave(self, participant: Participant, reason: str) -> None:
        live_meeting = participant.live_meeting
        if live_meeting is None:
            return
        async with live_meeting.lock:
            if live_meeting.participants.get(participant.id) is not participant:
                return  # replaced meanwhile by a new join of the same person
            live_meeting.participants.pop(participant.id, None)
            self._registry.remove_transports(participant)
            await self._release(live_meeting, participant)
            self._attendance.left(participant.id)
            logger.info("meeting %s: %s left (%s)", participant.meeting_id, participant.username,
                        reason)
            for other in live_meeting.participants.values():
                await other.tell(p.ParticipantLeft(participant_id=participant.id,
                                                   username=participant.username))
            live_meeting.managers.discard(participant.id)
            await self._left(live_meeting, participant)
            if not live_meeting.participants:
                self._registry.forget(live_meeting)
                await self._recording.meeting_over(live_meeting)
                try:
                    await self._sfu.close_router(live_meeting.router_id)
                except SfuError as exc:
                    logger.warning("meeting %s: closing router %s failed: %s",
                                   participant.meeting_id, live_meeting.router_id, exc.message)
                logger.info("meeting %s: last participant left, router closed",
                            participant.meeting_id)

    async def remove_account(self, username: str, reason: str, detail: str) -> int:
        """Tell the account's live participants their session expired (fatal), take
        them out of their meetings and close their sockets; returns how many."""
        found = [part for part in self._registry.participants()
                 if part.username == username and not part.left]
        for participant in found:
            await participant.tell(p.Error(
                code="session_expired", title="Session ended", detail=detail, fatal=True))
            await self.leave(participant, reason=reason)
            if participant.close is not None:
                await participant.close()
        return len(found)

    def live_usernames(self) -> set[str]:
        return {part.username for part in self._registry.participants() if not part.left}

    async def close(self) -> None:
        """Take everyone out, and wait for every leave under way."""
        for participant in self._registry.participants():
            await self.leave(participant, reason="server shutting down")
        await asyncio.gather(*self._leaving, return_exceptions=True)


async def _closed(close: Close) -> None:
    await close()
