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

GUEST_PREFIX = "guest:"
"""Starts the username a guest goes by in a meeting (`guest:<guest id>`); no account's
username can hold a colon, so none can be taken for a guest's."""


def is_guest_username(username: str) -> bool:
    return username.startswith(GUEST_PREFIX)

MAX_ROW_ID = 2**63 - 1
"""The largest id SQLite stores in an INTEGER column."""


def row_id(text: str) -> int | None:
    """A database row id written in ASCII digits, or None (not such a number, or beyond
    what the database holds)."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ROW_ID)):
        return None
    value = int(text)
    return value if value <= MAX_ROW_ID else None
