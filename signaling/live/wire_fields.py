"""The fields of the wire protocol's client messages, and the one parser that reads them.

A client message is a frozen dataclass whose fields say how each is read from the wire:
`participant_id: Annotated[str, Text(max_len=64)]`. `parse_fields(cls, d)` reads every
such field in declaration order; a field that has a default and is absent from the
message takes that default; a field without a check (e.g. a size the socket sets) is left
to its default. Each check raises InvalidMessage with a clear reason.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from signaling.errors import InvalidMessage

M = TypeVar("M")


class FieldCheck(Protocol):
    """Reads the field `key` of the message `d`, or raises InvalidMessage."""

    def __call__(self, d: dict[str, Any], key: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class Text:
    """A string of at most max_len characters; with optional, null or absent is None."""

    max_len: int = 256
    optional: bool = False

    def __call__(self, d: dict[str, Any], key: str) -> Any:
        value = d.get(key)
        if value is None and self.optional:
            return None
        if not isinstance(value, str):
            raise InvalidMessage(f"'{key}' must be a string")
        if len(value) > self.max_len:
            raise InvalidMessage(f"'{key}' is longer than {self.max_len} characters")
        return value


@dataclass(frozen=True, slots=True)
class Choice:
    """One of a fixed set of words."""

    choices: tuple[str, ...]

    def __call__(self, d: dict[str, Any], key: str) -> Any:
        value = d.get(key)
        if value not in self.choices:
            raise InvalidMessage(f"'{key}' must be one of {', '.join(self.choices)}")
        return value


@dataclass(frozen=True, slots=True)
class Flag:
    """true or false."""

    def __call__(self, d: dict[str, Any], key: str) -> bool:
        value = d.get(key)
        if not isinstance(value, bool):
            raise InvalidMessage(f"'{key}' must be true or false")
        return value


@dataclass(frozen=True, slots=True)
class Whole:
    """A whole number (not a boolean); with optional, null or absent is None."""

    optional: bool = False

    def __call__(self, d: dict[str, Any], key: str) -> Any:
        value = d.get(key)
        if value is None and self.optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidMessage(f"'{key}' must be a whole number")
        return value


@dataclass(frozen=True, slots=True)
class Entries:
    """A list of at most max_items objects, each read as the message class `item`."""

    item: type[Any]
    max_items: int

    def __call__(self, d: dict[str, Any], key: str) -> tuple[Any, ...]:
        entries = d.get(key)
        if not isinstance(entries, list) or len(entries) > self.max_items:
            raise InvalidMessage(f"'{key}' must be a list of at most {self.max_items}")
        return tuple(self._entry(key, entry) for entry in entries)

    def _entry(self, key: str, entry: Any) -> Any:
        if not isinstance(entry, dict):
            raise InvalidMessage(f"each entry of '{key}' must be an object")
        return parse_fields(self.item, entry)


@dataclass(frozen=True, slots=True)
class WholeMessage:
    """A field read from the whole message by `read` (e.g. a quality report's summary)."""

    read: Callable[[dict[str, Any]], Any]

    def __call__(self, d: dict[str, Any], key: str) -> Any:
        return self.read(d)


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    check: FieldCheck | None
    has_default: bool


_FIELDS: dict[type[Any], tuple[_Field, ...]] = {}
"""Each message class's fields, read once from its annotations."""


def _fields(cls: type[Any]) -> tuple[_Field, ...]:
    if cls in _FIELDS:
        return _FIELDS[cls]
    hints = typing.get_type_hints(cls, include_extras=True)
    out = []
    for f in dataclasses.fields(cls):
        checks = [m for m in getattr(hints[f.name], "__metadata__", ()) if callable(m)]
        has_default = (f.default is not dataclasses.MISSING
                       or f.default_factory is not dataclasses.MISSING)
        if not checks and not has_default:
            raise TypeError(f"{cls.__name__}.{f.name} has neither a wire check nor a default")
        out.append(_Field(f.name, checks[0] if checks else None, has_default))
    _FIELDS[cls] = tuple(out)
    return _FIELDS[cls]


def parse_fields(cls: type[M], d: dict[str, Any]) -> M:
    """Read the message class `cls` from the JSON object `d`; raise InvalidMessage."""
    values: dict[str, Any] = {}
    for f in _fields(cls):
        if f.check is None or (f.has_default and f.name not in d):
            continue
        values[f.name] = f.check(d, f.name)
    return cls(**values)
