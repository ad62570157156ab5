"""Invitations and feeds: written with icalendar, read back with a second parser (vobject)."""

from __future__ import annotations

from datetime import UTC, datetime

import vobject

from signaling.schedule.feeds import FeedService
from signaling.schedule.invitations import (
    CalendarContext,
    SeriesRule,
    build_calendar,
    meeting_invitation,
)
from signaling.schedule.recurrence import make_recurrence
from signaling.schedule.service import MeetingChanges, MeetingDraft
from tests.unit.schedule.conftest import HCM, NOW, World


def at(hour: int, day: int = 10) -> datetime:
    return datetime(2025, 3, day, hour - 7, 0, tzinfo=UTC)


def context() -> CalendarContext:
    return CalendarContext(tz=HCM, base_url="https://giaoban.example", name_of=str.title,
                           room_label=lambda r: f"Phòng {r}", now=NOW)


def test_one_meeting_reads_back(world: World) -> None:
    (meeting,) = world.schedule.schedule(world["lan"], MeetingDraft(
        "Giao ban tuần", at(8), at(10), agenda="1. Báo cáo", invitees=("cuong",),
        on_behalf_of="an", room_id="room-1")).meetings
    text = meeting_invitation(meeting, [], None, context()).decode()
    assert "METHOD:REQUEST" in text and "BEGIN:VTIMEZONE" in text
    assert "DTSTART;TZID=Asia/Ho_Chi_Minh:20250310T080000" in text
    parsed = vobject.readOne(text)
    event = parsed.vevent
    assert parsed.method.value == "REQUEST"
    assert event.summary.value == "Giao ban tuần"
    assert event.dtstart.value == at(8) and event.dtend.value == at(10)
    assert event.dtstart.value.utcoffset().total_seconds() == 7 * 3600
    assert event.uid.value == f"{meeting.id}@giaoban"
    assert event.location.value == "Phòng room-1"
    assert "1. Báo cáo" in event.description.value
    assert event.url.value == f"https://giaoban.example/m/{meeting.id}"
    assert event.organizer.value == "urn:giaoban:an"
    assert sorted(a.value for a in event.attendee_list) == ["urn:giaoban:cuong",
                                                            "urn:giaoban:lan"]


def test_a_series_with_a_cancelled_and_a_moved_occurrence(world: World) -> None:
    meetings = world.schedule.schedule(world["lan"], MeetingDraft(
        "Giao ban", at(8), at(9),
        recurrence=make_recurrence("weekly", weekdays=[0], count=4))).meetings
    world.schedule.cancel(world["lan"], meetings[1].id)
    world.schedule.update(world["lan"], meetings[2].id,
                          MeetingChanges(start=at(14, day=25), end=at(15, day=25)))
    series_id = meetings[0].series_id or ""
    _, first, rrule = world.schedule.series_rule(series_id)
    series = world.meetings.list_series(series_id)
    text = meeting_invitation(series[0], series, SeriesRule(rrule, first), context()).decode()
    assert "RRULE:FREQ=WEEKLY;COUNT=4;BYDAY=MO" in text
    assert "EXDATE;TZID=Asia/Ho_Chi_Minh:20250317T080000" in text
    parsed = vobject.readOne(text)
    events = parsed.vevent_list
    assert len(events) == 2
    master = next(e for e in events if not hasattr(e, "recurrence_id"))
    override = next(e for e in events if hasattr(e, "recurrence_id"))
    starts = list(master.getrruleset())
    assert [s.astimezone(UTC) for s in starts] == [at(8, day=d) for d in (10, 24, 31)]
    assert override.recurrence_id.value == at(8, day=24)
    assert override.dtstart.value == at(14, day=25)


def test_feed_tokens_are_hashed_and_revocable(world: World) -> None:
    feeds = FeedService(world.store)
    token = feeds.issue("an")
    assert feeds.owner(token) == "an"
    stored = world.store.fetch_one("SELECT token_hash FROM calendar_feeds")
    assert stored is not None and token not in stored[0]
    newer = feeds.issue("an")
    assert feeds.owner(token) is None and feeds.owner(newer) == "an"
    assert feeds.revoke("an") and feeds.owner(newer) is None
    assert feeds.owner("") is None and not feeds.has_feed("an")


def test_a_feed_of_several_meetings(world: World) -> None:
    one = world.schedule.schedule(world["lan"], MeetingDraft(
        "Một", at(8), at(9), invitees=("an",))).meetings
    two = world.schedule.schedule(world["lan"], MeetingDraft(
        "Hai", at(10), at(11), invitees=("an",),
        recurrence=make_recurrence("daily", count=3))).meetings
    _, first, rrule = world.schedule.series_rule(two[0].series_id or "")
    text = build_calendar([*one, *two], {two[0].series_id or "": SeriesRule(rrule, first)},
                          context(), "PUBLISH", name="Lịch họp của An").decode()
    parsed = vobject.readOne(text)
    assert sorted(e.summary.value for e in parsed.vevent_list) == ["Hai", "Một"]
    assert parsed.x_wr_calname.value == "Lịch họp của An"


def test_a_changed_or_cancelled_meeting_gets_a_newer_invitation(world: World) -> None:
    (meeting,) = world.schedule.schedule(world["lan"], MeetingDraft(
        "Họp chi bộ", at(8), at(9), invitees=("cuong",))).meetings
    first = vobject.readOne(meeting_invitation(meeting, [], None, context()).decode())
    assert first.vevent.sequence.value == "0"
    (moved,) = world.schedule.update(world["lan"], meeting.id,
                                     MeetingChanges(start=at(14), end=at(15))).meetings
    second = vobject.readOne(meeting_invitation(moved, [], None, context()).decode())
    assert second.method.value == "REQUEST" and second.vevent.sequence.value == "1"
    assert second.vevent.dtstart.value == at(14)
    (cancelled,) = world.schedule.cancel(world["lan"], meeting.id)
    third = vobject.readOne(meeting_invitation(cancelled, [], None, context()).decode())
    assert third.method.value == "CANCEL" and third.vevent.sequence.value == "2"
    assert third.vevent.status.value == "CANCELLED"


def test_a_series_invitation_is_newer_after_one_occurrence_changes(world: World) -> None:
    meetings = world.schedule.schedule(world["lan"], MeetingDraft(
        "Giao ban", at(8), at(9),
        recurrence=make_recurrence("weekly", weekdays=[0], count=3))).meetings
    series_id = meetings[0].series_id or ""
    _, first, rrule = world.schedule.series_rule(series_id)

    def master_sequence() -> str:
        series = world.meetings.list_series(series_id)
        text = meeting_invitation(series[0], series, SeriesRule(rrule, first), context())
        parsed = vobject.readOne(text.decode())
        master = next(e for e in parsed.vevent_list if not hasattr(e, "recurrence_id"))
        return str(master.sequence.value)

    assert master_sequence() == "0"
    world.schedule.cancel(world["lan"], meetings[2].id)
    assert master_sequence() == "1"
