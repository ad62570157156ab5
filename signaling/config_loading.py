"""Reading a TOML table into frozen dataclasses, and GIAOBAN_* environment overrides.

Generic: every section of the configuration is built and overridden by the same rules, and
every error names the key it is about.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from signaling.errors import ConfigError

T = TypeVar("T")


def build(cls: type[Any], raw: Mapping[str, Any], prefix: str) -> Any:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"unknown key '{prefix}{key}' (known keys here: {known})")
    values: dict[str, Any] = {}
    for name in fields:
        if name in raw:
            values[name] = _convert(hints[name], raw[name], f"{prefix}{name}")
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: {exc}") from exc


def _convert(hint: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return build(typing.cast(type[Any], hint), value, key + ".")
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"'{key}' must be a list")
        return [_convert(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin in (typing.Union, types.UnionType):
        raise ConfigError(f"'{key}': unsupported type")
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"'{key}' must be true or false, not {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"'{key}' must be a whole number, not {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"'{key}' must be a number, not {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"'{key}' must be a string, not {value!r}")
        return value
    raise ConfigError(f"'{key}': unsupported type {hint!r}")


def env_name(key: str) -> str:
    return "GIAOBAN_" + key.replace(".", "_").upper()


def apply_env(config: T, env: Mapping[str, str]) -> T:
    """Apply GIAOBAN_<SECTION>_<KEY> overrides to scalar keys and lists of strings."""
    return typing.cast(T, _override(config, env, ""))


def _override(obj: Any, env: Mapping[str, str], prefix: str) -> Any:
    hints = typing.get_type_hints(type(obj))
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        key = prefix + f.name
        hint = hints[f.name]
        current = getattr(obj, f.name)
        if dataclasses.is_dataclass(hint):
            changes[f.name] = _override(current, env, key + ".")
            continue
        name = env_name(key)
        if name not in env:
            continue
        text = env[name]
        if hint is str:
            changes[f.name] = text
        elif hint is bool:
            if text.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise ConfigError(f"{name} ('{key}') must be true or false, not {text!r}")
            changes[f.name] = text.lower() in ("1", "true", "yes")
        elif hint is int:
            try:
                changes[f.name] = int(text)
            except ValueError:
                raise ConfigError(
                    f"{name} ('{key}') must be a whole number, not {text!r}"
                ) from None
        elif hint is float:
            try:
                changes[f.name] = float(text)
            except ValueError:
                raise ConfigError(f"{name} ('{key}') must be a number, not {text!r}") from None
        elif hint == list[str]:
            changes[f.name] = [part.strip() for part in text.split(",") if part.strip()]
        else:
            raise ConfigError(f"{name}: '{key}' cannot be set from the environment")
    return dataclasses.replace(obj, **changes) if changes else obj
