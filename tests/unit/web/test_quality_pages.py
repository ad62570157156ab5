"""The IT pages render in both languages with every string, and nothing inline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from signaling.quality.history import AlertRow, MeetingWithHistory, SampleRow
from signaling.quality.meeting_report import build_report
from tests.unit.web.test_i18n import MEETING, NOW, _context, _environment
from web.pages import views
from web.pages.quality import NOT_IT


def _rows() -> list[SampleRow]:
    return [SampleRow(meeting_id="abc123", participant_id="pa-1", username="an",
                      stream="down:audio", kind="audio", at=NOW + dt.timedelta(seconds=3 * i),
                      seconds=3.0, state="poor" if i == 2 else "good", loss_percent=12.0 * i,
                      jitter_ms=4.0, rtt_ms=20.0, mos=4.1, bitrate_kbps=40.0)
            for i in range(4)]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_it_pages_render_without_missing_strings(lang: str) -> None:
    env = _environment()
    missing: list[str] = []
    alert = AlertRow(1, "abc123", "pa-1", "an", "down:audio", ("loss", "jitter"), NOW, NOW,
                     None)
    report = build_report("abc123", _rows(), [alert])
    pages: dict[str, dict[str, Any]] = {
        "it.html": {"js_strings": views.page_strings(lang), "ws_path": "/it/ws"},
        "it_history.html": {"meetings": [MeetingWithHistory("abc123", "Giao ban", NOW, NOW,
                                                            NOW, 180.0, 1)]},
        "it_report.html": {"meeting": MEETING, "report": report,
                           "chart_data": {"charts": report.chart_data(), "lang": lang},
                           "js_strings": views.page_strings(lang),
                           "clock": lambda v: v.strftime("%H:%M:%S"),
                           "figure": lambda v, d=1: "–" if v is None else f"{v:.{d}f}"},
    }
    for name, extra in pages.items():
        html = env.get_template(name).render(**_context(lang, missing), **extra)
        assert " style=" not in html and "<script>" not in html
        assert "http://" not in html and "https://" not in html
        if name == "it_report.html":
            assert 'data-testid="report-worst"' in html and "12.0" in html
            assert 'data-participant="an" data-state="poor"' in html
    assert missing == []


def test_the_refusal_is_translated() -> None:
    from web import i18n

    title, detail = i18n.translate_error("vi", "forbidden", "Not allowed", NOT_IT)
    assert detail == i18n.translate("vi", "error.message.not_it") != NOT_IT
