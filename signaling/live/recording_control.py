"""Recording of live meetings: when it starts and stops, and who may ask.

A meeting whose policy is automatic is recorded from the moment it goes live. With
on_demand, its organizer (or their secretary, or an administrator) starts and stops
it; with off, never. Recording stops when the last participant leaves, and a
composition job is queued. The SFU does the writing; this keeps the store's view.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sfu.api import RecordingStopped, SfuClient, SfuError
from sfu.recording_files import extension_for
from signaling.errors import BadRequest, Forbidden, GiaobanError, InsufficientStorage
from signaling.records.meeting_record import RecordAccess
from signaling.records.recordings import EventKind, RecordingService

if TYPE_CHECKING:
    from signaling.accounts.accounts import Account
    from signaling.live.participants import Conference

logger = logging.getLogger(__name__)

RECORDING_OFF = "Recording is turned off for this meeting"
NOT_MANAGER = "Only the organizer or their secretary can start or stop the recording"


class RecordingControl:
    def __init__(self, sfu: SfuClient, recordings: RecordingService,
                 access: RecordAccess) -> None:
        self._sfu = sfu
        self.recordings = recordings
        self._access = access

    async def meeting_live(self, conference: Conference) -> None:
        """The meeting just went live: record it if its policy is automatic."""
        conference.recording_policy = self.recordings.policy(conference.meeting.id)
        if conference.recording_policy != "automatic":
            return
        try:
            await self._start(conference)
        except GiaobanError:
            pass  # alerted and noted on the record page; the meeting goes on

    def may_control(self, conference: Conference, account: Account) -> bool:
        return (conference.recording_policy != "off"
                and self._access.may_manage(conference.meeting, account))

    async def request(self, conference: Conference, account: Account, start: bool) -> None:
        """A participant asks to start or stop the recording."""
        policy = self.recordings.policy(conference.meeting.id)
        conference.recording_policy = policy
        if policy == "off":
            raise Forbidden(RECORDING_OFF)
        if not self._access.may_manage(conference.meeting, account):
            raise Forbidden(NOT_MANAGER)
        if start:
            if conference.recording:
                raise BadRequest("The meeting is already being recorded")
            await self._start(conference)
        else:
            if not conference.recording:
                raise BadRequest("The meeting is not being recorded")
            await self.stop(conference, "stopped")

    async def _start(self, conference: Conference) -> None:
        meeting_id = conference.meeting.id
        directory = self.recordings.meeting_directory(meeting_id)
        try:
            await self._sfu.start_recording(conference.router_id, str(directory))
        except SfuError as exc:
            if exc.code == "low_disk":
                logger.error("ALERT meeting %s: recording refused: %s", meeting_id, exc.message)
                self.recordings.event(meeting_id, "refused_low_disk", exc.message)
                conference.recording_reason = "refused_low_disk"
                raise InsufficientStorage(
                    "There is not enough free disk space to record this meeting") from exc
            logger.error("ALERT meeting %s: recording failed to start: %s", meeting_id,
                         exc.message)
            self.recordings.event(meeting_id, "failed", exc.message)
            raise BadRequest("The recording could not be started") from exc
        conference.recording = True
        conference.recording_reason = None
        self.recordings.event(meeting_id, "started")
        for track in conference.tracks():
            self.track_published(conference, track.producer_id, track.kind, track.username,
                                 track.source)
        logger.info("meeting %s: recording into %s", meeting_id, directory)

    def track_published(self, conference: Conference, producer_id: str, kind: str,
                        username: str, source: str) -> None:
        if not conference.recording:
            return
        codec = conference.codecs.get(producer_id, "audio/opus" if kind == "audio"
                                      else "video/vp8")
        self.recordings.track_started(conference.meeting.id, producer_id, kind, username,
                                      source, f"{producer_id}.{extension_for(codec)}")

    async def stop(self, conference: Conference, reason: str) -> None:
        if not conference.recording:
            return
        conference.recording = False
        conference.recording_reason = reason
        await self._sfu.stop_recording(conference.router_id)
        self.recordings.tracks_stopped(conference.meeting.id)
        self.recordings.event(conference.meeting.id, "stopped", reason)
        logger.info("meeting %s: recording stopped (%s)", conference.meeting.id, reason)

    async def meeting_over(self, conference: Conference) -> None:
        """The last participant left: stop, and queue the composition. Never raises:
        the meeting must close whatever happens to its recording."""
        try:
            await self.stop(conference, "stopped")
            if any(r.kind == "track" for r in self.recordings.list(conference.meeting.id)):
                self.recordings.queue_compose(conference.meeting.id)
        except Exception:
            logger.exception("ALERT meeting %s: the recording could not be finished",
                             conference.meeting.id)

    def interrupted(self, conference: Conference) -> bool:
        """The conference's SFU worker died; True when it was recording, so recording
        resumes (into the same directory, numbering on) when the meeting continues."""
        if not conference.recording:
            return False
        conference.recording = False
        conference.recording_reason = "interrupted"
        self.recordings.tracks_stopped(conference.meeting.id)
        self.recordings.event(conference.meeting.id, "failed", "media server restarted")
        logger.error("ALERT meeting %s: recording interrupted by a media server restart",
                     conference.meeting.id)
        return True

    async def resume(self, conference: Conference) -> None:
        """Continue an interrupted recording in the meeting's new conference."""
        try:
            await self._start(conference)
        except GiaobanError:
            pass  # alerted and noted on the record page; the meeting goes on

    def stopped_by_sfu(self, conference: Conference, event: RecordingStopped) -> bool:
        """The SFU stopped recording by itself; True when participants must be told."""
        if not conference.recording or event.reason == "stopped":
            return False
        conference.recording = False
        conference.recording_reason = event.reason
        meeting_id = conference.meeting.id
        self.recordings.tracks_stopped(meeting_id)
        kind: EventKind = "stopped_low_disk" if event.reason == "low_disk" else "failed"
        self.recordings.event(meeting_id, kind, event.reason)
        logger.error("ALERT meeting %s: recording stopped by the media server (%s)",
                     meeting_id, event.reason)
        return True
