"""The `recording` client message and the `recording_state` server message."""

from __future__ import annotations

import json

import pytest

from signaling.errors import InvalidMessage
from signaling.live import protocol as p


def test_recording_start_and_stop_parse() -> None:
    assert p.parse_client_message('{"type": "recording", "action": "start"}') == \
        p.Recording(action="start")
    assert p.parse_client_message('{"type": "recording", "action": "stop"}') == \
        p.Recording(action="stop")


@pytest.mark.parametrize("body", [{}, {"action": "pause"}, {"action": 1}, {"action": None}])
def test_bad_recording_messages_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(InvalidMessage, match="'action' must be one of start, stop"):
        p.parse_client_message(json.dumps({"type": "recording", **body}))


def test_recording_state_encodes_every_field() -> None:
    message = json.loads(p.encode(p.RecordingState(recording=False, policy="automatic",
                                                   reason="low_disk", can_control=True)))
    assert message == {"type": "recording_state", "recording": False, "policy": "automatic",
                       "reason": "low_disk", "can_control": True}
