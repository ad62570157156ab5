"""The aiortc adapter refuses to run when a hooked internal has moved."""

from __future__ import annotations

import pytest
from aiortc import RTCRtpSender
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from sfu import aiortc_adapter, aiortc_receive
from sfu.aiortc_adapter import AiortcIncompatible, check_compatibility
from sfu.aiortc_rtp import HeaderTemplate


async def test_installed_aiortc_passes() -> None:
    await check_compatibility()


async def test_a_moved_internal_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(RTCRtpSender, "_send_keyframe")
    with pytest.raises(AiortcIncompatible, match=r"RTCRtpSender\._send_keyframe is missing"):
        await check_compatibility()


async def test_a_moved_internal_of_the_test_peers_is_named(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from aiortc.codecs import vpx

    monkeypatch.delattr(RTCRtpSender, "_retransmit")
    original = vpx.Vp8Encoder.__init__

    def renamed(self: vpx.Vp8Encoder) -> None:
        original(self)
        del self._Vp8Encoder__target_bitrate  # type: ignore[attr-defined]

    monkeypatch.setattr(vpx.Vp8Encoder, "__init__", renamed)
    with pytest.raises(AiortcIncompatible,
                       match=r"RTCRtpSender\._retransmit is missing; "
                             r"Vp8Encoder\._Vp8Encoder__target_bitrate is missing"):
        await check_compatibility()


async def test_another_version_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aiortc_adapter.aiortc, "__version__", "9.9.9")
    with pytest.raises(AiortcIncompatible, match="9.9.9.*1.16.0"):
        await check_compatibility()


def test_host_addresses_are_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    import aioice.ice

    monkeypatch.setattr(aioice.ice, "get_host_addresses", aioice.ice.get_host_addresses)
    aiortc_adapter.use_host_addresses(["127.0.0.1", "::1"])
    assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False) == ["127.0.0.1"]
    assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True) == ["127.0.0.1", "::1"]


EXTENSION_URIS = {
    "mid": "urn:ietf:params:rtp-hdrext:sdes:mid",
    "abs": "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "level": "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
}


def _extension_map(ids: dict[str, int]) -> HeaderExtensionsMap:
    extensions = HeaderExtensionsMap()
    extensions.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=i, uri=EXTENSION_URIS[name])
        for name, i in ids.items()]))
    return extensions


@pytest.mark.parametrize("ids", [
    {"mid": 4, "abs": 2, "level": 1},   # a browser's audio m-line
    {"mid": 4, "abs": 2},               # video
    {"abs": 3},                         # no MID negotiated
    {},                                 # no extensions at all
    {"mid": 15, "abs": 2},              # two-byte extensions: aiortc's serializer
])
@pytest.mark.parametrize("mid", ["0", "12", None])
@pytest.mark.parametrize("level", [None, (True, 42), (False, 127)])
def test_header_template_writes_what_aiortc_writes(ids: dict[str, int], mid: str | None,
                                                   level: tuple[bool, int] | None) -> None:
    extensions = _extension_map(ids)
    template = HeaderTemplate(extensions, mid, ssrc=0x01020304)
    for seq, ts, marker, ntp in [(0, 0, 0, 0), (65535, 2**32 - 1, 1, 2**64 - 1),
                                 (1234, 567890, 1, 0x0123456789ABCDEF)]:
        expected = RtpPacket(payload_type=111, marker=marker, sequence_number=seq,
                             timestamp=ts, ssrc=0x01020304, payload=b"\x10payload")
        expected.extensions.mid = mid
        expected.extensions.abs_send_time = (ntp >> 14) & 0x00FFFFFF
        expected.extensions.audio_level = level
        wire = template.serialize(111, marker, seq, ts, b"\x10payload", level, ntp)
        assert wire == expected.serialize(extensions)
        parsed = RtpPacket.parse(wire, extensions)
        assert (parsed.sequence_number, parsed.timestamp, parsed.marker) == (seq, ts, marker)


async def test_losses_of_one_moment_are_asked_for_in_one_nack() -> None:
    """A burst of losses gives one NACK listing what is still missing after the delay,
    and a packet that only came late (reordered) is not asked for."""
    import asyncio

    from aiortc import RTCPeerConnection
    from aiortc.rtcrtpparameters import RTCRtpCodecParameters
    from aiortc.rtcrtpreceiver import NackGenerator

    pc = RTCPeerConnection()
    receiver = pc.addTransceiver("video", direction="recvonly").receiver
    receiver._RTCRtpReceiver__codecs = {  # type: ignore[attr-defined]
        96: RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)}
    receiver._RTCRtpReceiver__nack_generator = NackGenerator()  # type: ignore[attr-defined]
    sent: list[list[int]] = []

    async def send_rtcp_nack(media_ssrc: int, lost: list[int]) -> None:
        sent.append(lost)

    receiver._send_rtcp_nack = send_rtcp_nack  # type: ignore[method-assign]
    forwarded: list[int] = []
    tap = aiortc_receive.ReceiveTap(receiver, lambda p: forwarded.append(p.sequence_number),
                                    ssrcs=[1234])
    for seq in (1, 2, 5, 3, 8, 9, 12):  # 3, 4, 6, 7, 10, 11 missing; then 3 arrives late
        tap.receive(RtpPacket(payload_type=96, sequence_number=seq, ssrc=1234), 0)
    assert sent == []
    await asyncio.sleep(aiortc_receive.NACK_DELAY_S * 3)
    assert sent == [[4, 6, 7, 10, 11]]
    assert tap.nacks_sent == 1 and forwarded == [1, 2, 5, 3, 8, 9, 12]
    tap.close()
    await pc.close()


def test_direct_srtp_protects_as_pylibsrtp_does() -> None:
    """Same bytes as `Session.protect` (for a twin session with the same key), and what
    it protects unprotects back; a tampered packet is refused."""
    import os

    import pylibsrtp

    from sfu.aiortc_rtp import DirectSrtp

    key = os.urandom(30)

    def session(direction: int) -> pylibsrtp.Session:
        return pylibsrtp.Session(policy=pylibsrtp.Policy(
            key=key, ssrc_type=direction,
            srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80))

    direct = DirectSrtp(session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND))
    twin = session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND)
    receiving = DirectSrtp(session(pylibsrtp.Policy.SSRC_ANY_INBOUND))
    payload = os.urandom(1100)
    for seq in range(1, 4):
        header = RtpPacket(payload_type=96, sequence_number=seq, timestamp=seq * 3000,
                           ssrc=0x01020304).serialize(HeaderExtensionsMap())
        protected = direct.protect(header, payload)
        assert protected == twin.protect(header + payload)
        assert receiving.unprotect(protected) == header + payload
    fresh = direct.protect(RtpPacket(payload_type=96, sequence_number=4, ssrc=0x01020304)
                           .serialize(HeaderExtensionsMap()), payload)
    with pytest.raises(pylibsrtp.Error):  # its authentication tag no longer matches
        receiving.unprotect(fresh[:-1] + bytes([fresh[-1] ^ 1]))
    with pytest.raises(ValueError, match="too long"):
        direct.protect(header, os.urandom(1500))


async def test_a_moved_srtp_internal_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    import pylibsrtp

    original = pylibsrtp.Session.__init__

    def without_buffer(self: pylibsrtp.Session, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        del self._buffer

    monkeypatch.setattr(pylibsrtp.Session, "__init__", without_buffer)
    with pytest.raises(AiortcIncompatible, match=r"pylibsrtp\.Session\._buffer is missing"):
        await check_compatibility()
