"""A participant whose browser cannot decode a codec, through the real server.

The viewer rejects H.264 sections as Firefox without H.264 does. It is told which
video it cannot show (track_unsupported), still hears that publisher and sees the
others, and a later joiner still reaches it. A refused answer blocks no later offer.
"""

from __future__ import annotations

import re

from tests.integration.conftest import Site, wait_until
from tests.integration.live.test_meeting_media import audio_from, frames_from, join_and_publish
from tests.integration.peers import H264Refuser, Publisher, Subscriber


async def test_the_page_is_told_which_video_it_cannot_show(site: Site) -> None:
    tokens = {n: site.account(n) for n in ("phuc", "quang", "rang")}
    meeting_id = site.meeting("phuc", ["quang", "rang"])
    h264 = site.client("phuc", tokens["phuc"], 2, Publisher(index=2, video_codec="video/H264"))
    viewer = site.client("quang", tokens["quang"], 3)
    viewer.subscriber = H264Refuser()
    viewer.subscriber.expected_index["rang"] = 4
    late = site.client("rang", tokens["rang"], 4)
    try:
        await join_and_publish(h264, meeting_id)
        await join_and_publish(viewer, meeting_id)
        told = await viewer.expect("track_unsupported", timeout=15)
        camera = next(t for t in h264.messages if t["type"] == "published")["tracks"]
        assert told["producer_id"] == next(t["producer_id"] for t in camera
                                           if t["kind"] == "video")
        assert (told["participant_id"], told["kind"], told["source"]) == (
            h264.participant_id, "video", "camera")
        await wait_until(lambda: audio_from(viewer, "phuc") >= 50, 15, "phuc's audio")
        assert not viewer.errors

        await join_and_publish(late, meeting_id)
        await wait_until(lambda: frames_from(viewer, "rang") >= 20
                         and audio_from(viewer, "rang") >= 50, 20, "the late joiner")
        assert set(viewer.subscriber.video["rang"].indexes) == {4}
        assert frames_from(viewer, "phuc") == 0
        assert len([m for m in viewer.messages if m["type"] == "track_unsupported"]) == 1
        assert not viewer.errors
    finally:
        for client in (h264, viewer, late):
            await client.close()


class BreaksFirstAnswer(Subscriber):
    """Sends its first answer without ICE credentials, then answers properly."""

    def __init__(self) -> None:
        super().__init__()
        self.broken = False

    async def answer(self, offer_sdp: str) -> str:
        answer = await super().answer(offer_sdp)
        if not self.broken:
            self.broken = True
            return re.sub(r"a=ice-(ufrag|pwd):[^\r\n]*\r\n", "", answer)
        return answer


async def test_a_refused_answer_blocks_no_later_offer(site: Site) -> None:
    tokens = {n: site.account(n) for n in ("son", "tam", "uyen")}
    meeting_id = site.meeting("son", ["tam", "uyen"])
    first = site.client("son", tokens["son"], 1)
    viewer = site.client("tam", tokens["tam"], 2)
    viewer.subscriber = BreaksFirstAnswer()
    viewer.subscriber.expected_index.update(son=1, uyen=3)
    late = site.client("uyen", tokens["uyen"], 3)
    try:
        await join_and_publish(first, meeting_id)
        await join_and_publish(viewer, meeting_id)
        refused = await viewer.expect("error", timeout=15)
        assert refused["code"] == "invalid_sdp" and refused["request"] == "answer"
        # Someone joins: the viewer gets a new offer, and its answer now works.
        await join_and_publish(late, meeting_id)
        await wait_until(lambda: frames_from(viewer, "son") >= 20
                         and frames_from(viewer, "uyen") >= 20, 20, "both videos")
        assert len([m for m in viewer.messages if m["type"] == "offer"]) == 2
    finally:
        for client in (first, viewer, late):
            await client.close()
