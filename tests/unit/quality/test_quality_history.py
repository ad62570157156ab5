"""Quality history in SQLite: recording, merging after the meeting, retention, report, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rooms.calendar import meeting_rooms
from signaling.accounts.accounts import AccountService
from signaling.config import Config
from signaling.quality.history import QualityHistory, SampleRow, merge_rows
from signaling.quality.meeting_report import build_report, to_csv
from signaling.schedule.meetings import MeetingService
from signaling.store import Store

T0 = datetime(2025, 3, 14, 2, 0, 0, tzinfo=UTC)  # 09:00 in Hà Nội
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def meeting_id(store: Store) -> str:
    accounts = AccountService(store, 150)
    accounts.create("an", "An", "leader", "password-123")
    accounts.create("binh", "Bình", "official", "password-123")
    meetings = MeetingService(store, TZ, meeting_rooms(store, Config().rooms, TZ))
    return str(meetings.create("Giao ban", "an", invitees=["binh"]).id)


def row(meeting_id: str, seconds_in: float, loss: float, state: str = "good",
        user: str = "an", stream: str = "up:microphone", mos: float | None = 4.3) -> SampleRow:
    return SampleRow(meeting_id=meeting_id, participant_id=f"pa-{user}", username=user,
                     stream=stream, kind="audio" if "microphone" in stream or "audio" in stream
                     else "video", at=T0 + timedelta(seconds=seconds_in), seconds=3.0,
                     state=state, bitrate_kbps=40.0 + seconds_in, loss_percent=loss,
                     jitter_ms=5.0, rtt_ms=20.0, mos=mos, fps=None)


def test_merge_keeps_the_worst_of_each_bucket() -> None:
    rows = [row("m", 0, 1.0), row("m", 3, 12.0, "poor", mos=2.1), row("m", 6, 0.0),
            row("m", 30, 0.0), row("m", 33, 0.5)]
    merged = merge_rows(rows, 30)
    assert len(merged) == 2
    first, second = merged
    assert first.at == T0 and first.seconds == 9.0
    assert first.state == "poor" and first.loss_percent == 12.0 and first.mos == 2.1
    assert first.bitrate_kbps == pytest.approx(43.0)  # the mean of 40, 43, 46
    assert second.state == "good" and second.loss_percent == 0.5
    assert second.at == T0 + timedelta(seconds=30)


def test_record_merge_and_retention(store: Store, meeting_id: str) -> None:
    history = QualityHistory(store, bucket_seconds=30, retention_days=30)
    history.record([row(meeting_id, s, 0.0) for s in range(0, 60, 3)]
                   + [row(meeting_id, 6, 20.0, "poor", user="binh", stream="down:audio")])
    assert len(history.samples(meeting_id)) == 21
    assert history.merge_ended(live=[meeting_id]) == 0  # still live: untouched
    assert history.merge_ended(live=[]) == 21
    merged = history.samples(meeting_id)
    assert [(r.username, r.stream, r.seconds) for r in merged] == [
        ("an", "up:microphone", 30.0), ("binh", "down:audio", 3.0),
        ("an", "up:microphone", 30.0)]
    assert history.merge(meeting_id) == 0  # nothing left to merge
    listed = history.meetings()
    assert [(m.meeting_id, m.poor_seconds) for m in listed] == [(meeting_id, 3.0)]

    alert = history.alert_raised(meeting_id, "pa-binh", "binh", "down:audio", ["loss"],
                                 T0, T0 + timedelta(seconds=30))
    history.alert_cleared(alert, T0 + timedelta(seconds=60))
    (stored,) = history.alerts(meeting_id)
    assert stored.reasons == ("loss",) and stored.cleared_at == T0 + timedelta(seconds=60)

    assert history.prune(now=T0 + timedelta(days=29)) == 0
    assert history.prune(now=T0 + timedelta(days=31)) == 4
    assert history.samples(meeting_id) == [] and history.alerts(meeting_id) == []


def test_the_database_refuses_an_unknown_stream_or_state(store: Store, meeting_id: str) -> None:
    history = QualityHistory(store, 30, 30)
    with pytest.raises(Exception, match="CHECK"):
        history.record([row(meeting_id, 0, 0.0, stream="sideways")])
    with pytest.raises(Exception, match="CHECK"):
        history.record([row(meeting_id, 0, 0.0, state="splendid")])
    assert history.samples(meeting_id) == []


def test_samples_go_when_their_meeting_is_deleted(store: Store, meeting_id: str) -> None:
    history = QualityHistory(store, 30, 30)
    history.record([row(meeting_id, 0, 0.0)])
    with store.transaction() as db:
        db.execute("DELETE FROM meetings WHERE id = ?", (meeting_id,))
    assert history.samples(meeting_id) == []


def test_report_orders_people_and_finds_the_worst_moments() -> None:
    rows = [row("m", s, 0.0) for s in range(0, 30, 3)]
    rows += [row("m", 3, 4.0, "warning", user="binh"), row("m", 6, 25.0, "poor", user="binh"),
             row("m", 9, 15.0, "poor", user="binh", mos=2.0), row("m", 12, 0.0, user="binh")]
    report = build_report("m", rows, [])
    assert [p.username for p in report.participants] == ["binh", "an"]
    binh, an = report.participants
    assert binh.state == "poor" and an.state == "good"
    assert [(r.state, r.loss_percent) for r in binh.worst] == [
        ("poor", 25.0), ("poor", 15.0), ("warning", 4.0)]
    assert binh.seconds == {"good": 3.0, "warning": 3.0, "poor": 6.0}
    assert an.worst == []
    charts = report.chart_data()
    assert charts["binh"]["up:microphone"]["loss"] == [4.0, 25.0, 15.0, 0.0]
    assert charts["binh"]["up:microphone"]["state"] == [1, 2, 2, 0]


def test_csv_has_one_line_per_row_with_local_times() -> None:
    text = to_csv([row("m", 3, 12.345, "poor"), row("m", 0, 0.0)], TZ)
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:3] == ["time", "participant", "participant_id"]
    assert len(lines) == 3
    assert lines[1][0] == "2025-03-14T09:00:00+07:00"
    assert lines[2][0] == "2025-03-14T09:00:03+07:00"
    assert lines[2][6:9] == ["poor", "43.0", "12.3"]
