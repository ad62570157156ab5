"""SFU errors as the typed errors a participant is sent."""

from __future__ import annotations

from sfu.api import (
    InvalidSdpError,
    PortsExhaustedError,
    SfuError,
    UnknownIdError,
    WorkerUnavailableError,
)
from signaling.errors import BadRequest, InvalidSdp, NotFound, ServiceUnavailable

RETRYABLE_SFU_ERRORS = (WorkerUnavailableError, UnknownIdError)
"""The router's worker is gone: joining again on a new router may work."""

_AS_SENT: tuple[tuple[type[SfuError], type[Exception]], ...] = (
    (WorkerUnavailableError, ServiceUnavailable),
    (PortsExhaustedError, ServiceUnavailable),
    (InvalidSdpError, InvalidSdp),
    (UnknownIdError, NotFound),
)


def sfu_error(exc: SfuError) -> Exception:
    kind = next((sent for sfu_kind, sent in _AS_SENT if isinstance(exc, sfu_kind)), BadRequest)
    return kind(exc.message)
