"""The one parser of the client messages (signaling/live/wire_fields.py): defaults,
checks in declaration order, lists of entries, and a class it cannot read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import pytest

from signaling.errors import InvalidMessage
from signaling.live.wire_fields import Choice, Entries, Flag, Text, Whole, parse_fields


@dataclass(frozen=True, slots=True)
class Entry:
    name: Annotated[str, Text(max_len=4)]


@dataclass(frozen=True, slots=True)
class Sample:
    flag: Annotated[bool, Flag()]
    count: Annotated[int | None, Whole(optional=True)]
    entries: Annotated[tuple[Entry, ...], Entries(Entry, 2)] = ()
    side: Annotated[str, Choice(("left", "right"))] = "left"
    size: int = 0


def test_absent_fields_with_a_default_take_it_and_unchecked_ones_are_left() -> None:
    assert parse_fields(Sample, {"flag": True, "size": 9}) == Sample(flag=True, count=None)
    assert parse_fields(Sample, {"flag": False, "count": 3, "side": "right",
                                 "entries": [{"name": "ab"}]}) == Sample(
        flag=False, count=3, entries=(Entry("ab"),), side="right")


@pytest.mark.parametrize(("body", "reason"), [
    ({"flag": True, "side": None}, "'side' must be one of left, right"),
    ({"flag": "yes", "count": "x"}, "'flag' must be true or false"),
    ({"flag": True, "count": True}, "'count' must be a whole number"),
    ({"flag": True, "entries": None}, "'entries' must be a list of at most 2"),
    ({"flag": True, "entries": [{}, {}, {}]}, "'entries' must be a list of at most 2"),
    ({"flag": True, "entries": [{"name": "toolong"}, 1]}, "'name' is longer than 4 characters"),
    ({"flag": True, "entries": [{"name": "ab"}, 1]}, "each entry of 'entries' must be an object"),
])
def test_the_first_bad_field_is_named(body: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidMessage) as raised:
        parse_fields(Sample, body)
    assert raised.value.detail == reason


def test_a_field_without_check_or_default_is_refused_as_a_declaration() -> None:
    @dataclass(frozen=True, slots=True)
    class Unreadable:
        text: str

    with pytest.raises(TypeError, match="Unreadable.text has neither a wire check"):
        parse_fields(Unreadable, {"text": "x"})
