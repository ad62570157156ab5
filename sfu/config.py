"""Settings of the media plane: what the SFU needs to know, and nothing about accounts."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class IceServer:
    """One STUN or TURN server on the ministry network."""

    urls: list[str]
    username: str = ""
    credential: str = ""

    @property
    def is_turn(self) -> bool:
        """Whether one of its URLs is a TURN relay."""
        return any(url.startswith(("turn:", "turns:")) for url in self.urls)


@dataclass(frozen=True, slots=True)
class SfuSettings:
    announced_addresses: list[str] = field(default_factory=list)
    """IP addresses the SFU binds and puts in its ICE host candidates; empty = every
    non-loopback interface address."""
    ice_servers: list[IceServer] = field(default_factory=list)
    """STUN/TURN servers; empty means none at all (never a public STUN server). Pages get
    them all; the SFU's own connections use only the STUN ones."""
    turn_secret: str = ""
    """Shared secret of the TURN REST scheme (coturn's `static-auth-secret`): each page
    gets short-lived TURN credentials of its own. Kept in the server process: never sent
    to a worker or a page."""
    turn_credential_seconds: int = 12 * 3600
    """How long the TURN credentials a page gets when it joins stay valid."""
    workers: int = 0
    """SFU worker processes; 0 = one per core."""
    in_process: bool = False
    """Run the SFU inside the server process instead of worker processes (the smallest
    set-up: one core, no supervisor); `workers` is then ignored."""
    keyframe_retry_ms: int = 500
    """How often a consumer still waiting for a keyframe asks the publisher again."""
    pli_min_interval_ms: int = 300
    """Coalescing window for keyframe requests relayed to one publisher."""
    stats_interval_ms: int = 3000
    """How often every router's stream figures are sampled and emitted."""
    udp_ports: str = ""
    """Range "FIRST-LAST" every ICE socket of the SFU takes its port from (all workers
    share it); empty = any port."""
    consent_timeout_seconds: int = 15
    """A connection whose other end stops answering ICE consent checks (RFC 7675) for
    about this long is closed, and its participant is told to rejoin. Shorter notices a
    vanished browser sooner; longer rides out a longer network outage without a rejoin."""
    video_codecs: list[str] = field(default_factory=lambda: ["VP8", "H264"])
    """The video codecs the SFU's answers to publishers list, in this order (a publisher
    sends the first one); a codec some participant cannot decode goes after the ones
    everyone can."""
    worker_wait_seconds: int = 10
    """A new meeting router asked for while no worker runs (the supervisor restarting
    the only one) waits this long for a worker before the join is refused."""
    worker_consumer_limit: int = 400
    """A meeting's subscribers join its home worker while that worker carries fewer
    consumers than this; the next ones go to another worker, which the meeting's
    streams are piped to (see `sfu.spread`).

    Chosen from `bench/forwarding.py`: with real subscribers a worker costs about 30 µs
    per forwarded packet (`--mode mesh`), so one core forwards about 33,000 packets/s
    (the 100,000 packets/s of `--mode workers` is its ceiling when no subscriber has
    to be woken). A consumer carries about 80 packets/s on average (a 640x480 camera at
    30 fps about 110, Opus 50), so about 400 consumers keep one worker busy."""


VIDEO_CODECS = ("VP8", "H264")
"""The video codecs the SFU forwards (it finds their keyframes), by their SDP names."""


def port_range(text: str) -> tuple[int, int] | None:
    """`udp_ports` as (first, last), or None for any port; ValueError says what is wrong."""
    if not text.strip():
        return None
    first, dash, last = text.partition("-")
    if not dash or not first.strip().isdigit() or not last.strip().isdigit():
        raise ValueError(f"{text!r} is not a range such as \"40000-40199\"")
    low, high = int(first), int(last)
    if not 1024 <= low <= high <= 65535:
        raise ValueError(f"{text!r} must run from a first port to a last port, "
                         "both between 1024 and 65535")
    return low, high


def worker_count(settings: SfuSettings) -> int:
    """How many worker processes to run: `workers`, or one per core when it is 0."""
    return settings.workers or os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class RecorderSettings:
    """How the SFU writes recordings; `segment_seconds` and `min_free_mb` are set from the
    `[recording]` configuration."""

    segment_seconds: int = 10
    """Each track is written in segments of about this length; a crash loses at most
    the segment being written."""
    min_free_mb: int = 500
    """Recording refuses to start, and stops cleanly, below this much free disk space."""
    disk_check_ms: int = 2000
    """How often free disk space is checked while recording."""
