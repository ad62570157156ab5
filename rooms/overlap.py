"""The pure rules of room bookings: which wanted spans are free among the taken ones.

Spans are half-open (signaling/spans.py); the database enforces the same rule with a
trigger (signaling/migrations/0003_schedule.sql). These functions let the pages and the
tests reason about it without I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from signaling.spans import Span, overlaps


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
