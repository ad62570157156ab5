"""A participant publishes at most a camera, a microphone and a screen share with its
sound, whatever its offers declare: real server, real aiortc peers."""

from __future__ import annotations

from aiortc import RTCPeerConnection

from tests.integration.conftest import Site, wait_until
from tests.integration.live.test_meeting_media import frames_from
from tests.integration.media import PatternVideoTrack, ToneAudioTrack
from tests.integration.peers import Publisher, loopback_pc
from web.keys import LIVE_MEETINGS, RECORDINGS


def add_tracks(pc: RTCPeerConnection, video: int, audio: int = 0) -> RTCPeerConnection:
    for i in range(video):
        pc.addTransceiver(PatternVideoTrack(10 + i), direction="sendonly")
    for i in range(audio):
        pc.addTransceiver(ToneAudioTrack(10 + i), direction="sendonly")
    return pc


async def offer_of(pc: RTCPeerConnection) -> str:
    await pc.setLocalDescription(await pc.createOffer())
    return str(pc.localDescription.sdp)


async def test_undeclared_m_lines_make_no_producers_beyond_the_limit(site: Site) -> None:
    tokens = {n: site.account(n) for n in ("nga", "oanh", "phuong")}
    meeting_id = site.meeting("nga", ["oanh", "phuong"])
    attacker = site.client("nga", tokens["nga"], 0, Publisher(index=0, screen_index=5))
    newcomer = site.client("phuong", tokens["phuong"], 2)
    viewer = site.client("oanh", tokens["oanh"], 1)
    viewer.subscriber.expected_index.update({"nga": 0, "nga/screen": 5})
    fresh = add_tracks(loopback_pc(), 3, 3)
    try:
        for client in (viewer, attacker, newcomer):
            await client.connect()
            await client.join(meeting_id)
        published = await attacker.publish()  # microphone, camera, screen: allowed
        assert len(published["tracks"]) == 3
        await wait_until(lambda: frames_from(viewer, "nga") >= 10
                         and frames_from(viewer, "nga/screen") >= 5, 15, "camera and screen")
        live = site.server.app[LIVE_MEETINGS].live[meeting_id]
        recorded = len(site.server.app[RECORDINGS].list(meeting_id))
        # 50 more m-lines on the publishing connection, none declared; then a first offer
        # of six tracks from someone who published nothing yet.
        floods = [(attacker, add_tracks(attacker.publisher.pc, 50)), (newcomer, fresh)]
        for client, pc in floods:
            mark = len(client.messages)
            await client.send({"type": "publish", "sdp": await offer_of(pc), "tracks": []})
            error = await client.expect("error", after=mark)
            assert (error["code"], error["request"]) == ("too_many_tracks", "publish"), error
        by_name = {part.username: part for part in live.participants.values()}
        assert sorted(t.source for t in by_name["nga"].tracks.values()) == [
            "camera", "microphone", "screen"]
        assert by_name["phuong"].tracks == {}
        assert len(site.server.app[RECORDINGS].list(meeting_id)) == recorded
        published_to_viewer = [m for m in viewer.messages if m["type"] == "track_published"]
        assert len(published_to_viewer) == 3, published_to_viewer
        # The meeting goes on for the viewer.
        before = frames_from(viewer, "nga")
        await wait_until(lambda: frames_from(viewer, "nga") >= before + 10, 10,
                         "the camera to keep flowing")
        assert viewer.errors == []
    finally:
        await fresh.close()
        for client in (attacker, newcomer, viewer):
            await client.close()
