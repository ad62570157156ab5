"""How SFU requests, results and events travel between signaling and a worker process.

The control channel carries JSON text messages:

- request:  {"id": 7, "method": "publish", "params": {...}}
- response: {"id": 7, "result": ...} or {"id": 7, "error": {"code": ..., "message": ...}}
- event:    {"event": "TrackPublished", "data": {...}}

Results and events are the dataclasses of `sfu.api`; this module turns them into
plain JSON values and back, naming each nested type explicitly.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .api import (
    ActiveSpeaker,
    ConsumerMid,
    InvalidSdpError,
    ProducerClosed,
    ProducerInfo,
    PublishResult,
    RecordingStarted,
    RecordingStopped,
    RouterClosed,
    SfuError,
    SfuEvent,
    StatsSample,
    StreamStats,
    SubscribeOffer,
    TrackPublished,
    TransportClosed,
    TransportConnected,
    UnknownIdError,
    WorkerLoad,
)
from .config import IceServer, RecorderSettings, SfuSettings

METHODS = frozenset({
    "create_router", "close_router", "create_transport", "close_transport", "publish",
    "close_producer", "pause_producer", "consume", "close_consumer", "create_offer",
    "apply_answer", "add_ice_candidate", "stats", "start_recording", "stop_recording",
})

_EVENTS: dict[str, type[Any]] = {cls.__name__: cls for cls in (
    TransportConnected, TransportClosed, TrackPublished, ProducerClosed, StatsSample,
    ActiveSpeaker, WorkerLoad, RouterClosed, RecordingStarted, RecordingStopped)}


class WireError(ValueError):
    """A control message that does not follow the format above."""


def to_json(value: Any) -> Any:
    """A result or event as plain JSON values (dataclasses become objects)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def encode_event(event: SfuEvent) -> dict[str, Any]:
    return {"event": type(event).__name__, "data": to_json(event)}


def decode_event(message: dict[str, Any]) -> SfuEvent:
    name, data = message.get("event"), message.get("data")
    cls = _EVENTS.get(str(name))
    if cls is None or not isinstance(data, dict):
        raise WireError(f"unknown event {name!r}")
    try:
        if cls is TrackPublished:
            return TrackPublished(router_id=data["router_id"],
                                  producer=ProducerInfo(**data["producer"]))
        if cls is StatsSample:
            return StatsSample(router_id=data["router_id"], at=data["at"],
                               streams=tuple(StreamStats(**s) for s in data["streams"]))
        event: SfuEvent = cls(**data)
    except (KeyError, TypeError) as exc:
        raise WireError(f"malformed {name} event: {exc}") from exc
    return event


def decode_result(method: str, value: Any) -> Any:
    """Rebuild the typed result of `method` from its JSON value."""
    try:
        if method == "publish":
            return PublishResult(answer_sdp=value["answer_sdp"],
                                 producers=[ProducerInfo(**p) for p in value["producers"]])
        if method == "create_offer":
            return SubscribeOffer(offer_sdp=value["offer_sdp"],
                                  consumers=[ConsumerMid(**c) for c in value["consumers"]])
        if method == "stats":
            return StatsSample(router_id=value["router_id"], at=value["at"],
                               streams=tuple(StreamStats(**s) for s in value["streams"]))
    except (KeyError, TypeError) as exc:
        raise WireError(f"malformed result of {method}: {exc}") from exc
    return value


def encode_error(exc: SfuError) -> dict[str, str]:
    return {"code": exc.code, "message": exc.message}


def decode_error(error: Any) -> SfuError:
    if not isinstance(error, dict):
        return SfuError("worker_error", str(error))
    code, message = str(error.get("code", "worker_error")), str(error.get("message", ""))
    if code == "invalid_sdp":
        return InvalidSdpError(message)
    if code == "unknown_id":
        return UnknownIdError("", "", message)
    return SfuError(code, message)


def encode_settings(settings: SfuSettings) -> dict[str, Any]:
    value: dict[str, Any] = to_json(settings)
    return value


def decode_settings(value: dict[str, Any]) -> SfuSettings:
    servers = [IceServer(**s) for s in value.get("ice_servers", [])]
    return SfuSettings(**{**value, "ice_servers": servers})


def decode_recorder_settings(value: dict[str, Any]) -> RecorderSettings:
    return RecorderSettings(**value)
