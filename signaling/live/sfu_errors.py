"""SFU errors as the typed errors a participant is sent."""

from __future__ import annotations

from sfu.api import SfuError
from signaling.errors import BadRequest, InvalidSdp, NotFound, ServiceUnavailable

RETRYABLE_SFU_CODES = frozenset({"worker_unavailable", "unknown_id"})
"""The router's worker is gone: joining again on a new router may work."""


def sfu_error(exc: SfuError) -> Exception:
    by_code = {"worker_unavailable": ServiceUnavailable, "invalid_sdp": InvalidSdp,
               "unknown_id": NotFound}
    return by_code.get(exc.code, BadRequest)(exc.message)
