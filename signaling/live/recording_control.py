"""Recording of live meetings: when it starts and stops, and who may ask.

A meeting whose policy is automatic is recorded from the moment it goes live. With
on_demand, its organizer (or their secretary, or an administrator) starts and stops
it; with off, never. Recording stops when the last participant leaves, and a
composition job is queued. The SFU does the writing; this keeps the store's view.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sfu.api import LowDiskError, RecordingStopped, SfuClient, SfuError
from sfu.recording_files import extension_for
from signaling.errors import BadRequest, Forbidden, GiaobanError, InsufficientStorage
from signaling.records.meeting_record import RecordAccess
from signaling.records.recordings import EventKind, RecordingService

if TYPE_CHECKING:
    from signaling.accounts.accounts import Account
    from signaling.live.participants import LiveMeeting

logger = logging.getLogger(__name__)

RECORDING_OFF = "Recording is turned off for this meeting"
NOT_MANAGER = "Only the organizer or their secretary can start or stop the recording"


class RecordingControl:
    def __init__(self, sfu: SfuClient, recordings: RecordingService,
                 access: RecordAccess) -> None:
        self._sfu = sfu
        self.recordings = recordings
        self._access = access

    async def meeting_live(self, live_meeting: LiveMeeting) -> None:
        """The meeting just went live: record it if its policy is automatic."""
        live_meeting.recording_policy = self.recordings.policy(live_meeting.meeting.id)
        if live_meeting.recording_policy != "automatic":
            return
        try:
            await self._start(live_meeting)
        except GiaobanError:
            pass  # alerted and noted on the record page; the meeting goes on

    def may_control(self, live_meeting: LiveMeeting, account: Account) -> bool:
        return (live_meeting.recording_policy != "off"
                and self._access.may_manage(live_meeting.meeting, account))

    async def request(self, live_meeting: LiveMeeting, account: Account, start: bool) -> None:
        """A participant asks to start or stop the recording."""
        policy = self.recordings.policy(live_meeting.meeting.id)
        live_meeting.recording_policy = policy
        if policy == "off":
            raise Forbidden(RECORDING_OFF)
        if not self._access.may_manage(live_meeting.meeting, account):
            raise Forbidden(NOT_MANAGER)
        if start:
            if live_meeting.recording:
                raise BadRequest("The meeting is already being recorded")
            await self._start(live_meeting)
        else:
            if not live_meeting.recording:
                raise BadRequest("The meeting is not being recorded")
            await self.stop(live_meeting, "stopped")

    async def _start(self, live_meeting: LiveMeeting) -> None:
        meeting_id = live_meeting.meeting.id
        directory = self.recordings.meeting_directory(meeting_id)
        try:
            await self._sfu.start_recording(live_meeting.router_id, str(directory))
        except SfuError as exc:
            if isinstance(exc, LowDiskError):
                logger.error("ALERT meeting %s: recording refused: %s", meeting_id, exc.message)
                self.recordings.event(meeting_id, "refused_low_disk", exc.message)
                live_meeting.recording_reason = "refused_low_disk"
                raise InsufficientStorage(
                    "There is not enough free disk space to record this meeting") from exc
            logger.error("ALERT meeting %s: recording failed to start: %s", meeting_id,
                         exc.message)
            self.recordings.event(meeting_id, "failed", exc.message)
            raise BadRequest("The recording could not be started") from exc
        live_meeting.recording = True
        live_meeting.recording_reason = None
        self.recordings.event(meeting_id, "started")
        for track in live_meeting.tracks():
            self.track_published(live_meeting, track.producer_id, track.kind, track.username,
                                 track.source)
        logger.info("meeting %s: recording into %s", meeting_id, directory)

    def track_published(self, live_meeting: LiveMeeting, producer_id: str, kind: str,
                        username: str, source: str) -> None:
        if not live_meeting.recording:
            return
        codec = live_meeting.codecs.get(producer_id, "audio/opus" if kind == "audio"
                                      else "video/vp8")
        self.recordings.track_started(live_meeting.meeting.id, producer_id, kind, username,
                                      source, f"{producer_id}.{extension_for(codec)}")

    async def stop(self, live_meeting: LiveMeeting, reason: str) -> None:
        if not live_meeting.recording:
            return
        live_meeting.recording = False
        live_meeting.recording_reason = reason
        await self._sfu.stop_recording(live_meeting.router_id)
        self.recordings.tracks_stopped(live_meeting.meeting.id)
        self.recordings.event(live_meeting.meeting.id, "stopped", reason)
        logger.info("meeting %s: recording stopped (%s)", live_meeting.meeting.id, reason)

    async def meeting_over(self, live_meeting: LiveMeeting) -> None:
        """The last participant left: stop, and queue the composition. Never raises:
        the meeting must close whatever happens to its recording."""
        try:
            await self.stop(live_meeting, "stopped")
            if any(r.kind == "track" for r in self.recordings.list(live_meeting.meeting.id)):
                self.recordings.queue_compose(live_meeting.meeting.id)
        except Exception:
            logger.exception("ALERT meeting %s: the recording could not be finished",
                             live_meeting.meeting.id)

    def interrupted(self, live_meeting: LiveMeeting) -> bool:
        """The live meeting's SFU worker died; True when it was recording, so recording
        resumes (into the same directory, numbering on) when the meeting continues."""
        if not live_meeting.recording:
            return False
        live_meeting.recording = False
        live_meeting.recording_reason = "interrupted"
        self.recordings.tracks_stopped(live_meeting.meeting.id)
        self.recordings.event(live_meeting.meeting.id, "failed", "media server restarted")
        logger.error("ALERT meeting %s: recording interrupted by a media server restart",
                     live_meeting.meeting.id)
        return True

    async def resume(self, live_meeting: LiveMeeting) -> None:
        """Continue an interrupted recording in the meeting's new live meeting."""
        try:
            await self._start(live_meeting)
        except GiaobanError:
            pass  # alerted and noted on the record page; the meeting goes on

    def stopped_by_sfu(self, live_meeting: LiveMeeting, event: RecordingStopped) -> bool:
        """The SFU stopped recording by itself; True when participants must be told."""
        if not live_meeting.recording or event.reason == "stopped":
            return False
        live_meeting.recording = False
        live_meeting.recording_reason = event.reason
        meeting_id = live_meeting.meeting.id
        self.recordings.tracks_stopped(meeting_id)
        kind: EventKind = "stopped_low_disk" if event.reason == "low_disk" else "failed"
        self.recordings.event(meeting_id, kind, event.reason)
        logger.error("ALERT meeting %s: recording stopped by the media server (%s)",
                     meeting_id, event.reason)
        return True
