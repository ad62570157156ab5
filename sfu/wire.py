"""How SFU requests, results and events travel between signaling and a worker process.

The control channel carries JSON text messages:

- request:  {"id": 7, "method": "publish", "params": {...}}
- response: {"id": 7, "result": ...} or {"id": 7, "error": {"code": ..., "message": ...}}
- event:    {"event": "TrackPublished", "data": {...}}

Params, results and events are the values and dataclasses of `sfu.api`; this module
turns them into plain JSON values and back by their annotated types: those of the
events' dataclasses, and for requests and results the table of `sfu.methods`.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from .api import (
    ActiveSpeaker,
    ProducerClosed,
    RecordingStarted,
    RecordingStopped,
    RouterClosed,
    SfuError,
    SfuEvent,
    StatsSample,
    TrackPublished,
    TransportClosed,
    TransportConnected,
    WorkerError,
    WorkerLoad,
    sfu_error,
)
from .config import IceServer, RecorderSettings, SfuSettings
from .methods import METHODS, REQUIRED

_EVENTS: dict[str, type[Any]] = {cls.__name__: cls for cls in (
    TransportConnected, TransportClosed, TrackPublished, ProducerClosed, StatsSample,
    ActiveSpeaker, WorkerLoad, RouterClosed, RecordingStarted, RecordingStopped)}


class WireError(ValueError):
    """A control message that does not follow the format above."""


def to_json(value: Any) -> Any:
    """A result, event or parameter as plain JSON values (dataclasses become objects,
    lists and tuples lists, other collections such as sets sorted lists)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, Collection) and not isinstance(value, str | bytes | Mapping):
        return sorted(to_json(v) for v in value)
    return value


def from_json(tp: Any, value: Any) -> Any:
    """`value`, a plain JSON value, rebuilt as the annotated type `tp`.

    Understands what `sfu.api` uses: its dataclasses, NewType ids, `X | None`,
    literals, lists, tuples and collections, and the scalars. Raises WireError when
    the value does not fit the type.
    """
    if tp is None or tp is type(None):
        if value is None:
            return None
        raise WireError(f"expected null, got {value!r}")
    supertype = getattr(tp, "__supertype__", None)
    if supertype is not None:  # a NewType id
        return from_json(supertype, value)
    origin, args = get_origin(tp), get_args(tp)
    if origin is Union or origin is types.UnionType:
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) != 1:
            raise WireError(f"cannot decode the union {tp!r}")
        return from_json(options[0], value)
    if origin is Literal:
        if value in args:
            return value
        raise WireError(f"expected one of {args!r}, got {value!r}")
    if origin in (list, tuple, Collection, Sequence):
        if not isinstance(value, list):
            raise WireError(f"expected a list, got {value!r}")
        items = [from_json(args[0], v) for v in value]
        return tuple(items) if origin is tuple else items
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass_from_json(tp, value)
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp in (str, int, bool) and isinstance(value, tp) and (tp is bool
                                                            or not isinstance(value, bool)):
        return value
    raise WireError(f"expected {getattr(tp, '__name__', tp)}, got {value!r}")


_FIELDS: dict[type[Any], tuple[tuple[str, Any, bool], ...]] = {}


def _fields(cls: type[Any]) -> tuple[tuple[str, Any, bool], ...]:
    """(name, resolved type, required) of each field of a dataclass; read once."""
    fields = _FIELDS.get(cls)
    if fields is None:
        hints = get_type_hints(cls)
        fields = _FIELDS[cls] = tuple(
            (f.name, hints[f.name], f.default is dataclasses.MISSING
             and f.default_factory is dataclasses.MISSING) for f in dataclasses.fields(cls))
    return fields


def _dataclass_from_json(cls: type[Any], value: Any) -> Any:
    if not isinstance(value, dict):
        raise WireError(f"expected a {cls.__name__} object, got {value!r}")
    fields = _fields(cls)
    unknown = set(value) - {name for name, _, _ in fields}
    if unknown:
        raise WireError(f"{cls.__name__} has no field {sorted(unknown)[0]!r}")
    kwargs: dict[str, Any] = {}
    for name, tp, required in fields:
        if name in value:
            kwargs[name] = from_json(tp, value[name])
        elif required:
            raise WireError(f"{cls.__name__} lacks its field {name!r}")
    return cls(**kwargs)


# ---------------------------------------------------------------- events


def encode_event(event: SfuEvent) -> dict[str, Any]:
    return {"event": type(event).__name__, "data": to_json(event)}


def decode_event(message: dict[str, Any]) -> SfuEvent:
    name = message.get("event")
    cls = _EVENTS.get(str(name))
    if cls is None:
        raise WireError(f"unknown event {name!r}")
    try:
        event: SfuEvent = from_json(cls, message.get("data"))
    except WireError as exc:
        raise WireError(f"malformed {name} event: {exc}") from exc
    return event


# ---------------------------------------------------------------- requests


def encode_params(method: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """A call's arguments (every parameter of `method`, by name) as JSON values."""
    spec = METHODS[method]
    names = {p.name for p in spec.params}
    if set(params) != names:
        raise WireError(f"{method} takes {sorted(names)}, not {sorted(params)}")
    return {name: to_json(value) for name, value in params.items()}


def decode_params(method: str, value: Any) -> dict[str, Any]:
    """A request's params rebuilt as the typed arguments of `method`."""
    spec = METHODS.get(method)
    if spec is None:
        raise WireError(f"unknown method {method!r}")
    if not isinstance(value, dict):
        raise WireError(f"the params of {method} are not an object")
    unknown = set(value) - {p.name for p in spec.params}
    if unknown:
        raise WireError(f"{method} has no parameter {sorted(unknown)[0]!r}")
    arguments: dict[str, Any] = {}
    for param in spec.params:
        if param.name in value:
            try:
                arguments[param.name] = from_json(param.type, value[param.name])
            except WireError as exc:
                raise WireError(f"{method}: {param.name}: {exc}") from exc
        elif param.default is REQUIRED:
            raise WireError(f"{method} lacks its parameter {param.name!r}")
    return arguments


def decode_result(method: str, value: Any) -> Any:
    """Rebuild the typed result of `method` from its JSON value."""
    try:
        return from_json(METHODS[method].result, value)
    except WireError as exc:
        raise WireError(f"malformed result of {method}: {exc}") from exc


# ---------------------------------------------------------------- errors


def encode_error(exc: SfuError) -> dict[str, str]:
    return {"code": exc.code, "message": exc.message}


def decode_error(error: Any) -> SfuError:
    """The SfuError of the error's own kind (see `sfu.api.SFU_ERRORS`)."""
    if not isinstance(error, dict):
        return WorkerError(str(error))
    return sfu_error(str(error.get("code", WorkerError.CODE)), str(error.get("message", "")))


# ---------------------------------------------------------------- settings


def encode_settings(settings: SfuSettings) -> dict[str, Any]:
    """What a worker is started with. TURN credentials and the TURN secret stay behind:
    workers use no relay, and a command line is visible to every user of the machine."""
    value: dict[str, Any] = to_json(settings)
    value.pop("turn_secret", None)
    value["ice_servers"] = [{"urls": s["urls"]} for s in value.get("ice_servers", [])]
    return value


def decode_settings(value: dict[str, Any]) -> SfuSettings:
    servers = [IceServer(**s) for s in value.get("ice_servers", [])]
    return SfuSettings(**{**value, "ice_servers": servers})


def decode_recorder_settings(value: dict[str, Any]) -> RecorderSettings:
    return RecorderSettings(**value)
