"""The scheduling pages render in both languages with every string, no inline style or script."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rooms.bookings import Booking, Clash
from signaling.config import Config
from signaling.ids import BookingId, MeetingId, Username
from signaling.records.policy import RECORDING_POLICIES
from signaling.schedule.meetings import Meeting
from signaling.schedule.service import BusyWarning, Outcome, Preview
from tests.unit.web.test_i18n import ACCOUNT, NOW, _context, _environment
from web import i18n
from web.pages.schedule import TodayRow

MEETING = Meeting(MeetingId("abc123"), "Giao ban", Username("an"), NOW,
                  NOW + dt.timedelta(hours=1), (), "scheduled", NOW, agenda="1. <b>",
                  room_id="room-1")
BOOKING = Booking(BookingId(7), "room-1", "Tiếp đoàn", NOW, NOW + dt.timedelta(hours=1),
                  None, Username("lan"), None, "active", NOW)


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_scheduling_pages_render(lang: str) -> None:
    env = _environment()
    missing: list[str] = []
    form: dict[str, Any] = {
        "values": {"title": "x", "repeat": "weekly"}, "leaders": [ACCOUNT],
        "policies": RECORDING_POLICIES, "default_policy": "automatic", "rooms": Config().rooms,
        "preview": Preview((NOW, NOW), (BusyWarning(Username("an"), True, NOW, MEETING),),
                           (Clash(NOW, NOW, BOOKING),)),
        "outcome": None, "error": "bad", "weekdays_checked": ["0"], "past": True,
        "chairs": [ACCOUNT], "chips": [{"username": "an", "display_name": "An"}],
        "room_names": {"room-1": "Phòng họp 1"}, "base_url": "",
    }
    state = {"current": {"start": "09:00", "end": "10:00", "date": "14/03/2025",
                         "title": "Giao ban"}, "next": None, "poll_ms": 5000}
    pages: dict[str, dict[str, Any]] = {
        "today.html": {"rows": [TodayRow(MEETING, "Phòng họp 1", 1000, False, False)],
                       "today_date": NOW, "window_minutes": 15},
        "schedule_form.html": form,
        "schedule_done.html": {**form, "outcome": Outcome((MEETING,), (),
                                                          (Clash(NOW, NOW, BOOKING),))},
        "calendar.html": {"rooms": Config().rooms, "days": [("2025-03-10", "Thứ Hai", "10/03")] * 7,
                          "prev_week": "2025-03-03", "next_week": "2025-03-17",
                          "calendar_strings": i18n.strings_with_prefix(lang, "calendar.js.")},
        "kiosk.html": {"room": Config().rooms[0], "state": state, "auto_join": True,
                       "kiosk_strings": i18n.strings_with_prefix(lang, "kiosk.js.")},
        "calendar_feed.html": {"feed_url": "/feeds/x.ics", "has_feed": True},
        "meeting_edit.html": {**form, "meeting": MEETING, "series": [MEETING], "notice": "",
                              "new_link_url": "", "guest_links": []},
        "groups.html": {"groups": [], "error": "bad", "done": "ok", "values": {}},
    }
    for name, extra in pages.items():
        html = env.get_template(name).render(**_context(lang, missing), **extra)
        assert " style=" not in html, name
        assert "<script>" not in html, name
        assert "http://" not in html and "https://" not in html, name
        assert "<b>" not in html, name
    assert missing == []
