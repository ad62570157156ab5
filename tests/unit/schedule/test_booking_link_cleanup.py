"""Migration 0008 against a database built without it (at 0007, or with every other
migration, as the services writing its rows need): bookings linked to a meeting their
author may not change, or not covering the meeting's time, lose the link (and get an
audit entry); the legitimate links stay; an edit of the meeting then moves only those."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rooms.bookings import BookingService
from rooms.calendar import MeetingRooms
from rooms.devices import RoomDevices
from signaling.accounts.accounts import AccountService
from signaling.accounts.audit import AuditLog
from signaling.config import Config
from signaling.schedule.meetings import MeetingService
from signaling.schedule.service import MeetingChanges, ScheduleService
from signaling.spans import Span
from signaling.store import Migration, Store, load_migrations, to_db
from tests.unit.schedule.conftest import HCM

START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
HOUR = timedelta(hours=1)
CLEANUP = 8
"""The migration under test."""


def without_cleanup() -> list[Migration]:
    return [m for m in load_migrations() if m.version != CLEANUP]


@dataclass
class Services:
    store: Store
    accounts: AccountService
    meetings: MeetingService
    bookings: BookingService
    schedule: ScheduleService


def services(store: Store) -> Services:
    accounts = AccountService(store, seats=20)
    bookings = BookingService(store, Config().rooms, HCM)
    rooms = MeetingRooms(bookings, RoomDevices(store))
    meetings = MeetingService(store, HCM, rooms=rooms)
    return Services(store, accounts, meetings, bookings,
                    ScheduleService(store, meetings, accounts, rooms))


def insert_booking(store: Store, room: str, span: Span, by: str,
                   meeting_id: str | None) -> int:
    """A row as the booking route wrote it before the rule: any link, any time."""
    with store.transaction() as db:
        cursor = db.execute(
            "INSERT INTO room_bookings (room_id, title, start_at, end_at, meeting_id,"
            " booked_by, created_at) VALUES (?, 'Đặt phòng', ?, ?, ?, ?, ?)",
            (room, to_db(span.start), to_db(span.end), meeting_id, by,
             to_db(datetime.now(UTC))))
        return int(cursor.lastrowid or 0)


def build_old_database(path: Path) -> tuple[dict[str, str], dict[str, int]]:
    """A database without the clean-up holding both kinds of links."""
    store = Store.open(path, migrations=without_cleanup())
    assert store.fetch_one("SELECT 1 FROM schema_migrations WHERE version = ?",
                           (CLEANUP,)) is None
    s = services(store)
    for name, role in (("bo-truong", "leader"), ("thu-ky", "secretary"),
                       ("thu-ky-rieng", "secretary"), ("van-thu", "clerk")):
        s.accounts.create(name, name.title(), role, "password-" + name)
    s.accounts.assign_secretary("thu-ky-rieng", "bo-truong")
    meetings = {
        # The leader's own meeting; thu-ky is not the leader's secretary.
        "leader": str(s.meetings.create("Họp kín", "bo-truong", START, START + HOUR).id),
        # thu-ky's own meeting.
        "own": str(s.meetings.create("Giao ban phòng", "thu-ky", START + 2 * HOUR,
                                     START + 3 * HOUR).id),
        # Scheduled by a clerk on the leader's behalf.
        "behalf": str(s.meetings.create("Làm việc với tỉnh", "van-thu",
                                        START + 4 * HOUR, START + 5 * HOUR,
                                        on_behalf_of="bo-truong").id),
    }
    later = START + timedelta(days=3)
    bookings = {
        # Unlinked by the migration:
        "stranger_elsewhen": insert_booking(store, "room-1", Span(later, later + HOUR),
                                            "thu-ky", meetings["leader"]),
        "stranger_covering": insert_booking(store, "room-3", Span(START, START + HOUR),
                                            "thu-ky", meetings["leader"]),
        "stranger_behalf": insert_booking(store, "room-2",
                                          Span(START + 4 * HOUR, START + 5 * HOUR),
                                          "thu-ky", meetings["behalf"]),
        "own_elsewhen": insert_booking(store, "room-2", Span(START + timedelta(days=1),
                                                             START + timedelta(days=1) + HOUR),
                                       "thu-ky", meetings["own"]),
        # Kept:
        "clerk_covering": insert_booking(store, "room-2",
                                         Span(START - timedelta(minutes=15),
                                              START + HOUR + timedelta(minutes=15)),
                                         "van-thu", meetings["leader"]),
        "own_covering": insert_booking(store, "room-1", Span(START + 2 * HOUR, START + 3 * HOUR),
                                       "thu-ky", meetings["own"]),
        "behalf_covering": insert_booking(store, "room-3",
                                          Span(START + 4 * HOUR, START + 5 * HOUR),
                                          "thu-ky-rieng", meetings["behalf"]),
        "no_link": insert_booking(store, "room-1", Span(later + 2 * HOUR, later + 3 * HOUR),
                                  "thu-ky", None),
    }
    store.close()
    return meetings, bookings


UNLINKED = {"stranger_elsewhen": "author_may_not_change_meeting",
            "stranger_covering": "author_may_not_change_meeting",
            "stranger_behalf": "author_may_not_change_meeting",
            "own_elsewhen": "does_not_cover_meeting"}
KEPT = {"clerk_covering": "leader", "own_covering": "own", "behalf_covering": "behalf"}


def move_meetings(s: Services, meetings: dict[str, str]) -> None:
    """Each meeting edited half an hour later by someone who may change it."""
    for key, actor in (("leader", "van-thu"), ("own", "thu-ky"), ("behalf", "thu-ky-rieng")):
        meeting = s.meetings.get(meetings[key])
        s.schedule.update(s.accounts.get(actor), meetings[key],
                          MeetingChanges(start=meeting.start + timedelta(minutes=30)))


def test_the_migration_unlinks_only_the_links_made_against_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "giaoban.sqlite3"
    meetings, bookings = build_old_database(path)
    # Without the migration, the edit moves a stranger's booking onto the meeting.
    unmigrated = tmp_path / "unmigrated.sqlite3"
    shutil.copyfile(path, unmigrated)
    old = Store.open(unmigrated, migrations=without_cleanup())
    move_meetings(services(old), meetings)
    moved = services(old).bookings.get(bookings["stranger_elsewhen"])
    assert moved.start == START + timedelta(minutes=30), "the old database shows no harm"
    old.close()

    store = Store.open(path)
    try:
        assert store.fetch_one("SELECT 1 FROM schema_migrations WHERE version = ?",
                               (CLEANUP,)) is not None
        s = services(store)
        spans_before = {key: s.bookings.get(i).span for key, i in bookings.items()}
        for key in UNLINKED:
            booking = s.bookings.get(bookings[key])
            assert booking.meeting_id is None, key
            assert booking.state == "active", key
        for key, meeting in KEPT.items():
            assert s.bookings.get(bookings[key]).meeting_id == meetings[meeting], key
        assert s.bookings.get(bookings["no_link"]).meeting_id is None
        assert s.meetings.get(meetings["leader"]).room_id == "room-2"
        entries = [e for e in AuditLog(store).entries() if e.action == "booking.unlink"]
        assert sorted((e.target, e.actor) for e in entries) == sorted(
            (f"booking {bookings[key]}", "migration") for key in UNLINKED)
        for entry in entries:
            key = next(k for k in UNLINKED if f"booking {bookings[k]}" == entry.target)
            assert entry.before is not None and entry.after is not None
            assert entry.before["reason"] == UNLINKED[key]
            assert entry.before["meeting_id"] in meetings.values()
            assert entry.after["meeting_id"] is None

        move_meetings(s, meetings)
        for key in UNLINKED:
            assert s.bookings.get(bookings[key]).span == spans_before[key], key
        for key, meeting in KEPT.items():
            moved_meeting = s.meetings.get(meetings[meeting])
            assert s.bookings.get(bookings[key]).span == Span(moved_meeting.start,
                                                               moved_meeting.end), key
        assert s.meetings.get(meetings["leader"]).room_id == "room-2"
    finally:
        store.close()


def test_the_migration_runs_once(tmp_path: Path) -> None:
    path = tmp_path / "giaoban.sqlite3"
    build_old_database(path)
    Store.open(path).close()
    store = Store.open(path)
    try:
        unlinks = [e for e in AuditLog(store).entries() if e.action == "booking.unlink"]
        assert len(unlinks) == len(UNLINKED)
    finally:
        store.close()
