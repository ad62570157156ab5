"""Half-open time spans and whether two of them overlap: a pure rule, no I/O.

A span holds [start, end): one that ends at 10:00 and one that starts at 10:00 do not
overlap. The schedule uses it for busy invitees, the rooms for bookings (whose database
trigger in signaling/migrations/0003_schedule.sql enforces the same rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Span:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a span must end after it starts")


def overlaps(a: Span, b: Span) -> bool:
    """Whether [a.start, a.end) and [b.start, b.end) share any instant."""
    return a.start < b.end and b.start < a.end
