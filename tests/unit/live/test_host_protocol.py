"""The messages of hands and host controls are typed and validated; bad ones get a clear
reason; what the server sends encodes as the pages read it."""

from __future__ import annotations

import json

import pytest

from signaling.errors import InvalidMessage
from signaling.live import host_protocol as hp
from signaling.live import protocol as p


def parse(obj: object) -> p.ClientMessage:
    return p.parse_client_message(json.dumps(obj))


def test_each_message_parses() -> None:
    pid = {"participant_id": "pa-1"}
    assert parse({"type": "raise_hand", "raised": True}) == hp.RaiseHand(raised=True)
    assert parse({"type": "unmute_answer", "accepted": False}) == hp.UnmuteAnswer(False)
    assert parse({"type": "mute_participant", **pid}) == hp.MuteParticipant("pa-1")
    assert parse({"type": "mute_all"}) == hp.MuteAll()
    assert parse({"type": "ask_unmute", **pid}) == hp.AskUnmute("pa-1")
    assert parse({"type": "stop_video", **pid, "source": "screen"}) == hp.StopVideo(
        "pa-1", "screen")
    assert parse({"type": "lower_hand", **pid}) == hp.LowerHand("pa-1")
    assert parse({"type": "lower_all_hands"}) == hp.LowerAllHands()
    assert parse({"type": "remove_participant", **pid}) == hp.RemoveParticipant("pa-1")
    assert parse({"type": "spotlight", **pid}) == hp.Spotlight("pa-1", "camera")
    assert parse({"type": "spotlight", "participant_id": None}) == hp.Spotlight(None)
    assert parse({"type": "end_meeting"}) == hp.EndMeeting()
    assert parse({"type": "make_cohost", **pid, "cohost": True}) == hp.MakeCohost("pa-1", True)
    assert {m.type for m in hp.HOST_CONTROLS} | {"raise_hand", "unmute_answer"} == {
        m.type for m in hp.HOST_CLIENT_MESSAGES}


@pytest.mark.parametrize("obj, reason", [
    ({"type": "raise_hand"}, "'raised' must be true or false"),
    ({"type": "raise_hand", "raised": 1}, "'raised' must be true or false"),
    ({"type": "mute_participant"}, "'participant_id' must be a string"),
    ({"type": "mute_participant", "participant_id": "x" * 65}, "longer than 64"),
    ({"type": "stop_video", "participant_id": "pa-1"}, "'source' must be one of camera, screen"),
    ({"type": "stop_video", "participant_id": "pa-1", "source": "microphone"},
     "'source' must be one of camera, screen"),
    ({"type": "spotlight", "participant_id": 3}, "'participant_id' must be a string"),
    ({"type": "make_cohost", "participant_id": "pa-1"}, "'cohost' must be true or false"),
    ({"type": "unmute_answer", "accepted": "yes"}, "'accepted' must be true or false"),
])
def test_bad_messages_say_why(obj: object, reason: str) -> None:
    with pytest.raises(InvalidMessage, match=reason):
        parse(obj)


def test_server_messages_encode_as_the_page_reads_them() -> None:
    hands = hp.Hands(queue=[hp.HandInfo("pa-1", "2026-12-01T01:00:00+00:00")])
    assert json.loads(p.encode(hands)) == {
        "type": "hands", "queue": [{"participant_id": "pa-1",
                                    "raised_at": "2026-12-01T01:00:00+00:00"}]}
    spot = hp.SpotlightChanged(spotlight=hp.SpotlightInfo("pa-1", "screen"))
    assert json.loads(p.encode(spot)) == {
        "type": "spotlight", "spotlight": {"participant_id": "pa-1", "source": "screen"}}
    assert json.loads(p.encode(hp.HostAction(action="muted", by="Minh"))) == {
        "type": "host_action", "action": "muted", "by": "Minh"}
    info = p.ParticipantInfo("pa-1", "minh", "Minh", host=True, unit="Vụ Tổ chức cán bộ")
    assert json.loads(p.encode(p.ParticipantJoined(participant=info)))["participant"] == {
        "participant_id": "pa-1", "username": "minh", "display_name": "Minh",
        "audio_muted": False, "video_muted": False, "host": True, "unit": "Vụ Tổ chức cán bộ"}
