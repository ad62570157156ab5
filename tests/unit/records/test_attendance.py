"""Attendance records: joining, leaving, and closing what a crash left open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rooms.calendar import meeting_rooms
from signaling.accounts.accounts import AccountService
from signaling.config import Config
from signaling.errors import Conflict, NotFound
from signaling.ids import MeetingId
from signaling.records.attendance import Attendance, AttendanceService
from signaling.schedule.meetings import MeetingService
from signaling.store import Store

T0 = datetime(2025, 3, 14, 2, 0, tzinfo=UTC)


@pytest.fixture
def meeting_id(store: Store) -> MeetingId:
    accounts = AccountService(store, seats=5)
    accounts.create("alice", "Alice", "leader", "password-a")
    accounts.create("bob", "Bob", "clerk", "password-b")
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    meetings = MeetingService(store, tz, meeting_rooms(store, Config().rooms, tz))
    return meetings.create("Briefing", "alice", start=T0, invitees=["bob"]).id


@pytest.fixture
def attendance(store: Store) -> AttendanceService:
    return AttendanceService(store)


def test_joined_and_left(attendance: AttendanceService, meeting_id: MeetingId) -> None:
    record = attendance.joined(meeting_id, "alice", "p1", at=T0)
    assert (record.meeting_id, record.username, record.participant_id) == (
        meeting_id, "alice", "p1",
    )
    assert record.joined_at == T0 and record.left_at is None
    attendance.left("p1", at=T0 + timedelta(minutes=45))
    (stored,) = attendance.for_meeting(meeting_id)
    assert stored.joined_at == T0
    assert stored.left_at == T0 + timedelta(minutes=45)


def test_left_is_idempotent(attendance: AttendanceService, meeting_id: MeetingId) -> None:
    attendance.joined(meeting_id, "alice", "p1", at=T0)
    attendance.left("p1", at=T0 + timedelta(minutes=10))
    attendance.left("p1", at=T0 + timedelta(minutes=20))
    attendance.left("never-joined")
    (stored,) = attendance.for_meeting(meeting_id)
    assert stored.left_at == T0 + timedelta(minutes=10)


def test_rejoining_gives_separate_records_in_join_order(
    attendance: AttendanceService, meeting_id: MeetingId
) -> None:
    attendance.joined(meeting_id, "bob", "p2", at=T0 + timedelta(minutes=5))
    attendance.joined(meeting_id, "alice", "p1", at=T0)
    attendance.left("p2", at=T0 + timedelta(minutes=6))
    attendance.joined(meeting_id, "bob", "p3", at=T0 + timedelta(minutes=7))
    records = attendance.for_meeting(meeting_id)
    assert [(r.participant_id, r.username) for r in records] == [
        ("p1", "alice"), ("p2", "bob"), ("p3", "bob"),
    ]
    assert [r.participant_id for r in attendance.open_for(meeting_id)] == ["p1", "p3"]


def test_close_open_marks_every_open_record_left(
    attendance: AttendanceService, meeting_id: MeetingId
) -> None:
    attendance.joined(meeting_id, "alice", "p1", at=T0)
    attendance.joined(meeting_id, "bob", "p2", at=T0)
    attendance.left("p2", at=T0 + timedelta(minutes=3))
    restart = T0 + timedelta(hours=2)
    assert attendance.close_open(at=restart) == 1
    by_id: dict[str, Attendance] = {r.participant_id: r for r in attendance.for_meeting(meeting_id)}
    assert by_id["p1"].left_at == restart
    assert by_id["p2"].left_at == T0 + timedelta(minutes=3)
    assert attendance.close_open(at=restart) == 0
    assert attendance.open_for(meeting_id) == []


def test_left_is_never_before_joined(
    attendance: AttendanceService, meeting_id: MeetingId
) -> None:
    attendance.joined(meeting_id, "alice", "p1", at=T0)
    attendance.left("p1", at=T0 - timedelta(seconds=5))
    (stored,) = attendance.for_meeting(meeting_id)
    assert stored.left_at == T0


def test_default_times_are_now(attendance: AttendanceService, meeting_id: MeetingId) -> None:
    before = datetime.now(UTC)
    attendance.joined(meeting_id, "alice", "p1")
    attendance.close_open()
    after = datetime.now(UTC)
    (stored,) = attendance.for_meeting(meeting_id)
    assert stored.left_at is not None
    assert before <= stored.joined_at <= stored.left_at <= after


def test_duplicate_participant_and_unknown_meeting(
    attendance: AttendanceService, meeting_id: MeetingId
) -> None:
    attendance.joined(meeting_id, "alice", "p1", at=T0)
    with pytest.raises(Conflict, match="'p1'"):
        attendance.joined(meeting_id, "bob", "p1", at=T0)
    with pytest.raises(NotFound, match="'nosuchmeet'"):
        attendance.joined("nosuchmeet", "alice", "p9", at=T0)
    assert attendance.for_meeting("nosuchmeet") == []
