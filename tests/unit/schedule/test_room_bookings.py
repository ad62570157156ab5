"""Room bookings: the database refuses any overlap, names the clash, allows back-to-back."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from rooms.bookings import RoomConflict
from rooms.calendar import CHUNK, MeetingRooms
from signaling.errors import BadRequest, Forbidden, NotFound
from signaling.spans import Span
from signaling.store import to_db
from tests.unit.schedule.conftest import World


def at(hour: int, minute: int = 0, day: int = 14) -> datetime:
    """A local Hà Nội time on March `day`, 2025, as UTC."""
    return datetime(2025, 3, day, hour - 7, minute, tzinfo=UTC)


def test_book_and_back_to_back(world: World) -> None:
    lan = world["lan"]
    first = world.bookings.book(lan, "room-2", at(9), at(10), "Họp chi bộ")
    second = world.bookings.book(lan, "room-2", at(10), at(11), "Giao ban")
    other_room = world.bookings.book(lan, "room-1", at(9, 30), at(10, 30), "Tiếp khách")
    assert (first.room_id, first.start, first.end, first.state) == ("room-2", at(9), at(10),
                                                                     "active")
    assert [b.id for b in world.bookings.list("room-2")] == [first.id, second.id]
    assert world.bookings.list("room-1") == [other_room]


def test_a_clash_is_refused_and_named(world: World) -> None:
    lan = world["lan"]
    held = world.bookings.book(lan, "room-2", at(9), at(10), "Họp chi bộ")
    with pytest.raises(RoomConflict) as caught:
        world.bookings.book(lan, "room-2", at(9, 30), at(11), "Giao ban")
    problem = caught.value.as_problem()
    assert problem["status"] == 409 and problem["code"] == "room_booked"
    assert f"booking #{held.id}" in problem["detail"] and "Họp chi bộ" in problem["detail"]
    assert "09:00 to 10:00 on 14/03/2025" in problem["detail"]
    assert problem["clashes"][0]["booking"]["id"] == held.id
    assert problem["clashes"][0]["booking"]["start"] == "2025-03-14T09:00:00+07:00"
    assert len(world.bookings.list("room-2")) == 1


def test_the_trigger_guards_even_raw_sql(world: World) -> None:
    world.bookings.book(world["lan"], "room-3", at(9), at(10), "Họp")
    with pytest.raises(sqlite3.IntegrityError, match="room_booking_overlap"):
        with world.store.transaction() as db:
            db.execute(
                "INSERT INTO room_bookings (room_id, title, start_at, end_at, booked_by,"
                " created_at) VALUES ('room-3', 'x', ?, ?, 'lan', ?)",
                (to_db(at(9, 59)), to_db(at(12)), to_db(at(8))))
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        with world.store.transaction() as db:
            db.execute(
                "INSERT INTO room_bookings (room_id, title, start_at, end_at, booked_by,"
                " created_at) VALUES ('room-3', 'x', '2025-03-14 13:00', '2025-03-14 14:00',"
                " 'lan', ?)", (to_db(at(8)),))


def test_cancelled_bookings_free_the_room_and_moving_is_checked(world: World) -> None:
    lan = world["lan"]
    first = world.bookings.book(lan, "room-1", at(9), at(10), "A")
    world.bookings.cancel(lan, first.id)
    second = world.bookings.book(lan, "room-1", at(9), at(10), "B")
    third = world.bookings.book(lan, "room-1", at(10), at(11), "C")
    with pytest.raises(RoomConflict, match=f"booking #{second.id}"):
        world.bookings.update(lan, third.id, start=at(9, 45))
    moved = world.bookings.update(lan, third.id, start=at(11), end=at(12), title="C2")
    assert (moved.start, moved.end, moved.title) == (at(11), at(12), "C2")
    with pytest.raises(BadRequest, match="is cancelled"):
        world.bookings.update(lan, first.id, title="again")
    # Reactivating a cancelled booking over a live one is refused by the update trigger.
    with pytest.raises(sqlite3.IntegrityError, match="room_booking_overlap"):
        with world.store.transaction() as db:
            db.execute("UPDATE room_bookings SET state = 'active' WHERE id = ?", (first.id,))


def test_recurring_booking_reports_each_clash(world: World) -> None:
    lan = world["lan"]
    mondays = [Span(at(8, day=10) + timedelta(weeks=w), at(10, day=10) + timedelta(weeks=w))
               for w in range(4)]
    blocker = world.bookings.book(lan, "room-1", mondays[2].start + timedelta(minutes=30),
                                  mondays[2].end, "Tiếp đoàn")
    with pytest.raises(RoomConflict) as caught:
        world.bookings.book_many(lan, "room-1", mondays, "Giao ban tuần", "all")
    assert [c["booking"]["id"] for c in caught.value.extra["clashes"]] == [blocker.id]
    assert len(caught.value.extra["free"]) == 3
    assert world.bookings.list("room-1") == [blocker]  # nothing booked
    result = world.bookings.book_many(lan, "room-1", mondays, "Giao ban tuần", "free_only")
    assert [b.start for b in result.booked] == [mondays[i].start for i in (0, 1, 3)]
    assert [(c.start, c.booking.id) for c in result.skipped] == [(mondays[2].start, blocker.id)]
    assert len({b.group_id for b in result.booked}) == 1


@pytest.mark.parametrize("who", ["an", "dung", "hai"])
def test_only_clerks_secretaries_and_admins_book(world: World, who: str) -> None:
    with pytest.raises(Forbidden, match="may not book rooms"):
        world.bookings.book(world[who], "room-1", at(9), at(10), "x")


def test_bad_input(world: World) -> None:
    lan = world["lan"]
    with pytest.raises(NotFound, match="No room with id 'room-9'"):
        world.bookings.book(lan, "room-9", at(9), at(10), "x")
    with pytest.raises(BadRequest, match="end after it starts"):
        world.bookings.book(lan, "room-1", at(10), at(10), "x")
    with pytest.raises(BadRequest, match="title must not be empty"):
        world.bookings.book(lan, "room-1", at(9), at(10), "  ")
    with pytest.raises(BadRequest, match="Unknown policy"):
        world.bookings.book_many(lan, "room-1", [Span(at(9), at(10))], "x", "maybe")


def test_a_secretary_changes_only_their_own_bookings(world: World) -> None:
    booking = world.bookings.book(world["lan"], "room-1", at(9), at(10), "x")
    with pytest.raises(Forbidden, match="only their own"):
        world.bookings.cancel(world["binh"], booking.id)
    own = world.bookings.book(world["binh"], "room-1", at(10), at(11), "y")
    assert world.bookings.cancel(world["binh"], own.id).state == "cancelled"


def test_current_and_next(world: World) -> None:
    lan = world["lan"]
    a = world.bookings.book(lan, "room-1", at(9), at(10), "A")
    b = world.bookings.book(lan, "room-1", at(10), at(11), "B")
    assert world.bookings.current_and_next("room-1", at(8)) == (None, a)
    assert world.bookings.current_and_next("room-1", at(9, 30)) == (a, b)
    assert world.bookings.current_and_next("room-1", at(10)) == (b, None)
    assert world.bookings.current_and_next("room-1", at(11)) == (None, None)


def test_a_meeting_is_in_the_room_of_its_earliest_active_booking(world: World) -> None:
    lan = world["lan"]
    first = world.meetings.create("A", "lan", at(9), at(10))
    second = world.meetings.create("B", "lan", at(11), at(12))
    world.bookings.book(lan, "room-2", at(9), at(10), "A", meeting_id=first.id)
    late = world.bookings.book(lan, "room-1", at(8), at(10, 30), "A", meeting_id=first.id)
    world.bookings.book(lan, "room-3", at(11), at(12), "B", meeting_id=second.id)
    # More ids than one query asks about, with a meeting on each side of the cut.
    spans = {first.id: Span(at(9), at(10)),
             **{f"none{i}": Span(at(9), at(10)) for i in range(CHUNK + 10)},
             second.id: Span(at(11), at(12))}
    with world.store.read() as db:
        assert MeetingRooms.rooms_of(db, spans) == {first.id: "room-1", second.id: "room-3"}
    assert world.meetings.get(first.id).room_id == "room-1"
    world.bookings.cancel(lan, late.id)
    assert world.meetings.get(first.id).room_id == "room-2"


def test_a_booking_that_does_not_cover_the_meeting_gives_it_no_room(world: World) -> None:
    lan = world["lan"]
    meeting = world.meetings.create("A", "lan", at(9), at(10))
    world.bookings.book(lan, "room-1", at(14), at(15), "A", meeting_id=meeting.id)
    world.bookings.book(lan, "room-2", at(9, 30), at(10), "A", meeting_id=meeting.id)
    assert world.meetings.get(meeting.id).room_id is None
    assert world.meetings.create("C", "lan", at(16), at(17)).room_id is None
