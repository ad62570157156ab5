"""The pure rules of room bookings: half-open intervals and which ones clash.

A booking holds its room over [start, end): one that ends at 10:00 and one that
starts at 10:00 do not overlap. The database enforces the same rule with a trigger
(signaling/migrations/0002_schedule.sql); these functions let the pages and the tests
reason about it without I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def first_clash(span: Span, taken: Sequence[Span]) -> int | None:
    """Index of the first taken span that overlaps `span`, or None when it is free."""
    for index, other in enumerate(taken):
        if overlaps(span, other):
            return index
    return None


def split_free(wanted: Sequence[Span], taken: Sequence[Span]) -> tuple[list[Span], list[Span]]:
    """The wanted spans that are free, and the ones that clash with a taken span or
    with an earlier free wanted span."""
    free: list[Span] = []
    clashing: list[Span] = []
    for span in wanted:
        if first_clash(span, [*taken, *free]) is None:
            free.append(span)
        else:
            clashing.append(span)
    return free, clashing
