"""The composed picture's layouts, the active-speaker rule and progress estimates."""

from __future__ import annotations

from signaling.records.compose_layout import (
    Rect,
    SpeakerTracker,
    close_gaps,
    fit,
    grid,
    progress,
    speaker,
)


def test_grid_tiles_cover_the_canvas_without_overlap() -> None:
    assert grid(0, 1280, 720) == []
    assert grid(1, 1280, 720) == [Rect(0, 0, 1280, 720)]
    assert grid(2, 1280, 720) == [Rect(0, 0, 640, 720), Rect(640, 0, 640, 720)]
    three = grid(3, 1280, 720)
    assert three[:2] == [Rect(0, 0, 640, 360), Rect(640, 0, 640, 360)]
    assert three[2] == Rect(320, 360, 640, 360)  # the short last row is centred
    for count in range(1, 17):
        rects = grid(count, 1280, 720)
        assert len(rects) == count
        for i, a in enumerate(rects):
            assert a.x >= 0 and a.y >= 0 and a.x + a.width <= 1280 and a.y + a.height <= 720
            for b in rects[i + 1:]:
                assert (a.x + a.width <= b.x or b.x + b.width <= a.x
                        or a.y + a.height <= b.y or b.y + b.height <= a.y)


def test_speaker_layout_puts_the_first_tile_large() -> None:
    rects = speaker(4, 1280, 720)
    assert rects[0] == Rect(0, 0, 1280, 540)
    assert all(r.y == 540 and r.height == 180 for r in rects[1:])
    assert speaker(1, 1280, 720) == [Rect(0, 0, 1280, 720)]


def test_fit_keeps_the_picture_shape() -> None:
    assert fit(320, 240, Rect(0, 0, 640, 360)) == Rect(80, 0, 480, 360)
    assert fit(1920, 1080, Rect(10, 10, 640, 640)) == Rect(10, 150, 640, 360)


def test_speaker_follows_the_loudest_voice_without_flicker() -> None:
    tracker = SpeakerTracker(step_s=0.1, smoothing_s=0.2, hold_s=0.5)
    for _ in range(10):
        assert tracker.step({"a": 0.5, "b": 0.01}) == "a"
    # b clears its throat once: no switch
    tracker.step({"a": 0.5, "b": 5.0})
    assert tracker.step({"a": 0.5, "b": 0.01}) == "a"
    # b talks for a while: switch after the hold time
    seen = [tracker.step({"a": 0.01, "b": 0.5}) for _ in range(15)]
    assert seen[0] == "a" and seen[-1] == "b"
    # silence keeps the last speaker
    assert [tracker.step({}) for _ in range(50)][-1] == "b"


def test_progress_reports_percent_and_time_left() -> None:
    assert progress(0, 100, 0) == (0.0, None)
    assert progress(25, 100, 10) == (25.0, 30.0)
    assert progress(100, 100, 40) == (100.0, 0.0)
    assert progress(5, 0, 1) == (100.0, 0.0)


def test_long_stretches_with_nothing_recorded_are_cut_out() -> None:
    spans = [(0.0, 600.0), (2.0, 590.0), (4000.0, 4300.0), (4001.0, 4200.0), (4302.0, 4310.0)]
    shifts = close_gaps(spans, longest_gap_s=5.0)
    assert shifts[:2] == [0.0, 0.0]
    assert shifts[2] == shifts[3] == shifts[4] == 4000.0 - 600.0 - 5.0
    assert close_gaps([(10.0, 20.0), (0.0, 5.0)], 5.0) == [0.0, 0.0]
    assert close_gaps([], 5.0) == []
