"""Field checks shared by the wire protocol's message classes (signaling/live/protocol.py
and signaling/live/host_protocol.py): each raises InvalidMessage with a clear reason."""

from __future__ import annotations

from typing import Any

from signaling.errors import InvalidMessage


def text_field(d: dict[str, Any], key: str, *, max_len: int = 256,
               optional: bool = False) -> Any:
    value = d.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidMessage(f"'{key}' must be a string")
    if len(value) > max_len:
        raise InvalidMessage(f"'{key}' is longer than {max_len} characters")
    return value


def choice_field(d: dict[str, Any], key: str, choices: tuple[str, ...]) -> Any:
    value = d.get(key)
    if value not in choices:
        raise InvalidMessage(f"'{key}' must be one of {', '.join(choices)}")
    return value


def bool_field(d: dict[str, Any], key: str) -> bool:
    value = d.get(key)
    if not isinstance(value, bool):
        raise InvalidMessage(f"'{key}' must be true or false")
    return value


def int_field(d: dict[str, Any], key: str, *, optional: bool = False) -> Any:
    value = d.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidMessage(f"'{key}' must be a whole number")
    return value
