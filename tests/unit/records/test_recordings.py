"""Recordings in the store: policies, files, the composition queue, retention, the
record's access rules, attendance per person and its CSV."""

from __future__ import annotations

import csv
import io
import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from rooms.calendar import meeting_rooms
from signaling.accounts.accounts import AccountService
from signaling.config import Config
from signaling.errors import BadRequest, Conflict, NotFound
from signaling.records.attendance import Attendance
from signaling.records.meeting_record import MinutesService, RecordAccess, attendance_csv, summarize
from signaling.records.recordings import RecordingService
from signaling.records.retention import RetentionJob
from signaling.schedule.meetings import MeetingService
from signaling.store import Store

T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def accounts(store: Store) -> AccountService:
    service = AccountService(store, seats=10)
    for name, role in (("sep", "leader"), ("khach", "official"), ("tk", "secretary"),
                       ("tk2", "secretary"), ("la", "official"), ("qt", "admin")):
        service.create(name, name.upper(), role, "password-123")
    return service


@pytest.fixture
def meetings(store: Store, accounts: AccountService) -> MeetingService:
    return MeetingService(store, TZ, meeting_rooms(store, Config().rooms, TZ))


@pytest.fixture
def recordings(store: Store, tmp_path: Path) -> RecordingService:
    return RecordingService(store, tmp_path / "rec")


def test_policy_defaults_to_the_configured_one(store: Store, meetings: MeetingService,
                                               recordings: RecordingService) -> None:
    first = meetings.create("A", "sep", start=T0)
    assert recordings.policy(first.id) == "automatic"
    on_demand = MeetingService(store, TZ, meeting_rooms(store, Config().rooms, TZ),
                               default_recording_policy="on_demand")
    second = on_demand.create("B", "sep", start=T0)
    assert recordings.policy(second.id) == "on_demand"
    assert recordings.policy(first.id) == "automatic"
    recordings.set_policy(second.id, "off")
    assert recordings.policy(second.id) == "off"
    with pytest.raises(BadRequest):
        recordings.set_policy(second.id, "sometimes")
    with pytest.raises(NotFound):
        recordings.policy("nope")


def test_the_database_refuses_an_unknown_policy(store: Store, meetings: MeetingService) -> None:
    meeting = meetings.create("A", "sep", start=T0)
    with pytest.raises(sqlite3.IntegrityError), store.transaction() as db:
        db.execute("UPDATE meetings SET recording_policy = 'maybe' WHERE id = ?", (meeting.id,))


def test_tracks_go_from_recording_to_complete(meetings: MeetingService,
                                              recordings: RecordingService) -> None:
    meeting = meetings.create("A", "sep", start=T0)
    recordings.track_started(meeting.id, "p-1", "video", "sep", "camera", "p-1.webm", at=T0)
    recordings.track_started(meeting.id, "p-2", "audio", "sep", "microphone", "p-2.webm", at=T0)
    assert recordings.meetings_interrupted() == [meeting.id]
    assert recordings.tracks_stopped(meeting.id) == 2
    assert {r.status for r in recordings.list(meeting.id)} == {"processing"}
    recordings.track_started(meeting.id, "p-1", "video", "sep", "camera", "p-1.webm")
    assert [r.status for r in recordings.list(meeting.id) if r.track == "p-1"] == ["recording"]
    path = recordings.meeting_directory(meeting.id) / "p-1.webm"
    recordings.file_ready(meeting.id, "p-1", path, 1234, media="video")
    recordings.file_ready(meeting.id, "composite", recordings.meeting_directory(meeting.id)
                          / "composite.mp4", 999)
    listed = recordings.list(meeting.id)
    assert [r.kind for r in listed] == ["composite", "track", "track"]
    track = next(r for r in listed if r.track == "p-1")
    assert track.status == "complete" and track.bytes == 1234 and track.path == path
    assert len({r.id for r in listed}) == 3 and all(len(r.id) >= 24 for r in listed)
    assert recordings.get(track.id) == track
    with pytest.raises(NotFound):
        recordings.get("guess")


def test_one_queued_job_per_meeting_claimed_once_and_retried(
        meetings: MeetingService, recordings: RecordingService) -> None:
    a = meetings.create("A", "sep", start=T0)
    b = meetings.create("B", "sep", start=T0)
    job_a = recordings.queue_compose(a.id)
    assert recordings.queue_compose(a.id).id == job_a.id  # already waiting
    job_b = recordings.queue_compose(b.id)
    claimed = recordings.claim_job()
    assert claimed is not None and claimed.id == job_a.id and claimed.status == "running"
    assert claimed.attempts == 1
    # While a's job runs, a new one may wait behind it.
    assert recordings.queue_compose(a.id).id not in (job_a.id, job_b.id)
    recordings.job_progress(job_a.id, 42.5, 30.0)
    assert (recordings.job(job_a.id).percent, recordings.job(job_a.id).remaining_s) == (42.5, 30)
    recordings.job_finished(job_a.id, "decoder exploded")
    failed = recordings.job(job_a.id)
    assert failed.status == "failed" and failed.error == "decoder exploded"
    with pytest.raises(Conflict):
        recordings.retry(job_a.id)  # a's newer job is already queued
    with pytest.raises(Conflict):
        recordings.retry(job_b.id)  # not failed
    assert recordings.claim_job().id == job_b.id  # type: ignore[union-attr]
    recordings.job_finished(job_b.id)
    assert recordings.job(job_b.id).percent == 100
    third = recordings.claim_job()
    assert third is not None and third.meeting_id == a.id
    assert recordings.requeue_running() == 1
    assert recordings.job(third.id).status == "queued"
    assert recordings.claim_job() is not None
    recordings.job_finished(third.id, "again")
    assert recordings.retry(job_a.id).status == "queued"
    with pytest.raises(NotFound):
        recordings.queue_compose("no-such-meeting")


def test_retention_deletes_old_files_and_logs_them(
        meetings: MeetingService, recordings: RecordingService,
        caplog: pytest.LogCaptureFixture) -> None:
    old = meetings.create("Old", "sep", start=T0)
    new = meetings.create("New", "sep", start=T0)
    for meeting, started in ((old, T0), (new, T0 + timedelta(days=40))):
        directory = recordings.meeting_directory(meeting.id)
        directory.mkdir(parents=True)
        path = directory / "p.webm"
        path.write_bytes(b"x" * 100)
        recordings.track_started(meeting.id, "p", "video", "sep", "camera", "p.webm", at=started)
        recordings.tracks_stopped(meeting.id)
        recordings.file_ready(meeting.id, "p", path, 100)
    usage = recordings.usage_by_month()
    assert [(u.month, u.files, u.bytes) for u in usage] == [("2026-02", 1, 100),
                                                            ("2026-01", 1, 100)]
    caplog.set_level(logging.INFO, logger="signaling.records.retention")
    deleted = RetentionJob(recordings, days=30).purge(now=T0 + timedelta(days=45))
    assert [r.meeting_id for r in deleted] == [old.id]
    assert not recordings.meeting_directory(old.id).exists()
    assert (recordings.meeting_directory(new.id) / "p.webm").exists()
    assert [r.status for r in recordings.list(old.id)] == ["deleted"]
    assert f"deleted track recording p of meeting {old.id}" in caplog.text
    assert RetentionJob(recordings, days=0).purge(now=T0 + timedelta(days=999)) == []
    assert [u.month for u in recordings.usage_by_month()] == ["2026-02"]


def test_record_access_rules(store: Store, meetings: MeetingService,
                             accounts: AccountService) -> None:
    access = RecordAccess(store)
    meeting = meetings.create("A", "sep", start=T0, invitees=["khach"])
    access.assign("tk", "sep")
    access.assign("tk2", "khach")
    who = {name: accounts.get(name) for name in ("sep", "khach", "tk", "tk2", "la", "qt")}
    assert {n for n, a in who.items() if access.may_view(meeting, a)} == {
        "sep", "khach", "tk", "tk2", "qt"}
    assert {n for n, a in who.items() if access.may_manage(meeting, a)} == {"sep", "tk", "qt"}
    accounts.set_active("tk", False)
    assert not access.may_view(meeting, accounts.get("tk"))


def test_minutes_are_saved_and_bounded(store: Store, meetings: MeetingService) -> None:
    minutes = MinutesService(store)
    meeting = meetings.create("A", "sep", start=T0)
    assert minutes.get(meeting.id).body == ""
    minutes.save(meeting.id, "Dòng 1\r\nDòng 2", "sep")
    saved = minutes.get(meeting.id)
    assert saved.body == "Dòng 1\nDòng 2" and saved.updated_by == "sep"
    with pytest.raises(BadRequest):
        minutes.save(meeting.id, "x" * 100_001, "sep")


def test_attendance_per_person_counts_overlaps_once() -> None:
    def stay(user: str, pid: str, start: int, end: int | None) -> Attendance:
        return Attendance("m", user, pid, T0 + timedelta(minutes=start),  # type: ignore[arg-type]
                          None if end is None else T0 + timedelta(minutes=end))

    entries = [stay("a", "1", 0, 30), stay("a", "2", 20, 40), stay("a", "3", 50, 60),
               stay("b", "4", 10, None)]
    people = summarize(entries, {"a": "Anh =Ba"}, now=T0 + timedelta(minutes=70))
    assert [(p.username, p.total) for p in people] == [("a", timedelta(minutes=50)),
                                                       ("b", timedelta(minutes=60))]
    rows = list(csv.reader(io.StringIO(attendance_csv(people, TZ))))
    assert rows[1] == ["a", "Anh =Ba", "2026-01-05T08:00:00+07:00", "2026-01-05T08:30:00+07:00",
                       "0:50:00", "yes"]
    assert rows[2][4:] == ["", ""] and rows[3][4:] == ["", ""]  # the total once per person
    assert rows[4][3] == "" and rows[4][4:] == ["1:00:00", "yes"]
    absent = summarize(entries, {"c": "Chi"}, now=T0, invited=["b", "c"])
    assert [(p.username, p.stays) for p in absent[2:]] == [("c", ())]
    assert list(csv.reader(io.StringIO(attendance_csv(absent, TZ))))[-1] == [
        "c", "Chi", "", "", "0:00:00", "no"]
    formula = summarize([stay("c", "5", 0, 1)], {"c": "=HYPERLINK(1)"}, now=T0)
    assert list(csv.reader(io.StringIO(attendance_csv(formula, TZ))))[1][1] == "'=HYPERLINK(1)"
