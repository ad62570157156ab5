"""The tile order (last-N): spotlight, then recent speakers, then the rest, stably."""

from __future__ import annotations

import random

import pytest

from signaling.live.last_n import order_tiles

PEOPLE = [f"p{i}" for i in range(12)]


def test_newcomers_join_at_the_end_and_speakers_move_onto_the_first_page() -> None:
    order = order_tiles([], PEOPLE[:6], [], per_page=4)
    assert order == PEOPLE[:6]
    order = order_tiles(order, PEOPLE[:7], [], per_page=4)
    assert order == PEOPLE[:7]
    spoke = order_tiles(order, PEOPLE[:7], ["p6"], per_page=4)
    # p6 takes the place of the first-page tile whose person spoke least recently (the
    # last of those who never spoke); the others keep their places.
    assert spoke[:4] == ["p0", "p1", "p2", "p6"]
    assert spoke[4:] == ["p3", "p4", "p5"]
    again = order_tiles(spoke, PEOPLE[:7], ["p5", "p6"], per_page=4)
    assert again[:4] == ["p0", "p1", "p5", "p6"]
    # The one who spoke longest ago goes first, never one who spoke more recently.
    third = order_tiles(again, PEOPLE[:7], ["p4", "p5", "p6"], per_page=4)
    assert third[:4] == ["p0", "p4", "p5", "p6"]
    fourth = order_tiles(third, PEOPLE[:7], ["p3", "p4", "p5", "p6"], per_page=4)
    assert fourth[:4] == ["p3", "p4", "p5", "p6"]
    fifth = order_tiles(fourth, PEOPLE[:7], ["p0", "p3", "p4", "p5", "p6"], per_page=4)
    assert fifth[:4] == ["p3", "p4", "p5", "p0"]


def test_the_spotlight_comes_first_and_stays() -> None:
    order = order_tiles(PEOPLE[:8], PEOPLE[:8], [], per_page=4, spotlight="p6")
    assert order[0] == "p6" and order[1:4] == ["p1", "p2", "p3"]
    assert order[4] == "p0"
    spoke = order_tiles(order, PEOPLE[:8], ["p7", "p5", "p4", "p3"], per_page=4,
                        spotlight="p6")
    assert spoke[0] == "p6" and set(spoke[1:4]) == {"p7", "p5", "p4"}
    on_page = order_tiles(PEOPLE[:8], PEOPLE[:8], [], per_page=4, spotlight="p2")
    assert on_page[:4] == ["p2", "p1", "p0", "p3"]
    gone = order_tiles(order, PEOPLE[:5], [], per_page=4, spotlight="p6")
    assert sorted(gone) == sorted(PEOPLE[:5])


def test_someone_leaving_the_first_page_is_replaced_from_the_next() -> None:
    order = order_tiles(PEOPLE[:8], [p for p in PEOPLE[:8] if p != "p1"], [], per_page=4)
    assert order == ["p0", "p4", "p2", "p3", "p5", "p6", "p7"]


@pytest.mark.parametrize("seed", range(300))
def test_properties_over_random_meetings(seed: int) -> None:
    rng = random.Random(seed)
    per_page = rng.randint(1, 6)
    previous: list[str] = []
    speakers: list[str] = []
    present = rng.sample(PEOPLE, rng.randint(0, len(PEOPLE)))
    for _ in range(12):
        step = rng.random()
        if step < 0.3 and present:
            speaker = rng.choice(present)
            speakers = [speaker, *(s for s in speakers if s != speaker)]
        elif step < 0.5:
            present = rng.sample(PEOPLE, rng.randint(0, len(PEOPLE)))
        spotlight = rng.choice([None, *PEOPLE]) if rng.random() < 0.3 else None
        order = order_tiles(previous, present, speakers, per_page, spotlight)
        # Everyone present, once.
        assert sorted(order) == sorted(present)
        first = order[:per_page]
        if spotlight in present:
            assert order[0] == spotlight
        room = per_page - (1 if spotlight in present else 0)
        recent = [s for s in speakers if s in present and s != spotlight][:room]
        assert set(recent) <= set(first)
        # Stable: the same facts give the same order.
        assert order_tiles(order, present, speakers, per_page, spotlight) == order
        # No dancing: one new speaker moves one tile, every other keeps its place.
        if len(present) > per_page and spotlight is None:
            newcomer = order[-1]
            moved = order_tiles(order, present, [newcomer, *speakers], per_page)
            assert newcomer in moved[:per_page]
            kept = [i for i in range(per_page) if moved[i] == first[i]]
            assert len(kept) >= per_page - 1
        previous = order
