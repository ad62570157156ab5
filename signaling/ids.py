"""Identifier types of the control plane."""

from typing import NewType

Username = NewType("Username", str)
MeetingId = NewType("MeetingId", str)
ParticipantId = NewType("ParticipantId", str)
"""One browser connection inside one live meeting."""
SessionToken = NewType("SessionToken", str)
SeriesId = NewType("SeriesId", str)
"""A recurring meeting: the rule its occurrences come from."""
BookingId = NewType("BookingId", int)
