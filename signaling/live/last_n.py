"""Last-N: the order of a meeting's video tiles, as a pure rule.

The first page holds `per_page` tiles: the spotlight first (when there is one), then
the most recent active speakers, then whoever was there before. A new speaker takes
the place of the first-page tile whose person spoke least recently; everyone else on
the first page keeps their place, so tiles do not dance. The rest follow in the order
they had, newcomers last. Each page leaves its own participant out of this order.
"""

from __future__ import annotations

from collections.abc import Sequence

NEVER = 1 << 30
"""The speaking rank of someone who has not spoken (a larger rank spoke longer ago)."""


def order_tiles(previous: Sequence[str], present: Sequence[str], speakers: Sequence[str],
                per_page: int, spotlight: str | None = None) -> list[str]:
    """Every participant of `present` once, in tile order.

    `previous` is the order given last time, `present` who is in the meeting (in the
    order they joined), `speakers` the active speakers, most recent first.
    """
    here = dict.fromkeys(present)
    last = list(dict.fromkeys(previous))
    before = [pid for pid in last if pid in here]
    # The first page as it was; the place of whoever left is free.
    slots: list[str | None] = [pid if pid in here else None for pid in last[:per_page]]
    slots += [None] * (per_page - len(slots))
    displaced: list[str] = []
    pinned = spotlight if spotlight in here and per_page > 0 else None
    if pinned is not None and slots[0] != pinned:
        if pinned in slots:
            where = slots.index(pinned)
            slots[where], slots[0] = slots[0], pinned
        else:
            occupant, slots[0] = slots[0], pinned
            if occupant is not None:
                if None in slots:
                    slots[slots.index(None)] = occupant
                else:
                    displaced.append(occupant)
    room = per_page - (1 if pinned is not None else 0)
    recent = [pid for pid in dict.fromkeys(speakers) if pid in here and pid != pinned][:room]
    rank = {pid: i for i, pid in enumerate(recent)}
    for speaker in recent:
        if speaker in slots:
            continue
        if None in slots:
            slots[slots.index(None)] = speaker
            continue
        movable = [i for i, pid in enumerate(slots) if pid != pinned]
        victim = max(movable, key=lambda i: (rank.get(str(slots[i]), NEVER), i))
        displaced.append(str(slots[victim]))
        slots[victim] = speaker
    placed = {pid for pid in slots if pid is not None}
    rest = list(dict.fromkeys(
        [*displaced, *(pid for pid in before if pid not in placed),
         *(pid for pid in here if pid not in placed)]))
    rest = [pid for pid in rest if pid not in placed]
    for i, pid in enumerate(slots):
        if pid is None and rest:
            slots[i] = rest.pop(0)
    return [pid for pid in slots if pid is not None] + rest
