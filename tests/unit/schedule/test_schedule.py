"""Scheduling: who may, rooms, busy warnings, series, one occurrence, this and following."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from rooms.bookings import RoomConflict
from signaling.errors import BadRequest, Forbidden
from signaling.schedule.meetings import JoinWindowClosed
from signaling.schedule.recurrence import make_recurrence
from signaling.schedule.service import MeetingChanges, MeetingDraft
from tests.unit.schedule.conftest import HCM, World


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2025, 3, day, hour - 7, minute, tzinfo=UTC)


def draft(**kwargs: object) -> MeetingDraft:
    values: dict[str, object] = {"title": "Giao ban tuần", "start": at(8), "end": at(10)}
    values.update(kwargs)
    return MeetingDraft(**values)  # type: ignore[arg-type]


def test_a_clerk_schedules_for_a_leader_with_a_room(world: World) -> None:
    outcome = world.schedule.schedule(world["lan"], draft(
        on_behalf_of="an", invitees=("cuong", "dung"), room_id="room-1", agenda="1. Báo cáo",
        recording_policy="on_demand"))
    (meeting,) = outcome.meetings
    assert (meeting.organizer, meeting.on_behalf_of, meeting.room_id) == ("lan", "an", "room-1")
    assert (meeting.agenda, meeting.recording_policy) == ("1. Báo cáo", "on_demand")
    assert [m.id for m in world.meetings.list_for("an")] == [meeting.id]
    (booking,) = world.bookings.for_meeting(meeting.id)
    assert (booking.start, booking.end, booking.title) == (at(8), at(10), "Giao ban tuần")


def test_default_recording_policy_comes_from_the_service(world: World) -> None:
    (meeting,) = world.schedule.schedule(world["dung"], draft()).meetings
    assert meeting.recording_policy == "automatic"


def test_who_may_schedule(world: World) -> None:
    for who in ("an", "hai"):
        with pytest.raises(Forbidden, match="may not schedule meetings"):
            world.schedule.schedule(world[who], draft())
    with pytest.raises(Forbidden, match="on behalf of 'cuong'"):
        world.schedule.schedule(world["binh"], draft(on_behalf_of="cuong"))
    assert world.schedule.schedule(world["binh"], draft(on_behalf_of="an")).meetings
    with pytest.raises(Forbidden, match="on behalf of 'an'"):
        world.schedule.schedule(world["dung"], draft(on_behalf_of="an"))
    with pytest.raises(Forbidden, match="may not book rooms"):
        world.schedule.schedule(world["dung"], draft(room_id="room-1"))
    with pytest.raises(BadRequest, match="is not a leader"):
        world.schedule.schedule(world["lan"], draft(on_behalf_of="dung"))


def test_only_the_organizer_clerks_admins_and_the_leaders_secretary_manage(world: World) -> None:
    (meeting,) = world.schedule.schedule(world["lan"], draft(on_behalf_of="an")).meetings
    with pytest.raises(Forbidden, match="Only the organizer"):
        world.schedule.cancel(world["dung"], meeting.id)
    with pytest.raises(Forbidden):
        world.schedule.cancel(world["an"], meeting.id)
    changed = world.schedule.update(world["binh"], meeting.id, MeetingChanges(title="Mới"))
    assert changed.meetings[0].title == "Mới"


def test_busy_invitees_are_a_warning_not_a_block(world: World) -> None:
    world.schedule.schedule(world["dung"], draft(title="Họp A", invitees=("an", "em"),
                                                  start=at(9), end=at(11)))
    outcome = world.schedule.schedule(world["lan"], draft(invitees=("em", "an", "cuong")))
    assert outcome.meetings
    assert [(w.username, w.is_leader, w.meeting.title) for w in outcome.warnings] == [
        ("an", True, "Họp A"), ("em", False, "Họp A")]
    preview = world.schedule.preview(world["lan"], draft(start=at(11), end=at(12),
                                                         invitees=("an",)))
    assert preview.warnings == ()  # back-to-back is not busy


def test_a_room_clash_stops_the_meeting_unless_the_free_ones_are_enough(world: World) -> None:
    blocker = world.bookings.book(world["lan"], "room-1", at(9, day=17), at(12, day=17), "Khách")
    weekly = draft(room_id="room-1", recurrence=make_recurrence("weekly", weekdays=[0], count=3))
    preview = world.schedule.preview(world["lan"], weekly)
    assert [(c.start, c.booking.id) for c in preview.room_clashes] == [(at(8, day=17),
                                                                        blocker.id)]
    with pytest.raises(RoomConflict, match=f"booking #{blocker.id}"):
        world.schedule.schedule(world["lan"], weekly)
    assert world.meetings.list_all() == []  # nothing was left behind
    outcome = world.schedule.schedule(world["lan"], weekly, room_policy="free_only")
    assert [m.room_id for m in outcome.meetings] == ["room-1", None, "room-1"]
    assert [c.booking.id for c in outcome.room_skipped] == [blocker.id]


def test_a_series_occurrence_can_be_cancelled_or_moved_alone(world: World) -> None:
    weekly = draft(room_id="room-2", invitees=("an",),
                   recurrence=make_recurrence("weekly", until=date(2025, 3, 31)))
    meetings = world.schedule.schedule(world["lan"], weekly).meetings
    assert [m.start for m in meetings] == [at(8, day=d) for d in (10, 17, 24, 31)]
    assert len({m.series_id for m in meetings}) == 1
    world.schedule.cancel(world["lan"], meetings[1].id)
    moved = world.schedule.update(world["lan"], meetings[2].id,
                                  MeetingChanges(start=at(14, day=25), end=at(15, day=25)))
    series = world.meetings.list_series(meetings[0].series_id or "")
    assert [m.state for m in series] == ["scheduled", "cancelled", "scheduled", "scheduled"]
    assert moved.meetings[0].start == at(14, day=25)
    assert moved.meetings[0].occurrence_start == at(8, day=24)
    assert world.bookings.for_meeting(meetings[1].id) == []
    assert world.bookings.for_meeting(meetings[2].id)[0].start == at(14, day=25)
    assert series[3].start == at(8, day=31)


def test_this_and_following_splits_the_series(world: World) -> None:
    weekly = draft(recurrence=make_recurrence("weekly", weekdays=[0], count=4))
    meetings = world.schedule.schedule(world["lan"], weekly).meetings
    outcome = world.schedule.update(
        world["lan"], meetings[2].id,
        MeetingChanges(start=at(9, day=25), end=at(10, day=25), title="Giao ban (thứ Ba)"),
        scope="following")
    assert [m.start for m in outcome.meetings] == [at(9, day=25),
                                                   at(9, day=1).replace(month=4)]
    first = world.meetings.list_series(meetings[0].series_id or "")
    assert [m.start for m in first] == [at(8, day=10), at(8, day=17)]
    new_series = outcome.meetings[0].series_id
    assert new_series is not None and new_series != meetings[0].series_id
    second = world.meetings.list_series(new_series)
    assert [m.start.astimezone(HCM).strftime("%a %d/%m %H:%M") for m in second] == [
        "Tue 25/03 09:00", "Tue 01/04 09:00"]
    assert {m.title for m in second} == {"Giao ban (thứ Ba)"}
    rule, first_start, text = world.schedule.series_rule(new_series)
    assert text == "FREQ=WEEKLY;BYDAY=TU;COUNT=2" and first_start == at(9, day=25)
    assert world.schedule.series_rule(meetings[0].series_id or "")[2] == (
        "FREQ=WEEKLY;BYDAY=MO;COUNT=2")


def test_join_window(world: World) -> None:
    (meeting,) = world.schedule.schedule(world["lan"], draft(invitees=("an",))).meetings
    an, root, hai = world["an"], world["root"], world["hai"]
    world.clock[0] = at(7, 44)
    assert not world.meetings.may_join(meeting, an)
    with pytest.raises(JoinWindowClosed, match="opens for joining at 07:45 on 10/03/2025"):
        world.meetings.open_for(meeting.id, an)
    assert world.meetings.may_join(meeting, root)  # administrators: any time
    world.clock[0] = at(7, 45)
    assert world.meetings.open_for(meeting.id, an) == meeting
    assert not world.meetings.may_join(meeting, hai)  # IT lists, does not join
    world.clock[0] = at(10)
    with pytest.raises(JoinWindowClosed, match="has ended"):
        world.meetings.open_for(meeting.id, an)
    world.clock[0] = at(9)
    world.schedule.cancel(world["lan"], meeting.id)
    with pytest.raises(JoinWindowClosed, match="cancelled"):
        world.meetings.open_for(meeting.id, an)


def test_update_checks_its_input(world: World) -> None:
    (meeting,) = world.schedule.schedule(world["lan"], draft()).meetings
    with pytest.raises(BadRequest, match="Unknown scope"):
        world.schedule.update(world["lan"], meeting.id, MeetingChanges(), scope="all")
    with pytest.raises(BadRequest, match="end after it starts"):
        world.schedule.update(world["lan"], meeting.id, MeetingChanges(end=at(7)))
    with pytest.raises(BadRequest, match="at most 24 hours"):
        world.schedule.update(world["lan"], meeting.id,
                              MeetingChanges(end=meeting.start + timedelta(hours=25)))
