"""The E-model R-factor and MOS against worked values, and the classification rules."""

from __future__ import annotations

import pytest

from signaling.quality.classify import WARMUP_SAMPLES, Classifier, Figures, problems, worst
from signaling.quality.emodel import audio_mos, mos, r_factor
from signaling.quality.settings import QualitySettings

Q = QualitySettings()


def warmed() -> Classifier:
    """A classifier past a new stream's unjudged first samples."""
    c = Classifier()
    for _ in range(WARMUP_SAMPLES):
        c.update(Figures(kind="audio", loss_percent=90), Q)
    assert c.state == "good"
    return c


def test_worked_value_100ms_10ms_1_percent() -> None:
    r = r_factor(100, 10, 1)
    assert r == pytest.approx(87.45, abs=0.01)
    assert abs(r - 87.5) < 0.1
    assert mos(r) == pytest.approx(4.27, abs=0.005)


def test_worked_value_300ms_30ms_3_percent() -> None:
    r = r_factor(300, 30, 3)
    assert r == pytest.approx(60.7, abs=0.01)
    assert mos(r) == pytest.approx(3.14, abs=0.005)


def test_latency_has_two_slopes_and_loss_costs_two_and_a_half_per_percent() -> None:
    assert r_factor(0, 0, 0) == pytest.approx(93.2 - 10 / 40)
    # Effective latency 160 ms is where the steeper slope starts; both lines meet there.
    assert r_factor(150, 0, 0) == pytest.approx(93.2 - (160 - 120) / 10)
    assert r_factor(149.999, 0, 0) == pytest.approx(93.2 - 160 / 40, abs=0.001)
    assert r_factor(20, 0, 0) - r_factor(20, 0, 4) == pytest.approx(10)
    assert r_factor(1000, 500, 50) == 0.0


def test_mos_is_bounded_and_rises_with_r() -> None:
    assert mos(-5) == 1.0 and mos(0) == 1.0
    assert mos(120) == 4.5
    values = [mos(r) for r in range(0, 101, 5)]
    assert values == sorted(values)
    assert mos(93.2) == pytest.approx(4.41, abs=0.01)


def test_audio_mos_uses_half_the_round_trip() -> None:
    assert audio_mos(200, 10, 1) == pytest.approx(mos(r_factor(100, 10, 1)))
    assert audio_mos(None, 0, 0) == pytest.approx(mos(r_factor(0, 0, 0)))


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        r_factor(-1, 0, 0)
    with pytest.raises(ValueError):
        r_factor(0, 0, 101)


# ---------------------------------------------------------------- classification


@pytest.mark.parametrize(("figures", "reason"), [
    (Figures(kind="audio", rtt_ms=501), "rtt"),
    (Figures(kind="audio", loss_percent=10.5), "loss"),
    (Figures(kind="audio", jitter_ms=31), "jitter"),
    (Figures(kind="video", frame_loss_percent=51), "frame_loss"),
    (Figures(kind="video", fps=6.5), "fps"),
    (Figures(kind="video", screen=True, fps=1.5), "fps"),
    (Figures(kind="video", loss_percent=16), "loss"),
])
def test_each_poor_threshold(figures: Figures, reason: str) -> None:
    poor, _ = problems(figures, Q)
    assert poor == [reason]
    assert warmed().update(figures, Q) == "poor"


def test_below_the_poor_thresholds_nothing_is_poor() -> None:
    assert problems(Figures(kind="audio", rtt_ms=500, loss_percent=10, jitter_ms=30), Q)[0] == []
    video = Figures(kind="video", fps=7, frame_loss_percent=50, loss_percent=15)
    assert problems(video, Q)[0] == []
    # A screen share at 3 fps is fine; a camera at 3 fps is not.
    assert problems(Figures(kind="video", screen=True, fps=3), Q)[0] == []
    assert problems(Figures(kind="video", fps=3), Q)[0] == ["fps"]
    # Unknown figures break nothing.
    assert problems(Figures(kind="audio"), Q) == ([], [])


def test_warning_needs_several_samples_in_a_row() -> None:
    c = warmed()
    shaky = Figures(kind="audio", rtt_ms=450, loss_percent=1)
    fine = Figures(kind="audio", rtt_ms=50, loss_percent=0)
    assert [c.update(shaky, Q), c.update(shaky, Q)] == ["good", "good"]
    assert c.update(shaky, Q) == "warning"
    assert c.reasons == ("rtt",)
    assert c.update(fine, Q) == "good"
    assert c.update(shaky, Q) == "good"


def test_low_mos_and_loss_warn() -> None:
    _, warn = problems(Figures(kind="audio", loss_percent=4, mos=3.4), Q)
    assert set(warn) == {"loss", "mos"}


def test_poor_then_milder_trouble_stays_warning_then_recovers() -> None:
    c = warmed()
    settings = QualitySettings(warning_samples=2)
    assert c.update(Figures(kind="audio", loss_percent=20), settings) == "poor"
    assert c.update(Figures(kind="audio", loss_percent=5), settings) == "warning"
    assert c.update(Figures(kind="audio", loss_percent=0), settings) == "good"


def test_thresholds_come_from_the_settings() -> None:
    strict = QualitySettings(poor_audio_loss_percent=2.0)
    assert warmed().update(Figures(kind="audio", loss_percent=2.5), strict) == "poor"
    assert warmed().update(Figures(kind="audio", loss_percent=2.5), Q) == "good"


def test_worst() -> None:
    assert worst([]) == "good"
    assert worst(["good", "poor", "warning"]) == "poor"


def test_the_boundaries_of_the_formulas() -> None:
    # Just past the knee at Le = 160 ms the steeper slope applies: 93.2 - (160.5 - 120) / 10.
    assert r_factor(150.5, 0, 0) == pytest.approx(89.15)
    # 100 % loss is a percentage like any other; R cannot fall below 0.
    assert r_factor(0, 0, 100) == 0.0
    # Just above R = 100 the cap, not the curve (which would give 4.503).
    assert mos(100.5) == 4.5
    # A round trip of 0 ms is no latency at all, and audio loss is capped at 100 %.
    assert audio_mos(0.0, 0, 0) == audio_mos(None, 0, 0)
    assert audio_mos(50, 0, 150) == audio_mos(50, 0, 100)


def test_each_warning_names_its_figure_and_a_screen_has_its_own_fps() -> None:
    _, warn = problems(Figures(kind="audio", jitter_ms=Q.warning_jitter_ms + 1), Q)
    assert warn == ["jitter"]
    _, warn = problems(Figures(kind="video", fps=Q.warning_video_fps - 1), Q)
    assert warn == ["fps"]
    # Between the two thresholds: a slow camera, but a smooth enough screen share.
    between = (Q.warning_screen_fps + Q.warning_video_fps) / 2
    assert problems(Figures(kind="video", fps=between), Q) == ([], ["fps"])
    assert problems(Figures(kind="video", screen=True, fps=between), Q) == ([], [])


def test_one_good_sample_starts_the_warning_run_again() -> None:
    c = warmed()
    shaky = Figures(kind="audio", rtt_ms=450)
    fine = Figures(kind="audio", rtt_ms=50)
    assert [c.update(s, Q) for s in (shaky, shaky, fine)] == ["good", "good", "good"]
    # After the good sample it again takes `warning_samples` (3) shaky ones in a row.
    assert [c.update(shaky, Q) for _ in range(Q.warning_samples)] == ["good", "good", "warning"]
    # With a run of one, each sample is judged on its own.
    one = QualitySettings(warning_samples=1)
    c = warmed()
    assert [c.update(s, one) for s in (shaky, fine, shaky)] == ["warning", "good", "warning"]
    assert c.reasons == ("rtt",)
