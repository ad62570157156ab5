"""The worker wire codec: every SfuError kind and every SfuClient method of the table
survive the trip through JSON unchanged."""

from __future__ import annotations

import dataclasses
import inspect
import json
import types
from collections.abc import Collection, Sequence
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import pytest

from sfu import api, wire
from sfu.api import SFU_ERRORS, SfuError, SfuErrorKind, StatsSample, TrackPublished
from sfu.config import IceServer, SfuSettings
from sfu.engine import Engine
from sfu.methods import METHODS, PIPE_METHODS, REMOTE_METHODS, Method
from sfu.pool import WorkerPool
from sfu.transport import rtc_configuration


def over_the_wire(value: Any) -> Any:
    return json.loads(json.dumps(value))


def sample(tp: Any, seed: int = 1) -> Any:
    """A value of the annotated type `tp`, different for each `seed`, never None."""
    supertype = getattr(tp, "__supertype__", None)
    if supertype is not None:
        return tp(sample(supertype, seed))
    origin, args = get_origin(tp), get_args(tp)
    if origin is Union or origin is types.UnionType:
        return sample(next(a for a in args if a is not type(None)), seed)
    if origin is Literal:
        return args[seed % len(args)]
    if origin in (list, Collection, Sequence):
        return [sample(args[0], seed + i) for i in range(2)]
    if origin is tuple:
        return tuple(sample(args[0], seed + i) for i in range(2))
    if dataclasses.is_dataclass(tp):
        hints = get_type_hints(tp)
        return tp(**{f.name: sample(hints[f.name], seed + i)
                     for i, f in enumerate(dataclasses.fields(tp))})
    if tp is bool:
        return seed % 2 == 0
    if tp is int:
        return seed * 7
    if tp is float:
        return seed + 0.25
    if tp is str:
        return f"s{seed}"
    raise AssertionError(f"no sample for {tp!r}")


def all_kinds() -> list[type[SfuErrorKind]]:
    found: list[type[SfuErrorKind]] = []
    pending = list(SfuErrorKind.__subclasses__())
    while pending:
        kind = pending.pop()
        found.append(kind)
        pending.extend(kind.__subclasses__())
    return found


def test_every_error_kind_is_registered_by_its_own_code() -> None:
    kinds = all_kinds()
    assert sorted(k.__name__ for k in kinds) == sorted(k.__name__ for k in SFU_ERRORS.values())
    assert all(SFU_ERRORS[k.CODE] is k for k in kinds)


def test_a_second_kind_may_not_claim_a_code() -> None:
    with pytest.raises(TypeError, match="'low_disk' is LowDiskError's"):
        type("AnotherLowDisk", (SfuErrorKind,), {"CODE": "low_disk"})
    assert SFU_ERRORS["low_disk"].__name__ == "LowDiskError"


@pytest.mark.parametrize("kind", sorted(SFU_ERRORS.values(), key=lambda k: k.CODE),
                         ids=lambda k: k.CODE)
def test_every_error_kind_round_trips(kind: type[SfuErrorKind]) -> None:
    sent = kind(f"something about {kind.CODE}")
    received = wire.decode_error(over_the_wire(wire.encode_error(sent)))
    assert type(received) is kind
    assert (received.code, received.message, str(received)) == (
        kind.CODE, sent.message, sent.message)


def test_unknown_id_names_what_is_missing() -> None:
    error = api.UnknownIdError.of("router", "r-1")
    assert (error.code, error.message) == ("unknown_id", "no router with id r-1")


def test_an_unknown_code_stays_a_plain_sfu_error() -> None:
    received = wire.decode_error(over_the_wire(wire.encode_error(SfuError("newer", "m"))))
    assert type(received) is SfuError
    assert (received.code, received.message) == ("newer", "m")
    assert type(wire.decode_error("not an object")) is api.WorkerError


def test_the_table_covers_every_remote_method_of_both_clients() -> None:
    local = {"start", "add_listener", "close"}
    protocol = {name for name, _ in inspect.getmembers(api.SfuClient, inspect.isfunction)
                if not name.startswith("_")}
    assert set(REMOTE_METHODS) == protocol - local
    for name, method in METHODS.items():
        # The pipe methods are the pool's own requests to a worker's engine.
        for client in (Engine,) if name in PIPE_METHODS else (Engine, WorkerPool):
            params = list(inspect.signature(getattr(client, name)).parameters)[1:]
            assert params == [p.name for p in method.params], (client.__name__, name)


def arguments(method: Method, seed: int) -> dict[str, Any]:
    return {p.name: sample(p.type, seed + i) for i, p in enumerate(method.params)}


@pytest.mark.parametrize("name", REMOTE_METHODS + PIPE_METHODS)
def test_every_method_round_trips_its_params_and_result(name: str) -> None:
    method = METHODS[name]
    for seed in (1, 2):
        sent = arguments(method, seed)
        encoded = over_the_wire(wire.encode_params(name, sent))
        assert wire.decode_params(name, encoded) == sent
        result = None if method.result is None else sample(method.result, seed)
        assert wire.decode_result(name, over_the_wire(wire.to_json(result))) == result


@pytest.mark.parametrize("name", [n for n in REMOTE_METHODS
                                  if any(p.default is None for p in METHODS[n].params)])
def test_optional_params_travel_as_null_or_not_at_all(name: str) -> None:
    method = METHODS[name]
    sent = {p.name: None if p.default is None else sample(p.type) for p in method.params}
    assert wire.decode_params(name, over_the_wire(wire.encode_params(name, sent))) == sent
    given = {p.name: v for p, v in zip(method.params, sent.values(), strict=True)
             if p.default is not None}
    assert wire.decode_params(name, given) == given


def test_a_set_of_mids_travels_as_a_sorted_list() -> None:
    params = {"transport_id": "t-1", "offer_sdp": "v=0", "mids": {"2", "0", "1"}}
    assert wire.encode_params("publish", params)["mids"] == ["0", "1", "2"]


@pytest.mark.parametrize(("method", "params", "problem"), [
    ("no_such", {}, "unknown method"),
    ("stats", [], "not an object"),
    ("stats", {}, "lacks its parameter 'router_id'"),
    ("stats", {"router_id": "r", "extra": 1}, "no parameter 'extra'"),
    ("stats", {"router_id": 5}, "router_id"),
    ("create_transport", {"router_id": "r", "role": "watch"}, "role"),
    ("pause_producer", {"producer_id": "p", "paused": "yes"}, "paused"),
])
def test_malformed_params_are_refused(method: str, params: Any, problem: str) -> None:
    with pytest.raises(wire.WireError, match=problem):
        wire.decode_params(method, params)


def test_a_malformed_result_is_refused() -> None:
    with pytest.raises(wire.WireError, match="malformed result of create_offer"):
        wire.decode_result("create_offer", {"offer_sdp": "v=0"})


@pytest.mark.parametrize("cls", [TrackPublished, StatsSample, api.WorkerLoad,
                                 api.ActiveSpeaker, api.RecordingStopped])
def test_events_round_trip(cls: type[Any]) -> None:
    event = sample(cls)
    assert wire.decode_event(over_the_wire(wire.encode_event(event))) == event


def test_a_malformed_event_is_refused() -> None:
    with pytest.raises(wire.WireError, match="malformed TransportClosed"):
        wire.decode_event({"event": "TransportClosed", "data": {"router_id": "r"}})
    with pytest.raises(wire.WireError, match="unknown event"):
        wire.decode_event({"event": "Nope", "data": {}})


def test_turn_secrets_stay_out_of_a_workers_settings() -> None:
    servers = [IceServer(urls=["turn:10.0.0.9:3478"]),
               IceServer(urls=["turn:10.0.0.9:3479"], username="giaoban", credential="fixed-pw")]
    settings = SfuSettings(ice_servers=servers, turn_secret="north-wind-7c1f0a",
                           turn_credential_seconds=600)
    encoded = json.dumps(wire.encode_settings(settings))
    assert "north-wind-7c1f0a" not in encoded and "fixed-pw" not in encoded
    decoded = wire.decode_settings(json.loads(encoded))
    assert decoded == dataclasses.replace(settings, turn_secret="", ice_servers=[
        servers[0], IceServer(urls=["turn:10.0.0.9:3479"])])


def test_the_sfu_itself_uses_only_stun_servers() -> None:
    settings = SfuSettings(ice_servers=[
        IceServer(urls=["turn:10.0.0.9:3478"], username="u", credential="c"),
        IceServer(urls=["stun:10.0.0.9:3478", "turns:10.0.0.9:5349"])])
    servers = rtc_configuration(settings).iceServers or []
    assert [(s.urls, s.username, s.credential) for s in servers] == [
        (["stun:10.0.0.9:3478"], None, None)]
