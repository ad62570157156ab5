"""The meeting record page, recording files, the composition queue and retention.

Every file is served by `recording_file`, which checks who is asking; recordings live
outside /static and are addressed only by an unguessable id.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import shutil
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from sfu.api import SfuClient
from signaling.errors import BadRequest, Forbidden, NotFound
from signaling.ids import row_id
from signaling.live.recording_control import RecordingControl
from signaling.records.compose_jobs import ComposeQueue
from signaling.records.meeting_record import (
    MinutesService,
    RecordAccess,
    attendance_csv,
    format_duration,
    summarize,
)
from signaling.records.recordings import ComposeJob, Recording, RecordingService
from signaling.records.retention import RetentionJob
from signaling.schedule.meetings import Meeting
from web.auth import redirect, require_account
from web.keys import (
    ACCOUNTS,
    ATTENDANCE,
    COMPOSE_QUEUE,
    CONFIG,
    MEETINGS,
    MINUTES,
    RECORD_ACCESS,
    RECORDINGS,
    STORE,
)
from web.pages.record_chat import record_chat
from web.pages.views import organizer_name, render

logger = logging.getLogger(__name__)

CONTENT_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".mkv": "video/x-matroska"}
ADMINS_ONLY = "Only administrators can see this page"


def create_recording_services(app: web.Application, sfu: SfuClient) -> RecordingControl:
    """Create the recording services (called by create_app before the live meetings)."""
    config = app[CONFIG]
    store = app[STORE]
    recordings = RecordingService(store, config.recording_path)
    app[RECORDINGS] = recordings
    app[RECORD_ACCESS] = RecordAccess(store)
    app[MINUTES] = MinutesService(store)
    app[COMPOSE_QUEUE] = ComposeQueue(recordings, config.recording.compose_layout)
    return RecordingControl(sfu, recordings, app[RECORD_ACCESS])


def setup_recordings(app: web.Application) -> None:
    app.router.add_get("/m/{meeting_id}/record", record_page, name="record")
    app.router.add_post("/m/{meeting_id}/record/minutes", save_minutes)
    app.router.add_get("/m/{meeting_id}/record/attendance.csv", attendance_export)
    app.router.add_post("/m/{meeting_id}/record/jobs/{job_id}/retry", retry_job)
    app.router.add_get("/api/meetings/{meeting_id}/compose-jobs", jobs_api)
    app.router.add_get("/recordings/{recording_id}", recording_file, name="recording_file")
    app.router.add_get("/admin/recordings", admin_usage, name="admin_recordings")
    app.cleanup_ctx.append(_recording_lifecycle)


async def _recording_lifecycle(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    recordings = app[RECORDINGS]
    config.recording_path.mkdir(parents=True, exist_ok=True)
    requeued = recordings.requeue_running()
    if requeued:
        logger.info("%d composition jobs interrupted by the previous run queued again", requeued)
    for meeting_id in recordings.meetings_interrupted():
        recordings.tracks_stopped(meeting_id)
        recordings.event(meeting_id, "failed", "interrupted")
        recordings.queue_compose(meeting_id)
        logger.warning("meeting %s: recording interrupted by the previous run; its finished "
                       "segments are kept and composed", meeting_id)
    queue = app[COMPOSE_QUEUE]
    tasks = [asyncio.create_task(queue.run(), name="compose-queue"),
             asyncio.create_task(RetentionJob(recordings, config.recording.retention_days)
                                 .run_daily(), name="retention")]
    yield
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await queue.close()


# ---------------------------------------------------------------- helpers


def _meeting_for_record(request: web.Request) -> Meeting:
    account = require_account(request)
    meeting = request.app[MEETINGS].get(request.match_info["meeting_id"])
    request.app[RECORD_ACCESS].check_view(meeting, account)
    return meeting


def job_json(job: ComposeJob) -> dict[str, Any]:
    return {"id": job.id, "meeting_id": job.meeting_id, "status": job.status,
            "percent": job.percent, "remaining_s": job.remaining_s, "error": job.error,
            "attempts": job.attempts, "created_at": job.created_at.isoformat()}


def _expected(request: web.Request, meeting: Meeting) -> list[str]:
    """Who was expected: the chair, then the invitees of when it was planned to end."""
    invited = request.app[RECORD_ACCESS].invited_by_end(meeting)
    return [meeting.chair, *[u for u in meeting.invitees if u in invited]]


def track_groups(tracks: list[Recording], names: dict[str, str]
                 ) -> list[tuple[str, str, list[Recording]]]:
    """The track recordings per person and source, named by display name: a person
    who rejoined has one line with a part per stay, not one line per stay."""
    groups: dict[tuple[str, str], list[Recording]] = {}
    for track in sorted(tracks, key=lambda r: r.started_at):
        groups.setdefault((track.username or "", track.source or "camera"), []).append(track)
    return [(names.get(user, user), source, parts) for (user, source), parts in groups.items()]


def _names(request: web.Request, meeting: Meeting) -> dict[str, str]:
    """Display names by username: every account's, and the names the guests gave."""
    return {**{a.username: a.display_name for a in request.app[ACCOUNTS].list()},
            **request.app[ATTENDANCE].guest_names(meeting.id)}


# ---------------------------------------------------------------- handlers


async def record_page(request: web.Request) -> web.StreamResponse:
    meeting = _meeting_for_record(request)
    account = require_account(request)
    app = request.app
    now = dt.datetime.now(dt.UTC)
    names = _names(request, meeting)
    presence = summarize(app[ATTENDANCE].for_meeting(meeting.id), names, now,
                         _expected(request, meeting))
    recordings = [r for r in app[RECORDINGS].list(meeting.id) if r.status != "deleted"]
    jobs = app[RECORDINGS].jobs(meeting.id)
    return render(
        request, "record.html",
        meeting=meeting,
        ended=app[MEETINGS].has_ended(meeting),
        organizer_name=organizer_name(request, meeting),
        presence=presence,
        duration=format_duration,
        composite=[r for r in recordings if r.kind == "composite" and r.status == "complete"],
        tracks=[r for r in recordings if r.kind == "track"],
        track_groups=track_groups([r for r in recordings if r.kind == "track"], names),
        job=jobs[-1] if jobs else None,
        alerts=[e for e in app[RECORDINGS].events(meeting.id)
                if e.kind in ("refused_low_disk", "stopped_low_disk", "failed")],
        policy=app[RECORDINGS].policy(meeting.id),
        minutes=app[MINUTES].get(meeting.id),
        can_manage=app[RECORD_ACCESS].may_manage(meeting, account),
        chat=record_chat(app, meeting, account),
    )


async def save_minutes(request: web.Request) -> web.StreamResponse:
    meeting = _meeting_for_record(request)
    account = require_account(request)
    if not request.app[RECORD_ACCESS].may_manage(meeting, account):
        raise Forbidden("Only the organizer, the chair or their secretaries can edit the "
                        "minutes")
    form = await request.post()
    body = form.get("body", "")
    if not isinstance(body, str):
        raise BadRequest("The minutes must be text.")
    request.app[MINUTES].save(meeting.id, body, account.username)
    return redirect(f"/m/{meeting.id}/record#minutes")


async def attendance_export(request: web.Request) -> web.StreamResponse:
    meeting = _meeting_for_record(request)
    now = dt.datetime.now(dt.UTC)
    presence = summarize(request.app[ATTENDANCE].for_meeting(meeting.id),
                         _names(request, meeting), now, _expected(request, meeting))
    body = "\ufeff" + attendance_csv(presence, request.app[CONFIG].tz)
    return web.Response(
        text=body, content_type="text/csv", charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="attendance-{meeting.id}.csv"'})


async def retry_job(request: web.Request) -> web.StreamResponse:
    meeting = _meeting_for_record(request)
    account = require_account(request)
    if not request.app[RECORD_ACCESS].may_manage(meeting, account):
        raise Forbidden("Only the organizer or their secretary can retry the composition")
    job_id = row_id(request.match_info["job_id"])
    if job_id is None:
        raise NotFound("No such composition job.")
    job = request.app[RECORDINGS].job(job_id)
    if job.meeting_id != meeting.id:
        raise NotFound("No such composition job.")
    request.app[RECORDINGS].retry(job_id)
    request.app[COMPOSE_QUEUE].wake()
    return redirect(f"/m/{meeting.id}/record")


async def jobs_api(request: web.Request) -> web.StreamResponse:
    meeting = _meeting_for_record(request)
    return web.json_response([job_json(j) for j in request.app[RECORDINGS].jobs(meeting.id)])


async def recording_file(request: web.Request) -> web.StreamResponse:
    """A recording file, with Range support, for those who may view the meeting."""
    account = require_account(request)
    recordings = request.app[RECORDINGS]
    recording = recordings.get(request.match_info["recording_id"])
    meeting = request.app[MEETINGS].get(recording.meeting_id)
    request.app[RECORD_ACCESS].check_view(meeting, account)
    path = recording.path.resolve()
    if (recording.status != "complete" or not path.is_relative_to(recordings.root.resolve())
            or not path.is_file()):
        raise NotFound("This recording is not available.")
    content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
    if recording.media == "audio" and path.suffix == ".webm":
        content_type = "audio/webm"
    headers = {"Content-Type": content_type, "Cache-Control": "private, max-age=3600"}
    if request.query.get("download"):
        headers["Content-Disposition"] = (
            f'attachment; filename="{meeting.id}-{recording.track}{path.suffix}"')
    return web.FileResponse(path, headers=headers)


async def admin_usage(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    if account.role != "admin":
        raise Forbidden(ADMINS_ONLY)
    recordings = request.app[RECORDINGS]
    root = recordings.root
    disk = shutil.disk_usage(root if root.exists() else root.parent)
    return render(request, "recordings_admin.html", months=recordings.usage_by_month(),
                  free_mb=disk.free // (1024 * 1024), total_mb=disk.total // (1024 * 1024),
                  floor_mb=request.app[CONFIG].recording.min_free_mb,
                  retention_days=request.app[CONFIG].recording.retention_days,
                  jobs=recordings.jobs(), meeting_titles=_titles(request, recordings.jobs()))


def _titles(request: web.Request, jobs: list[ComposeJob]) -> dict[str, tuple[str, str]]:
    """Each job's meeting as its title and day, so the page names meetings, not ids."""
    meetings = request.app[MEETINGS]
    tz = request.app[CONFIG].tz
    found: dict[str, tuple[str, str]] = {}
    for meeting_id in {job.meeting_id for job in jobs}:
        meeting = meetings.find(meeting_id)
        if meeting is not None:
            found[meeting_id] = (meeting.title, f"{meeting.start.astimezone(tz):%d/%m/%Y}")
    return found
