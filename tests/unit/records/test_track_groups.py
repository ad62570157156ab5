"""A meeting record lists track recordings per person and source, by display name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from signaling.ids import MeetingId
from signaling.records.recordings import Recording
from web.pages.records import track_groups

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def track(user: str, source: str, minute: int, index: int) -> Recording:
    return Recording(
        id=f"r{index}", meeting_id=MeetingId("m"), kind="track", track=f"p{index}",
        media="video", username=user, source=source, path=Path(f"/tmp/r{index}"),
        status="complete", bytes=1, started_at=T0 + timedelta(minutes=minute), ended_at=None)


def test_a_person_who_rejoined_has_one_line_per_source_with_parts() -> None:
    tracks = [track("hung", "camera", 0, 1), track("an", "camera", 1, 2),
              track("hung", "microphone", 0, 3), track("hung", "camera", 20, 4),
              track("hung", "camera", 40, 5)]
    groups = track_groups(tracks, {"hung": "Trần Văn Hùng", "an": "Nguyễn Văn An"})
    assert [(name, source, [r.id for r in parts]) for name, source, parts in groups] == [
        ("Trần Văn Hùng", "camera", ["r1", "r4", "r5"]),
        ("Trần Văn Hùng", "microphone", ["r3"]),
        ("Nguyễn Văn An", "camera", ["r2"])]
