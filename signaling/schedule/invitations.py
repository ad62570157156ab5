"""Invitations as iCalendar (RFC 5545), written with the icalendar library.

- One meeting's .ics: METHOD:REQUEST, times with the configured TZID and a VTIMEZONE.
  An occurrence of a series brings its whole series: one VEVENT with the RRULE,
  EXDATE for cancelled occurrences, and one VEVENT with RECURRENCE-ID for each
  occurrence that was moved or changed.
- A person's private feed: the same events for all their meetings, METHOD:PUBLISH,
  for Outlook or Thunderbird to subscribe to.

Accounts have no e-mail address; organizer and attendees are written as
urn:giaoban:<username> with their display name as CN.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import icalendar

from signaling.schedule.meetings import Meeting

PRODID = "-//Giao Ban//Lich hop//VI"
UID_DOMAIN = "giaoban"


@dataclass(frozen=True, slots=True)
class SeriesRule:
    rrule: str
    """RRULE value, e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10."""
    first_start: datetime
    """UTC start of the series' first occurrence."""


@dataclass(frozen=True, slots=True)
class CalendarContext:
    tz: ZoneInfo
    base_url: str
    """Server address the join links start with, e.g. https://giaoban.bo.gov.vn."""
    name_of: Callable[[str], str]
    """Display name of a username."""
    room_label: Callable[[str], str]
    """Name and location of a room id."""
    now: datetime


def _address(username: str, name: str, role: str | None = None) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"urn:{UID_DOMAIN}:{username}")
    address.params["CN"] = name
    if role is not None:
        address.params["ROLE"] = role
        address.params["PARTSTAT"] = "NEEDS-ACTION"
        address.params["RSVP"] = "FALSE"
    return address


def _event(meeting: Meeting, ctx: CalendarContext, uid: str) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", ctx.now)
    event.add("dtstart", meeting.start.astimezone(ctx.tz))
    event.add("dtend", meeting.end.astimezone(ctx.tz))
    event.add("summary", meeting.title)
    url = ctx.base_url.rstrip("/") + meeting.join_url
    description = f"{meeting.agenda}\n\n{url}" if meeting.agenda else url
    event.add("description", description)
    event.add("url", url)
    if meeting.room_id:
        event.add("location", ctx.room_label(meeting.room_id))
    chair = meeting.chair
    event.add("organizer", _address(chair, ctx.name_of(chair)))
    for name in (*([meeting.organizer] if meeting.on_behalf_of else []), *meeting.invitees):
        event.add("attendee", _address(name, ctx.name_of(name), "REQ-PARTICIPANT"))
    event.add("status", "CANCELLED" if meeting.state == "cancelled" else "CONFIRMED")
    event.add("sequence", meeting.revision)
    return event


def _series_events(occurrences: Sequence[Meeting], rule: SeriesRule,
                   ctx: CalendarContext) -> list[icalendar.Event]:
    """The master event with RRULE and EXDATEs, then one event per changed occurrence."""
    ordered = sorted(occurrences, key=lambda m: m.occurrence_start or m.start)
    uid = f"{ordered[0].series_id}@{UID_DOMAIN}"
    pattern = next((m for m in ordered if m.state != "cancelled"
                    and m.start == m.occurrence_start), ordered[0])
    master = _event(pattern, ctx, uid)
    length = pattern.end - pattern.start
    master["dtstart"] = icalendar.vDDDTypes(rule.first_start.astimezone(ctx.tz))
    master["dtend"] = icalendar.vDDDTypes((rule.first_start + length).astimezone(ctx.tz))
    master["status"] = icalendar.vText("CONFIRMED")
    # Any change to the series (an occurrence moved or cancelled) is a new version of it.
    master["sequence"] = max(m.revision for m in ordered)
    master.add("rrule", icalendar.vRecur.from_ical(rule.rrule))
    cancelled = [m.occurrence_start.astimezone(ctx.tz) for m in ordered
                 if m.state == "cancelled" and m.occurrence_start is not None]
    if cancelled:
        master.add("exdate", cancelled)
    events = [master]
    for meeting in ordered:
        if meeting.state == "cancelled" or meeting.occurrence_start is None:
            continue
        if _same_as_pattern(meeting, pattern):
            continue
        override = _event(meeting, ctx, uid)
        override.add("recurrence-id", meeting.occurrence_start.astimezone(ctx.tz))
        events.append(override)
    return events


def _same_as_pattern(meeting: Meeting, pattern: Meeting) -> bool:
    return (meeting.start == meeting.occurrence_start
            and meeting.end - meeting.start == pattern.end - pattern.start
            and (meeting.title, meeting.agenda, meeting.invitees, meeting.room_id)
            == (pattern.title, pattern.agenda, pattern.invitees, pattern.room_id))


def build_calendar(meetings: Iterable[Meeting], rules: dict[str, SeriesRule],
                   ctx: CalendarContext, method: str, name: str | None = None) -> bytes:
    """A VCALENDAR holding `meetings`; occurrences of a series are grouped under its rule."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
        calendar.add("x-wr-timezone", str(ctx.tz.key))
    by_series: dict[str, list[Meeting]] = {}
    for meeting in meetings:
        if meeting.series_id is not None and meeting.series_id in rules:
            by_series.setdefault(meeting.series_id, []).append(meeting)
        else:
            calendar.add_component(_event(meeting, ctx, f"{meeting.id}@{UID_DOMAIN}"))
    for series_id, occurrences in by_series.items():
        for event in _series_events(occurrences, rules[series_id], ctx):
            calendar.add_component(event)
    calendar.add_missing_timezones()
    text: bytes = calendar.to_ical()
    return text


def meeting_invitation(meeting: Meeting, series: Sequence[Meeting], rule: SeriesRule | None,
                       ctx: CalendarContext) -> bytes:
    """The .ics of one meeting (with its whole series when it has one)."""
    if meeting.series_id is not None and rule is not None:
        return build_calendar(series, {meeting.series_id: rule}, ctx, "REQUEST")
    method = "CANCEL" if meeting.state == "cancelled" else "REQUEST"
    return build_calendar([meeting], {}, ctx, method)
