"""How many tracks one participant may publish, read from its offers.

The SDP stays opaque to signaling but for this count of media sections, made before
the media server sees an offer, so an offer of fifty m-lines costs nothing.
"""

from __future__ import annotations

from signaling.errors import TooManyTracks

MAX_TRACKS: dict[str, int] = {"audio": 2, "video": 2}
"""Tracks one participant publishes at once, by kind, whatever its offers say: a camera
and a screen share; a microphone and the screen share's sound."""
TOO_MANY_TRACKS = ("A participant sends at most a camera, a microphone and a screen share "
                   "with its sound")


def sending_sections(sdp: str) -> dict[str, int]:
    """How many media sections of an offer send audio and video (not stopped, port 0, and
    not recvonly or inactive): what the publishing connection would carry."""
    counts = {"audio": 0, "video": 0}
    kind: str | None = None
    sending = False

    def close_section() -> None:
        if kind in counts and sending:
            counts[kind] += 1

    for line in sdp.splitlines():
        if line.startswith("m="):
            close_section()
            fields = line[2:].split()
            kind = fields[0] if fields else None
            sending = len(fields) > 1 and fields[1] != "0"
        elif kind is not None and line in ("a=recvonly", "a=inactive"):
            sending = False
    close_section()
    return counts


def check_track_limits(sdp: str) -> None:
    """TooManyTracks when an offer would send more than MAX_TRACKS of a kind."""
    counts = sending_sections(sdp)
    if any(counts[kind] > limit for kind, limit in MAX_TRACKS.items()):
        raise TooManyTracks(TOO_MANY_TRACKS,
                            **{f"max_{kind}": n for kind, n in MAX_TRACKS.items()})
