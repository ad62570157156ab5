"""Browser quality reports: validation, and the size and rate caps."""

from __future__ import annotations

import json
from typing import Any

import pytest

from signaling.errors import InvalidMessage
from signaling.live import protocol as p
from signaling.quality.client_reports import MAX_REPORT_BYTES, InvalidQualityReport, ReportGate

GOOD: dict[str, Any] = {
    "type": "quality_report",
    "streams": [
        {"direction": "outbound", "kind": "video", "source": "camera", "fps": 29.8,
         "width": 640, "height": 480, "quality_limitation": "bandwidth"},
        {"direction": "outbound", "kind": "audio", "source": "microphone"},
        {"direction": "inbound", "kind": "video", "producer_id": "pr-abc", "fps": 24,
         "freezes": 1, "frame_loss_percent": 2.5, "jitter_buffer_ms": 40.2, "jitter_ms": 3,
         "loss_percent": 0.5},
        {"direction": "inbound", "kind": "audio", "producer_id": "pr-def",
         "concealed_percent": 1.5, "jitter_ms": None},
    ],
    "pairs": [{"transport": "publish", "rtt_ms": 12.5, "available_outgoing_bps": 2_500_000,
               "local_type": "host", "remote_type": "host"},
              {"transport": "subscribe", "rtt_ms": 11, "local_type": "relay"}],
}


def parse(data: dict[str, Any]) -> p.QualityReport:
    message = p.parse_client_message(json.dumps(data))
    assert isinstance(message, p.QualityReport)
    return message


def test_a_full_report_is_parsed_into_typed_fields() -> None:
    report = parse(GOOD)
    assert report.size == len(json.dumps(GOOD))
    camera, _, video, audio = report.summary.streams
    assert (camera.source, camera.fps, camera.width, camera.quality_limitation) == (
        "camera", 29.8, 640, "bandwidth")
    assert (video.producer_id, video.freezes, video.frame_loss_percent) == ("pr-abc", 1, 2.5)
    assert audio.concealed_percent == 1.5 and audio.jitter_ms is None
    publish, subscribe = report.summary.pairs
    assert publish.rtt_ms == 12.5 and publish.local_type == "host"
    assert subscribe.local_type == "relay" and subscribe.available_outgoing_bps is None


def test_an_empty_report_is_fine() -> None:
    assert parse({"type": "quality_report"}).summary.streams == ()


@pytest.mark.parametrize("change", [
    {"streams": "many"},
    {"streams": [1]},
    {"streams": [{"direction": "sideways", "kind": "audio"}]},
    {"streams": [{"direction": "inbound", "kind": "smell"}]},
    {"streams": [{"direction": "inbound", "kind": "video", "fps": -1}]},
    {"streams": [{"direction": "inbound", "kind": "video", "fps": "fast"}]},
    {"streams": [{"direction": "inbound", "kind": "video", "fps": True}]},
    {"streams": [{"direction": "inbound", "kind": "video", "width": 1.5}]},
    {"streams": [{"direction": "inbound", "kind": "video", "loss_percent": 101}]},
    {"streams": [{"direction": "inbound", "kind": "video", "producer_id": "x" * 65}]},
    {"streams": [{"direction": "outbound", "kind": "video", "quality_limitation": "mood"}]},
    {"streams": [{"direction": "inbound", "kind": "audio"}] * 33},
    {"pairs": [{"transport": "publish", "local_type": "carrier-pigeon"}]},
    {"pairs": [{"transport": "both"}]},
    {"pairs": [{"transport": "publish"}] * 3},
    {"extra": 1},
])
def test_malformed_reports_are_refused_as_droppable(change: dict[str, Any]) -> None:
    with pytest.raises(InvalidQualityReport) as caught:
        p.parse_client_message(json.dumps({**GOOD, **change}))
    assert caught.value.reason == "malformed"
    assert isinstance(caught.value, InvalidMessage)


def test_non_finite_numbers_are_refused() -> None:
    text = '{"type": "quality_report", "streams": [{"direction": "inbound", "kind": "video", ' \
           '"fps": NaN}]}'
    with pytest.raises(InvalidQualityReport):
        p.parse_client_message(text)


def test_an_oversized_report_is_refused_before_parsing_its_fields() -> None:
    text = json.dumps({**GOOD, "padding": "x" * MAX_REPORT_BYTES})
    with pytest.raises(InvalidQualityReport) as caught:
        p.parse_client_message(text)
    assert caught.value.reason == "oversized"


def test_the_gate_caps_size_and_rate_per_participant_and_counts() -> None:
    gate = ReportGate(max_bytes=1000, min_interval_s=2.0)
    assert gate.admit("pa-1", 500, now=100.0)
    assert not gate.admit("pa-1", 500, now=101.0)  # too soon
    assert gate.admit("pa-2", 500, now=101.0)  # someone else
    assert gate.admit("pa-1", 500, now=102.5)
    assert not gate.admit("pa-1", 1001, now=110.0)  # too large
    gate.drop("malformed")
    assert gate.accepted == 3
    assert gate.dropped == {"malformed": 1, "oversized": 1, "too_frequent": 1, "not_joined": 0}
    gate.forget("pa-1")
    assert gate.admit("pa-1", 10, now=110.5)
