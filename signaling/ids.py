"""Identifier types of the control plane."""

from typing import NewType

Username = NewType("Username", str)
MeetingId = NewType("MeetingId", str)
ParticipantId = NewType("ParticipantId", str)
"""One browser connection inside one live meeting."""
SessionToken = NewType("SessionToken", str)
