"""Rejected answer sections completed for aiortc, section layout, and codec steering."""

from __future__ import annotations

from aiortc.sdp import SessionDescription

from sfu.codecs import steering_rank
from sfu.sdp_sections import complete_rejected, keeps_layout, layout, split

OFFER = "\r\n".join([
    "v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", "a=group:BUNDLE 0 1",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0", "a=sendonly", "a=mid:0",
    "a=rtcp:9 IN IP4 0.0.0.0", "a=rtcp-mux", "a=rtpmap:111 opus/48000/2",
    "a=ice-ufrag:sfuu", "a=ice-pwd:sfupasswordsfupasswordsf", "a=fingerprint:sha-256 AA:BB",
    "a=setup:actpass",
    "m=video 9 UDP/TLS/RTP/SAVPF 102 103", "c=IN IP4 0.0.0.0", "a=sendonly", "a=mid:1",
    "a=rtcp:9 IN IP4 0.0.0.0", "a=rtcp-mux", "a=rtpmap:102 H264/90000",
    "a=rtcp-fb:102 nack pli", "a=fmtp:102 packetization-mode=1;profile-level-id=42e01f",
    "a=rtpmap:103 rtx/90000", "a=fmtp:103 apt=102",
    "a=ice-ufrag:sfuu", "a=ice-pwd:sfupasswordsfupasswordsf", "a=fingerprint:sha-256 AA:BB",
    "a=setup:actpass", ""])

# Firefox's answer: the fingerprint at session level, the H.264 video rejected.
ANSWER = "\r\n".join([
    "v=0", "o=mozilla 1 0 IN IP4 0.0.0.0", "s=-", "t=0 0",
    "a=fingerprint:sha-256 CC:DD", "a=group:BUNDLE 0", "a=msid-semantic:WMS *",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0", "a=recvonly", "a=mid:0",
    "a=rtcp-mux", "a=rtpmap:111 opus/48000/2", "a=ice-ufrag:ffu", "a=ice-pwd:ffpasswordffpassword",
    "a=setup:active",
    "m=video 0 UDP/TLS/RTP/SAVPF 120", "c=IN IP4 0.0.0.0", "a=inactive", "a=mid:1",
    "a=rtpmap:120 VP8/90000", ""])


def test_a_rejected_section_borrows_the_accepted_ones_transport_and_the_offers_codecs() -> None:
    completed, mids = complete_rejected(ANSWER, OFFER)
    assert mids == {"1"}
    parsed = SessionDescription.parse(completed)
    audio, video = parsed.media
    assert [g.items for g in parsed.group if g.semantic == "BUNDLE"] == [["0", "1"]]
    assert video.port == 0 and video.direction == "inactive" and video.rtcp_mux
    assert [c.mimeType for c in video.rtp.codecs] == ["video/H264", "video/rtx"]
    assert video.ice is not None and audio.ice is not None
    assert (video.ice.usernameFragment, video.ice.password) == ("ffu", "ffpasswordffpassword")
    assert video.dtls is not None and video.dtls.role == "client"
    assert [f.value for f in video.dtls.fingerprints] == ["CC:DD"]
    # The accepted section is left as it was.
    assert split(completed)[1][0].lines == split(ANSWER)[1][0].lines


def test_an_answer_without_rejected_sections_is_unchanged() -> None:
    accepted = ANSWER.replace("m=video 0 UDP/TLS/RTP/SAVPF 120", "m=video 9 UDP/TLS/RTP/SAVPF 120")
    assert complete_rejected(accepted, OFFER) == (accepted, set())


def test_an_answer_rejecting_everything_is_left_to_the_checks() -> None:
    everything = ANSWER.replace("m=audio 9", "m=audio 0")
    assert complete_rejected(everything, OFFER) == (everything, set())


def test_an_offer_may_add_sections_but_not_drop_move_or_retype_them() -> None:
    before = layout(OFFER)
    assert before == [("audio", "0"), ("video", "1")]
    assert keeps_layout([], before)
    assert keeps_layout(before, before + [("video", "2")])
    assert not keeps_layout(before, before[:1])
    assert not keeps_layout(before, before[::-1])
    assert not keeps_layout(before, [("audio", "0"), ("audio", "1")])


def test_steering_puts_what_someone_cannot_decode_last() -> None:
    order = ["VP8", "H264"]
    offered = ["video/H264", "video/VP8", "video/VP9"]
    assert sorted(offered, key=lambda m: steering_rank(m, order, set())) == [
        "video/VP8", "video/H264", "video/VP9"]
    assert sorted(offered, key=lambda m: steering_rank(m, ["H264", "VP8"], set())) == [
        "video/H264", "video/VP8", "video/VP9"]
    assert sorted(offered, key=lambda m: steering_rank(m, ["H264", "VP8"], {"video/h264"})) == [
        "video/VP8", "video/VP9", "video/H264"]
