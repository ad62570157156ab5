"""Recurrence rules, expansion with exceptions, overlap and time zones: pure rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rooms.overlap import first_clash, split_free
from signaling.errors import BadRequest
from signaling.schedule.meetings import parse_when
from signaling.schedule.recurrence import (
    MAX_OCCURRENCES,
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
    ({"frequency": "yearly", "count": 2}, "Unknown repeat frequency"),
    ({"frequency": "daily"}, "either a number of occurrences or an end date"),
    ({"frequency": "daily", "count": 2, "until": date(2025, 4, 1)}, "either"),
    ({"frequency": "daily", "count": 0}, "between 1 and"),
    ({"frequency": "daily", "count": MAX_OCCURRENCES + 1}, "between 1 and"),
    ({"frequency": "daily", "weekdays": [1], "count": 2}, "only be chosen for a weekly"),
    ({"frequency": "weekly", "weekdays": [7], "count": 2}, "0 \\(Monday\\) to 6"),
    ({"frequency": "weekly", "interval": 0, "count": 2}, "interval must be between"),
])
def test_bad_rules_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        make_recurrence(**kwargs)  # type: ignore[arg-type]


def test_too_long_or_empty_series_are_refused() -> None:
    with pytest.raises(BadRequest, match="more than 366"):
        expand(make_recurrence("daily", until=date(2027, 1, 1)), MONDAY_8, HCM)
    with pytest.raises(BadRequest, match="before its first meeting"):
        expand(make_recurrence("daily", until=date(2025, 3, 1)), MONDAY_8, HCM)


# ---------------------------------------------------------------- time zones


def test_a_utc_client_lands_at_the_right_local_time() -> None:
    # A browser in UTC sends 01:00Z: that is 08:00 in Hà Nội.
    for text in ("2025-03-10T01:00:00Z", "2025-03-10T01:00:00.000Z", "2025-03-10T03:00+02:00"):
        moment = parse_when(text, HCM)
        assert moment == MONDAY_8
        assert moment.astimezone(HCM).strftime("%H:%M") == "08:00"
    assert parse_when("2025-03-10T08:00", HCM) == MONDAY_8
