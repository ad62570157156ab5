"""Every client message is typed and validated; bad ones get a clear reason."""

from __future__ import annotations

import json

import pytest

from signaling.errors import InvalidMessage
from signaling.live import protocol as p

SDP = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"


def parse(obj: object) -> p.ClientMessage:
    return p.parse_client_message(json.dumps(obj))


def test_each_message_type_parses() -> None:
    assert parse({"type": "hello", "version": 1}) == p.Hello(version=1)
    assert parse({"type": "join", "meeting_id": "abc"}) == p.Join(meeting_id="abc")
    pub = parse({"type": "publish", "sdp": SDP,
                 "tracks": [{"mid": "0", "kind": "video", "source": "screen"}]})
    assert isinstance(pub, p.Publish) and pub.tracks[0].source == "screen"
    assert parse({"type": "unpublish", "producer_id": "p-1"}) == p.Unpublish("p-1")
    assert parse({"type": "answer", "sdp": SDP}) == p.Answer(sdp=SDP)
    ice = parse({"type": "ice", "transport": "publish", "candidate": "candidate:1 1 udp 1 "
                 "127.0.0.1 5000 typ host", "sdp_mid": "0", "sdp_mline_index": 0})
    assert isinstance(ice, p.Ice) and ice.sdp_mline_index == 0
    assert parse({"type": "mute", "kind": "audio", "muted": True}) == p.Mute("audio", True)
    assert parse({"type": "leave"}) == p.Leave()


@pytest.mark.parametrize("obj, reason", [
    ({"type": "hello", "version": 2}, "version 2 is not supported"),
    ({"type": "hello"}, "'version' must be a whole number"),
    ({"type": "dance"}, "unknown message type 'dance'"),
    ({"kind": "hello"}, "unknown message type None"),
    ({"type": "join", "meeting_id": 5}, "'meeting_id' must be a string"),
    ({"type": "publish", "sdp": "hello"}, "must start with v=0"),
    ({"type": "publish", "sdp": SDP, "tracks": [{"mid": "0", "kind": "smell",
                                               "source": "camera"}]}, "'kind' must be one of"),
    ({"type": "publish", "sdp": SDP, "tracks": "all"}, "'tracks' must be a list"),
    ({"type": "mute", "kind": "audio", "muted": "yes"}, "'muted' must be true or false"),
    ({"type": "ice", "transport": "sideways", "candidate": ""}, "'transport' must be one of"),
    ([1, 2], "must be a JSON object"),
])
def test_bad_messages_are_refused_with_a_reason(obj: object, reason: str) -> None:
    with pytest.raises(InvalidMessage, match=reason):
        parse(obj)


def test_not_json_and_oversized() -> None:
    with pytest.raises(InvalidMessage, match="not valid JSON"):
        p.parse_client_message("{nope")
    with pytest.raises(InvalidMessage, match="larger than"):
        p.parse_client_message(" " * (p.MAX_MESSAGE_BYTES + 1))


def test_server_messages_encode_with_their_type() -> None:
    text = p.encode(p.MuteChanged(participant_id="pa-1", kind="video", muted=True))
    assert json.loads(text) == {"type": "mute_changed", "participant_id": "pa-1",
                                "kind": "video", "muted": True}
    unsupported = p.encode(p.TrackUnsupported(producer_id="p-1", participant_id="pa-2",
                                              kind="video", source="camera"))
    assert json.loads(unsupported) == {"type": "track_unsupported", "producer_id": "p-1",
                                       "participant_id": "pa-2", "kind": "video",
                                       "source": "camera"}
