"""The table of `SfuClient` methods a worker process serves, read off the Protocol.

`REMOTE_METHODS` names them, and `PIPE_METHODS` those of `sfu.pipe_api.PipeControl`
(the pool's own requests); each row's parameters and result type come from the
annotations of the Protocol itself, so they are written once. The worker wire
codec (`sfu.wire`) encodes and decodes requests and results by this table, and
`sfu.pool.WorkerPool` forwards by it.

Adding a method: declare it on `SfuClient`, implement it on `Engine`, name it in
`REMOTE_METHODS`, and give `WorkerPool` the method (`forwarded(...)` when it only
forwards).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, get_type_hints

from .api import SfuClient
from .pipe_api import PipeControl

REMOTE_METHODS = (
    "create_router", "close_router", "create_transport", "close_transport", "publish",
    "close_producer", "pause_producer", "consume", "close_consumer", "pause_consumer",
    "create_offer",
    "apply_answer", "add_ice_candidate", "stats", "start_recording", "stop_recording",
)
"""Every SfuClient method but the local ones (start, add_listener, close)."""

PIPE_METHODS = ("open_router", "open_pipe_sink", "open_pipe_source", "connect_pipe",
                "pause_pipe", "close_pipe", "pipe_figures")
"""The `sfu.pipe_api.PipeControl` methods, which only the worker pool calls."""

REQUIRED = inspect.Parameter.empty


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: Any
    """The resolved annotation, e.g. `str | None`."""
    default: Any = REQUIRED


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    params: tuple[Param, ...]
    result: Any
    """The resolved return annotation; None for a method that returns nothing."""
    target: str | None
    """The parameter naming what the call is about (`router_id`, `transport_id`, ...),
    whose worker serves it; None for `create_router`."""

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """A call's arguments by parameter name, with the defaults of those not given."""
        names = [p.name for p in self.params]
        if len(args) > len(names):
            raise TypeError(f"{self.name}() takes {len(names)} arguments")
        bound = dict(zip(names, args, strict=False))
        for name, value in kwargs.items():
            if name not in names or name in bound:
                raise TypeError(f"{self.name}() got an unexpected or repeated argument {name!r}")
            bound[name] = value
        for param in self.params:
            if param.name not in bound:
                if param.default is REQUIRED:
                    raise TypeError(f"{self.name}() is missing argument {param.name!r}")
                bound[param.name] = param.default
        return bound


def _method(name: str, protocol: type[Any] = SfuClient) -> Method:
    function = getattr(protocol, name)
    hints = get_type_hints(function)
    params = tuple(Param(p.name, hints[p.name], p.default)
                   for p in list(inspect.signature(function).parameters.values())[1:])
    result = hints["return"]
    target = next((p.name for p in params if p.name.endswith("_id")), None)
    return Method(name, params, None if result is type(None) else result, target)


METHODS: dict[str, Method] = {
    **{name: _method(name) for name in REMOTE_METHODS},
    **{name: _method(name, PipeControl) for name in PIPE_METHODS}}
"""The methods a worker serves, by name."""
