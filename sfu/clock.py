"""Wall-clock readings for the forwarding path, as aiortc's `clock` gives them.

aiortc reads the time through `datetime` objects, which costs a few microseconds per
reading; the forwarding path reads it once or twice per incoming packet, so these do
the same arithmetic on `time.time()`.
"""

from __future__ import annotations

import time

NTP_OFFSET_S = 2_208_988_800
"""Seconds from the NTP epoch (1900) to the Unix epoch (1970)."""


def ntp_now() -> int:
    """The 64-bit NTP timestamp of now (as `aiortc.clock.current_ntp_time`)."""
    now = time.time() + NTP_OFFSET_S
    seconds = int(now)
    return (seconds << 32) | int((now - seconds) * 4_294_967_296)


def ms_now() -> int:
    """Milliseconds since the NTP epoch (as `aiortc.clock.current_ms`)."""
    return int((time.time() + NTP_OFFSET_S) * 1000)
