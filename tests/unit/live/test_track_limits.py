"""The per-participant track limit read from an offer: what it would send, by kind."""

from __future__ import annotations

import pytest

from signaling.errors import TooManyTracks
from signaling.live import track_limits as p


def offer(*sections: tuple[str, str, str]) -> str:
    lines = ["v=0", "o=- 0 0 IN IP4 127.0.0.1", "s=-", "t=0 0"]
    for kind, port, direction in sections:
        lines += [f"m={kind} {port} UDP/TLS/RTP/SAVPF 96", "c=IN IP4 0.0.0.0", f"a={direction}"]
    return "\r\n".join(lines) + "\r\n"


def test_stopped_and_inactive_sections_do_not_count() -> None:
    sdp = offer(("audio", "9", "sendonly"), ("video", "9", "sendonly"),
                ("video", "0", "sendonly"), ("video", "9", "inactive"),
                ("video", "9", "recvonly"), ("video", "9", "sendonly"),
                ("application", "9", "sendrecv"))
    assert p.sending_sections(sdp) == {"audio": 1, "video": 2}
    p.check_track_limits(sdp)


def test_a_third_sending_video_is_refused() -> None:
    sdp = offer(*[("video", "9", "sendonly")] * 3)
    with pytest.raises(TooManyTracks) as refused:
        p.check_track_limits(sdp)
    assert refused.value.code == "too_many_tracks"
    assert refused.value.extra == {"max_audio": 2, "max_video": 2}
    many = offer(*[("audio", "9", "sendrecv")] * 50)
    with pytest.raises(TooManyTracks):
        p.check_track_limits(many)
