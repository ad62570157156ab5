"""Recurrence rules of meeting series: daily, weekly on chosen weekdays, or monthly.

A rule ends after a count or on an end date. Expansion is done by dateutil's rrule in
the configured zone's wall-clock time (a 08:00 meeting stays at 08:00 local), then
converted to UTC. The rule's text form is RFC 5545 RRULE, as written in .ics files.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from dateutil import rrule

from signaling.errors import BadRequest

Frequency = Literal["daily", "weekly", "monthly"]
FREQUENCIES: tuple[Frequency, ...] = get_args(Frequency)
MAX_OCCURRENCES = 366
"""A series holds at most this many occurrences (a year of daily meetings)."""
MAX_INTERVAL = 12
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_FREQ: dict[str, Literal[1, 2, 3]] = {
    "daily": rrule.DAILY, "weekly": rrule.WEEKLY, "monthly": rrule.MONTHLY,
}
_FREQ_NAMES = {"daily": "DAILY", "weekly": "WEEKLY", "monthly": "MONTHLY"}


@dataclass(frozen=True, slots=True)
class Recurrence:
    frequency: Frequency
    interval: int = 1
    """Every `interval` days, weeks or months."""
    weekdays: tuple[int, ...] = ()
    """Weekly only: 0 = Monday ... 6 = Sunday; empty means the first start's weekday."""
    count: int | None = None
    """How many occurrences; exactly one of count and until is set."""
    until: date | None = None
    """The last local date an occurrence may fall on."""

    def rrule_text(self, tz: ZoneInfo) -> str:
        """The RFC 5545 RRULE value; UNTIL is in UTC, as required beside a TZID start."""
        parts = [f"FREQ={_FREQ_NAMES[self.frequency]}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.weekdays:
            parts.append("BYDAY=" + ",".join(WEEKDAY_CODES[d] for d in self.weekdays))
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        if self.until is not None:
            parts.append(f"UNTIL={until_utc(self.until, tz):%Y%m%dT%H%M%SZ}")
        return ";".join(parts)


def until_utc(day: date, tz: ZoneInfo) -> datetime:
    """The last second of a local date, in UTC."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=tz).astimezone(UTC)


def make_recurrence(
    frequency: str, interval: int = 1, weekdays: Iterable[int] = (),
    count: int | None = None, until: date | None = None,
) -> Recurrence:
    """A checked rule; BadRequest names what is wrong."""
    if frequency not in FREQUENCIES:
        raise BadRequest(
            f"Unknown repeat frequency {frequency!r}; choose one of: {', '.join(FREQUENCIES)}."
        )
    if isinstance(interval, bool) or not isinstance(interval, int):
        raise BadRequest("The repeat interval must be a whole number.")
    if not 1 <= interval <= MAX_INTERVAL:
        raise BadRequest(f"The repeat interval must be between 1 and {MAX_INTERVAL}.")
    days = tuple(sorted(set(weekdays)))
    if any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
        raise BadRequest("Weekdays are numbers from 0 (Monday) to 6 (Sunday).")
    if days and frequency != "weekly":
        raise BadRequest("Weekdays can only be chosen for a weekly series.")
    if (count is None) == (until is None):
        raise BadRequest("A repeating meeting needs either a number of occurrences or an end date.")
    if count is not None and not 1 <= count <= MAX_OCCURRENCES:
        raise BadRequest(f"The number of occurrences must be between 1 and {MAX_OCCURRENCES}.")
    return Recurrence(frequency, interval, days, count, until)


def parse_rrule(text: str, tz: ZoneInfo) -> Recurrence:
    """Read back a rule written by Recurrence.rrule_text."""
    fields: dict[str, str] = {}
    for part in text.split(";"):
        key, _, value = part.partition("=")
        fields[key.strip().upper()] = value.strip()
    names = {v: k for k, v in _FREQ_NAMES.items()}
    frequency = names.get(fields.get("FREQ", ""))
    if frequency is None:
        raise BadRequest(f"Unsupported repeat rule {text!r}.")
    weekdays = [WEEKDAY_CODES.index(code) for code in fields["BYDAY"].split(",")] \
        if fields.get("BYDAY") else []
    until = None
    if "UNTIL" in fields:
        until = datetime.strptime(fields["UNTIL"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    count = int(fields["COUNT"]) if "COUNT" in fields else None
    rule = Recurrence(frequency, int(fields.get("INTERVAL", "1")),  # type: ignore[arg-type]
                      tuple(weekdays), count, None)
    return rule if until is None else replace(rule, until=until.astimezone(tz).date())


def _rule(rule: Recurrence, first_start: datetime, tz: ZoneInfo) -> rrule.rrule:
    local = first_start.astimezone(tz)
    byweekday = [rrule.weekdays[d] for d in rule.weekdays] if rule.weekdays else None
    until = until_utc(rule.until, tz).astimezone(tz) if rule.until is not None else None
    return rrule.rrule(
        _FREQ[rule.frequency], dtstart=local, interval=rule.interval, byweekday=byweekday,
        count=rule.count, until=until, cache=False,
    )


def expand(
    rule: Recurrence, first_start: datetime, tz: ZoneInfo,
    exdates: Iterable[datetime] = (),
) -> list[datetime]:
    """The UTC starts of the series' occurrences, without the excluded ones.

    BadRequest when the rule yields nothing or more than MAX_OCCURRENCES.
    """
    if first_start.tzinfo is None:
        raise ValueError("first_start must be timezone-aware")
    if rule.until is not None and rule.until < first_start.astimezone(tz).date():
        raise BadRequest("The end date of the series is before its first meeting.")
    rules = rrule.rruleset(cache=False)
    rules.rrule(_rule(rule, first_start, tz))
    for moment in exdates:
        rules.exdate(moment.astimezone(tz))
    starts: list[datetime] = []
    for moment in rules:
        starts.append(moment.astimezone(UTC))
        if len(starts) > MAX_OCCURRENCES:
            raise BadRequest(
                f"The series would have more than {MAX_OCCURRENCES} meetings; "
                "choose an earlier end date."
            )
    if not starts:
        raise BadRequest("The repeat rule gives no meeting at all; check the weekdays and dates.")
    return starts


def shift_weekdays(rule: Recurrence, days: int) -> Recurrence:
    """The rule for a series moved by `days` days (weekly weekdays move with it)."""
    if not rule.weekdays or days % 7 == 0:
        return rule
    return replace(rule, weekdays=tuple(sorted((d + days) % 7 for d in rule.weekdays)))


def truncate_before(rule: Recurrence, first_start: datetime, cut: datetime,
                    tz: ZoneInfo) -> Recurrence | None:
    """The rule ending before `cut` (a UTC occurrence start), or None when nothing is left."""
    kept = [s for s in expand(replace(rule), first_start, tz) if s < cut]
    if not kept:
        return None
    if rule.count is not None:
        return replace(rule, count=len(kept))
    return replace(rule, until=kept[-1].astimezone(tz).date())


def remaining_after(rule: Recurrence, first_start: datetime, cut: datetime,
                    tz: ZoneInfo) -> Recurrence:
    """The rule of the occurrences from `cut` on (same end date, or the count left)."""
    if rule.count is None:
        return rule
    left = len([s for s in expand(rule, first_start, tz) if s >= cut])
    return replace(rule, count=max(1, left))

