"""Reading scheduling requests and writing their JSON, shared by the API, pages and CLI."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from rooms.bookings import Booking
from signaling.errors import BadRequest
from signaling.schedule.meetings import Meeting, parse_when
from signaling.schedule.recurrence import Recurrence, make_recurrence
from signaling.schedule.rooms import RoomClash
from signaling.schedule.service import BusyWarning, MeetingChanges, MeetingDraft, Outcome

MAX_BODY = 64 * 1024


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; BadRequest for anything else."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise BadRequest("The request body is too large.")
    text = await request.text()
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc.msg}.") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    return data


def text_field(data: Mapping[str, Any], key: str, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise BadRequest(f"'{key}' is required.")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"'{key}' must be a string.")
    return value


def time_field(data: Mapping[str, Any], key: str, tz: ZoneInfo,
               required: bool = False) -> datetime | None:
    """An ISO 8601 time; with Z or an offset it is that instant, without one a local time."""
    text = text_field(data, key, required)
    if text is None:
        return None
    try:
        return parse_when(text, tz)
    except BadRequest as exc:
        raise BadRequest(f"'{key}': {exc.detail}") from None


def names_field(data: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        value = [part for part in value.replace(";", ",").replace("\n", ",").split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"'{key}' must be a list of usernames.")
    return tuple(v.strip().lower() for v in value if v.strip())


def int_field(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"'{key}' must be a whole number.")
    return value


def recurrence_field(data: Mapping[str, Any]) -> Recurrence | None:
    """{"frequency": "weekly", "weekdays": [0], "count": 10} or with "until": "2025-06-30"."""
    value = data.get("recurrence")
    if value is None or value == {}:
        return None
    if not isinstance(value, dict):
        raise BadRequest("'recurrence' must be an object.")
    frequency = text_field(value, "frequency", required=True) or ""
    until_text = text_field(value, "until")
    until = None
    if until_text is not None:
        try:
            until = date.fromisoformat(until_text[:10])
        except ValueError:
            raise BadRequest(f"'recurrence.until': {until_text!r} is not a date "
                             "(YYYY-MM-DD).") from None
    weekdays = value.get("weekdays") or []
    if not isinstance(weekdays, list):
        raise BadRequest("'recurrence.weekdays' must be a list of numbers 0 (Monday) to 6.")
    try:
        days = [int(d) for d in weekdays]
    except (TypeError, ValueError):
        raise BadRequest("'recurrence.weekdays' must be a list of numbers 0 (Monday) to 6.") \
            from None
    return make_recurrence(frequency, int_field(value, "interval") or 1, days,
                           int_field(value, "count"), until)


def draft_from(data: Mapping[str, Any], tz: ZoneInfo) -> MeetingDraft:
    start = time_field(data, "start", tz, required=True)
    end = time_field(data, "end", tz, required=True)
    assert start is not None and end is not None
    return MeetingDraft(
        title=text_field(data, "title", required=True) or "",
        start=start, end=end,
        agenda=text_field(data, "agenda") or "",
        invitees=names_field(data, "invitees") or (),
        on_behalf_of=text_field(data, "on_behalf_of"),
        chair=text_field(data, "chair"),
        recording_policy=text_field(data, "recording_policy"),
        room_id=text_field(data, "room_id"),
        recurrence=recurrence_field(data),
        cohosts=names_field(data, "cohosts") or (),
    )


def changes_from(data: Mapping[str, Any], tz: ZoneInfo) -> MeetingChanges:
    return MeetingChanges(
        title=text_field(data, "title"),
        agenda=data["agenda"] if isinstance(data.get("agenda"), str) else None,
        start=time_field(data, "start", tz),
        end=time_field(data, "end", tz),
        invitees=names_field(data, "invitees"),
        recording_policy=text_field(data, "recording_policy"),
        cohosts=names_field(data, "cohosts"),
        past_confirmed=data.get("confirm_past") is True,
    )


# ---------------------------------------------------------------- writing


def local_iso(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).isoformat()


def meeting_json(meeting: Meeting, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": meeting.id, "title": meeting.title, "agenda": meeting.agenda,
        "organizer": meeting.organizer, "on_behalf_of": meeting.on_behalf_of,
        "chair": meeting.chair,
        "start": local_iso(meeting.start, tz), "end": local_iso(meeting.end, tz),
        "invitees": list(meeting.invitees), "cohosts": list(meeting.cohosts),
        "state": meeting.state,
        "recording_policy": meeting.recording_policy, "room_id": meeting.room_id,
        "series_id": meeting.series_id,
        "occurrence_start": (local_iso(meeting.occurrence_start, tz)
                             if meeting.occurrence_start else None),
        "join_url": meeting.join_url, "ics_url": f"/meetings/{meeting.id}.ics",
    }


def warning_json(warning: BusyWarning, tz: ZoneInfo) -> dict[str, Any]:
    return {"username": warning.username, "is_leader": warning.is_leader,
            "start": local_iso(warning.start, tz),
            "meeting": {"id": warning.meeting.id, "title": warning.meeting.title,
                        "start": local_iso(warning.meeting.start, tz),
                        "end": local_iso(warning.meeting.end, tz)}}


def booking_json(booking: Booking, tz: ZoneInfo) -> dict[str, Any]:
    return booking.as_json(tz)


def clash_json(clash: RoomClash, tz: ZoneInfo) -> dict[str, Any]:
    return clash.as_json(tz)


def outcome_json(outcome: Outcome, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "meetings": [meeting_json(m, tz) for m in outcome.meetings],
        "warnings": [warning_json(w, tz) for w in outcome.warnings],
        "room_skipped": [clash_json(c, tz) for c in outcome.room_skipped],
    }
