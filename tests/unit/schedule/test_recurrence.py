"""Recurrence rules, expansion with exceptions, overlap and time zones: pure rules."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rooms.overlap import first_clash, split_free
from signaling.errors import BadRequest
from signaling.schedule.meetings import parse_when
from signaling.schedule.recurrence import (
    MAX_OCCURRENCES,
    Recurrence,
    expand,
    make_recurrence,
    parse_rrule,
    remaining_after,
    shift_weekdays,
    truncate_before,
)
from signaling.spans import Span, overlaps

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
PARIS = ZoneInfo("Europe/Paris")
MONDAY_8 = datetime(2025, 3, 10, 1, 0, tzinfo=UTC)  # Monday 08:00 in Hà Nội


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


# ---------------------------------------------------------------- overlap


def test_back_to_back_spans_do_not_overlap() -> None:
    nine_ten, ten_eleven = Span(at(14, 2), at(14, 3)), Span(at(14, 3), at(14, 4))
    assert not overlaps(nine_ten, ten_eleven)
    assert not overlaps(ten_eleven, nine_ten)


@pytest.mark.parametrize(("start", "end"), [
    ((14, 2, 30), (14, 3, 30)),  # straddles the start
    ((14, 1, 0), (14, 2, 1)),    # ends one minute in
    ((14, 2, 15), (14, 2, 45)),  # inside
    ((14, 1, 0), (14, 5, 0)),    # around
    ((14, 2, 0), (14, 3, 0)),    # identical
])
def test_overlapping_spans(start: tuple[int, int, int], end: tuple[int, int, int]) -> None:
    booked = Span(at(14, 2), at(14, 3))
    wanted = Span(at(*start), at(*end))
    assert overlaps(booked, wanted) and overlaps(wanted, booked)


def test_split_free_also_sees_clashes_among_the_wanted_spans() -> None:
    taken = [Span(at(14, 2), at(14, 3))]
    wanted = [Span(at(14, 1), at(14, 2)), Span(at(14, 2, 30), at(14, 4)),
              Span(at(14, 4), at(14, 5)), Span(at(14, 4, 30), at(14, 6))]
    free, clashing = split_free(wanted, taken)
    assert free == [wanted[0], wanted[2]]
    assert clashing == [wanted[1], wanted[3]]
    assert first_clash(wanted[1], taken) == 0 and first_clash(wanted[0], taken) is None
    with pytest.raises(ValueError):
        Span(at(14, 3), at(14, 3))


# ---------------------------------------------------------------- recurrence


def test_weekly_on_chosen_weekdays_with_a_count() -> None:
    rule = make_recurrence("weekly", weekdays=[2, 0], count=5)
    assert rule.rrule_text(HCM) == "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=5"
    starts = expand(rule, MONDAY_8, HCM)
    assert [s.astimezone(HCM).strftime("%a %d %H:%M") for s in starts] == [
        "Mon 10 08:00", "Wed 12 08:00", "Mon 17 08:00", "Wed 19 08:00", "Mon 24 08:00"]
    assert all(s.tzinfo == UTC for s in starts)


def test_daily_until_an_end_date_includes_that_date() -> None:
    rule = make_recurrence("daily", interval=2, until=date(2025, 3, 16))
    assert rule.rrule_text(HCM) == "FREQ=DAILY;INTERVAL=2;UNTIL=20250316T165959Z"
    assert [s.day for s in expand(rule, MONDAY_8, HCM)] == [10, 12, 14, 16]


def test_monthly_keeps_the_day_of_month() -> None:
    starts = expand(make_recurrence("monthly", count=3), MONDAY_8, HCM)
    assert [(s.month, s.day, s.hour) for s in starts] == [(3, 10, 1), (4, 10, 1), (5, 10, 1)]


def test_expansion_with_exceptions() -> None:
    rule = make_recurrence("weekly", count=4)
    cancelled = MONDAY_8 + timedelta(weeks=1)
    starts = expand(rule, MONDAY_8, HCM, exdates=[cancelled])
    assert starts == [MONDAY_8, MONDAY_8 + timedelta(weeks=2), MONDAY_8 + timedelta(weeks=3)]


def test_wall_clock_time_holds_across_daylight_saving() -> None:
    # 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer.
    start = datetime(2025, 3, 24, 8, 0, tzinfo=UTC)
    starts = expand(make_recurrence("weekly", count=2), start, PARIS)
    assert [s.hour for s in starts] == [8, 7]
    assert {s.astimezone(PARIS).hour for s in starts} == {9}


def test_the_rule_text_reads_back() -> None:
    for rule in (make_recurrence("weekly", weekdays=[0, 4], until=date(2025, 6, 30)),
                 make_recurrence("daily", interval=3, count=7),
                 make_recurrence("monthly", count=12)):
        assert parse_rrule(rule.rrule_text(HCM), HCM) == rule


def test_splitting_a_series() -> None:
    rule = make_recurrence("weekly", weekdays=[0], count=6)
    cut = MONDAY_8 + timedelta(weeks=2)
    head = truncate_before(rule, MONDAY_8, cut, HCM)
    assert head is not None and head.count == 2
    tail = remaining_after(rule, MONDAY_8, cut, HCM)
    assert tail.count == 4
    assert truncate_before(rule, MONDAY_8, MONDAY_8, HCM) is None
    assert shift_weekdays(rule, 1).weekdays == (1,)
    dated = make_recurrence("weekly", until=date(2025, 4, 30))
    cut_head = truncate_before(dated, MONDAY_8, cut, HCM)
    assert cut_head is not None and cut_head.until == date(2025, 3, 17)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"frequency": "yearly", "count": 2},
     "Unknown repeat frequency 'yearly'; choose one of: daily, weekly, monthly."),
    ({"frequency": "daily"},
     "A repeating meeting needs either a number of occurrences or an end date."),
    ({"frequency": "daily", "count": 2, "until": date(2025, 4, 1)},
     "A repeating meeting needs either a number of occurrences or an end date."),
    ({"frequency": "daily", "count": 0}, "The number of occurrences must be between 1 and 366."),
    ({"frequency": "daily", "count": MAX_OCCURRENCES + 1},
     "The number of occurrences must be between 1 and 366."),
    ({"frequency": "daily", "weekdays": [1], "count": 2},
     "Weekdays can only be chosen for a weekly series."),
    ({"frequency": "weekly", "weekdays": [7], "count": 2},
     "Weekdays are numbers from 0 (Monday) to 6 (Sunday)."),
    ({"frequency": "weekly", "weekdays": [True], "count": 2},
     "Weekdays are numbers from 0 (Monday) to 6 (Sunday)."),
    ({"frequency": "weekly", "weekdays": [2.0], "count": 2},
     "Weekdays are numbers from 0 (Monday) to 6 (Sunday)."),
    ({"frequency": "weekly", "interval": 0, "count": 2},
     "The repeat interval must be between 1 and 12."),
    ({"frequency": "monthly", "interval": 13, "count": 2},
     "The repeat interval must be between 1 and 12."),
    ({"frequency": "weekly", "interval": True, "count": 2},
     "The repeat interval must be a whole number."),
    ({"frequency": "weekly", "interval": 1.5, "count": 2},
     "The repeat interval must be a whole number."),
    ({"frequency": "weekly", "interval": "2", "count": 2},
     "The repeat interval must be a whole number."),
])
def test_bad_rules_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(BadRequest) as refused:
        make_recurrence(**kwargs)  # type: ignore[arg-type]
    assert refused.value.detail == message


def refusal(rule: Recurrence, first_start: datetime = MONDAY_8,
            exdates: Iterable[datetime] = ()) -> str:
    with pytest.raises(BadRequest) as refused:
        expand(rule, first_start, HCM, exdates)
    return refused.value.detail


def test_too_long_or_empty_series_are_refused() -> None:
    too_long = "The series would have more than 366 meetings; choose an earlier end date."
    assert refusal(make_recurrence("daily", until=date(2027, 1, 1))) == too_long
    before = "The end date of the series is before its first meeting."
    assert refusal(make_recurrence("daily", until=date(2025, 3, 1))) == before
    empty = "The repeat rule gives no meeting at all; check the weekdays and dates."
    # Fridays only, ending on the Wednesday after a Monday start: not one Friday in between.
    assert refusal(make_recurrence("weekly", weekdays=[4], until=date(2025, 3, 12))) == empty
    # Every occurrence cancelled.
    weekly = make_recurrence("weekly", count=2)
    assert refusal(weekly, exdates=[MONDAY_8, MONDAY_8 + timedelta(weeks=1)]) == empty
    with pytest.raises(ValueError) as naive:
        expand(weekly, datetime(2025, 3, 10, 8, 0), HCM)
    assert str(naive.value) == "first_start must be timezone-aware"


def test_the_limits_themselves_are_allowed() -> None:
    assert expand(make_recurrence("daily", count=1), MONDAY_8, HCM) == [MONDAY_8]
    year = expand(make_recurrence("daily", count=MAX_OCCURRENCES), MONDAY_8, HCM)
    assert len(year) == MAX_OCCURRENCES and year[-1] == datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    # An end date includes its own day: 10 March 2025 to 10 March 2026 is 366 meetings, one
    # more day is too many.
    assert expand(make_recurrence("daily", until=date(2026, 3, 10)), MONDAY_8, HCM) == year
    assert refusal(make_recurrence("daily", until=date(2026, 3, 11))).startswith(
        "The series would have more than 366 meetings")
    # The end date may be the day of the first meeting: a series of one.
    assert expand(make_recurrence("weekly", until=date(2025, 3, 10)), MONDAY_8, HCM) == [MONDAY_8]
    # Every 12 months is the longest interval; Sunday (6) is a weekday like the others.
    yearly = expand(make_recurrence("monthly", interval=12, count=2), MONDAY_8, HCM)
    assert yearly == [MONDAY_8, datetime(2026, 3, 10, 1, 0, tzinfo=UTC)]
    sundays = expand(make_recurrence("weekly", weekdays=[6], count=2), MONDAY_8, HCM)
    assert [s.astimezone(HCM).strftime("%a %d %H:%M") for s in sundays] == [
        "Sun 16 08:00", "Sun 23 08:00"]


def test_an_early_morning_series_keeps_its_local_days_across_a_month_end() -> None:
    # 06:30 in Hà Nội is 23:30 UTC the day before; Asia/Ho_Chi_Minh has no daylight saving.
    first = datetime(2025, 3, 28, 23, 30, tzinfo=UTC)
    starts = expand(make_recurrence("daily", until=date(2025, 4, 2)), first, HCM)
    assert [s.astimezone(HCM).strftime("%m-%d %H:%M") for s in starts] == [
        "03-29 06:30", "03-30 06:30", "03-31 06:30", "04-01 06:30", "04-02 06:30"]
    assert all(s - p == timedelta(days=1) for p, s in zip(starts, starts[1:], strict=False))
    # A monthly series on the 31st skips the months without one (RFC 5545).
    jan_31 = datetime(2025, 1, 30, 23, 30, tzinfo=UTC)
    monthly = expand(make_recurrence("monthly", count=3), jan_31, HCM)
    assert [s.astimezone(HCM).date() for s in monthly] == [
        date(2025, 1, 31), date(2025, 3, 31), date(2025, 5, 31)]


@pytest.fixture(params=["<-12>12", "<+14>-14"], ids=["server-utc-12", "server-utc+14"])
def server_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """The server's own clock set to a zone far from UTC and from the configured one."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_the_servers_own_zone_never_leaks_into_a_series(server_zone: str) -> None:
    rule = make_recurrence("daily", interval=2, until=date(2025, 3, 16))
    assert rule.rrule_text(HCM) == "FREQ=DAILY;INTERVAL=2;UNTIL=20250316T165959Z"
    starts = expand(rule, MONDAY_8, HCM)
    assert starts == [MONDAY_8 + timedelta(days=d) for d in (0, 2, 4, 6)]
    assert all(s.tzinfo == UTC and s.hour == 1 for s in starts)
    # The end date read back is the configured zone's, east and west of UTC alike.
    for tz in (HCM, ZoneInfo("Pacific/Auckland"), ZoneInfo("America/New_York")):
        dated = make_recurrence("weekly", weekdays=[1, 3], until=date(2025, 6, 30))
        assert parse_rrule(dated.rrule_text(tz), tz) == dated
    # 06:30 in Hà Nội ends on its end date, not the morning after.
    early = datetime(2025, 3, 9, 23, 30, tzinfo=UTC)
    last = expand(make_recurrence("daily", until=date(2025, 3, 12)), early, HCM)[-1]
    assert last.astimezone(HCM).date() == date(2025, 3, 12)
    # "Before the first meeting" is judged on the configured zone's calendar.
    assert refusal(make_recurrence("daily", until=date(2025, 3, 9))) == (
        "The end date of the series is before its first meeting.")
    late = datetime(2025, 3, 10, 16, 0, tzinfo=UTC)  # Monday 23:00 in Hà Nội
    assert expand(make_recurrence("daily", until=date(2025, 3, 10)), late, HCM) == [late]


def test_splitting_a_series_keeps_its_local_weekdays(server_zone: str) -> None:
    rule = make_recurrence("weekly", weekdays=[0, 3], until=date(2025, 4, 30))
    cut = MONDAY_8 + timedelta(weeks=2)  # Monday 24 March
    head = truncate_before(rule, MONDAY_8, cut, HCM)
    assert head == replace(rule, until=date(2025, 3, 20))  # the Thursday before the cut


def test_unsupported_rule_texts_are_refused() -> None:
    for text in ("FREQ=YEARLY;COUNT=2", "COUNT=2", ""):
        with pytest.raises(BadRequest) as refused:
            parse_rrule(text, HCM)
        assert refused.value.detail == f"Unsupported repeat rule {text!r}."


def test_splitting_keeps_the_last_occurrence_before_the_cut_and_counts_what_is_left() -> None:
    dated = make_recurrence("weekly", until=date(2025, 4, 30))
    head = truncate_before(dated, MONDAY_8, MONDAY_8 + timedelta(weeks=3), HCM)
    assert head is not None and head.until == date(2025, 3, 24)
    counted = make_recurrence("weekly", count=4)
    last = MONDAY_8 + timedelta(weeks=3)
    assert remaining_after(counted, MONDAY_8, last, HCM).count == 1
    assert remaining_after(dated, MONDAY_8, last, HCM) == dated


@pytest.mark.parametrize(("weekdays", "days", "moved"), [
    ((6,), 1, (0,)),        # Sunday to Monday
    ((0,), -1, (6,)),       # Monday to Sunday
    ((0, 4), 8, (1, 5)),    # a week and a day later
    ((0, 4), 7, (0, 4)),    # a whole week: the same weekdays
    ((0, 4), -14, (0, 4)),
    ((4, 6), 2, (1, 6)),    # Friday and Sunday to Sunday and Tuesday, in weekday order
])
def test_moving_a_series_moves_its_weekdays(
    weekdays: tuple[int, ...], days: int, moved: tuple[int, ...],
) -> None:
    rule = make_recurrence("weekly", weekdays=weekdays, count=4)
    assert shift_weekdays(rule, days) == replace(rule, weekdays=moved)


def test_moving_a_series_without_chosen_weekdays_changes_nothing() -> None:
    rule = make_recurrence("weekly", count=4)
    assert shift_weekdays(rule, 3) == rule


# ---------------------------------------------------------------- time zones


def test_a_utc_client_lands_at_the_right_local_time() -> None:
    # A browser in UTC sends 01:00Z: that is 08:00 in Hà Nội.
    for text in ("2025-03-10T01:00:00Z", "2025-03-10T01:00:00.000Z", "2025-03-10T03:00+02:00"):
        moment = parse_when(text, HCM)
        assert moment == MONDAY_8
        assert moment.astimezone(HCM).strftime("%H:%M") == "08:00"
    assert parse_when("2025-03-10T08:00", HCM) == MONDAY_8
