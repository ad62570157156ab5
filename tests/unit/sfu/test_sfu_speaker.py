"""The active-speaker rule: smoothing, hysteresis, silence and the rate limit."""

from __future__ import annotations

from sfu.speaker import HOLD_TICKS, MIN_INTERVAL_S, SILENCE_S, TICK_S, UNCHANGED, SpeakerDetector

LOUD, SOFT, QUIET = 100.0, 75.0, 0.0


def run(detector: SpeakerDetector, ticks: int, start: float,
        levels: dict[str, float | None]) -> tuple[float, list[object]]:
    results = []
    now = start
    for _ in range(ticks):
        now += TICK_S
        results.append(detector.tick(levels, now))
    return now, [r for r in results if r is not UNCHANGED]


def test_the_loudest_becomes_the_speaker_and_is_reported_once() -> None:
    detector = SpeakerDetector()
    _, changes = run(detector, 8, 0.0, {"a": LOUD, "b": QUIET})
    assert changes == ["a"]
    assert detector.current == "a"
    assert (detector.ticks, detector.announcements) == (8, 1)


def test_nobody_speaks_in_silence() -> None:
    _, changes = run(SpeakerDetector(), 8, 0.0, {"a": QUIET, "b": None})
    assert changes == []


def test_a_slightly_louder_voice_does_not_take_over() -> None:
    detector = SpeakerDetector()
    now, _ = run(detector, 8, 0.0, {"a": LOUD, "b": QUIET})
    _, changes = run(detector, 8, now, {"a": LOUD, "b": LOUD + 3})
    assert changes == [] and detector.current == "a"


def test_a_clearly_louder_voice_takes_over_after_holding() -> None:
    detector = SpeakerDetector()
    now, _ = run(detector, 8, 0.0, {"a": SOFT, "b": QUIET})
    now += TICK_S
    assert detector.tick({"a": SOFT, "b": LOUD + 20}, now) is UNCHANGED  # not held yet
    _, changes = run(detector, HOLD_TICKS + 4, now, {"a": SOFT, "b": LOUD + 20})
    assert changes == ["b"]


def test_short_pauses_keep_the_speaker_and_long_silence_clears_it() -> None:
    detector = SpeakerDetector()
    now, _ = run(detector, 8, 0.0, {"a": LOUD})
    now, changes = run(detector, int(1.0 / TICK_S), now, {"a": QUIET})
    assert changes == [] and detector.current == "a"
    _, changes = run(detector, int(SILENCE_S / TICK_S) + 4, now, {"a": QUIET})
    assert changes == [None]


def test_changes_are_at_most_one_per_interval() -> None:
    detector = SpeakerDetector()
    assert detector.tick({"a": LOUD * 2}, 0.0) == "a"
    # "a" leaves; the change is held back until the interval has passed.
    assert detector.tick({"b": QUIET}, MIN_INTERVAL_S / 2) is UNCHANGED
    assert detector.tick({"b": QUIET}, MIN_INTERVAL_S) is None


def test_a_producer_that_goes_away_is_forgotten() -> None:
    detector = SpeakerDetector()
    run(detector, 8, 0.0, {"a": LOUD, "b": QUIET})
    assert detector.tick({"b": QUIET}, 10.0) is None
    assert "a" not in detector.smoothed
