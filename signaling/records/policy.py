"""Recording policies: when a meeting is recorded.

- automatic: from the moment the meeting goes live;
- on_demand: when a host starts it;
- off: never.
"""

from __future__ import annotations

from typing import Literal, get_args

from signaling.errors import BadRequest

RecordingPolicy = Literal["automatic", "on_demand", "off"]
RECORDING_POLICIES: tuple[RecordingPolicy, ...] = get_args(RecordingPolicy)


def check_recording_policy(text: str) -> RecordingPolicy:
    if text not in RECORDING_POLICIES:
        raise BadRequest(
            f"Unknown recording policy {text!r}; choose one of: {', '.join(RECORDING_POLICIES)}."
        )
    return text
