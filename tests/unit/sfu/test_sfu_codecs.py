"""Keyframe detection on real encoder output, and on hand-built payload headers."""

from __future__ import annotations

import fractions

import numpy as np
from aiortc.codecs import get_encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from av import VideoFrame

from sfu.codecs import h264_is_keyframe_start, is_keyframe_start, vp8_is_keyframe_start


def encoded_payloads(mime: str, force_keyframe_at: int) -> list[tuple[int, list[bytes]]]:
    params = {"packetization-mode": "1", "level-asymmetry-allowed": "1",
              "profile-level-id": "42e01f"} if mime == "video/H264" else {}
    encoder = get_encoder(RTCRtpCodecParameters(mimeType=mime, clockRate=90000, payloadType=96,
                                                parameters=params))
    frames = []
    for i in range(force_keyframe_at + 3):
        img = np.full((240, 320, 3), (i * 7) % 255, dtype=np.uint8)
        frame = VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = i * 3000
        frame.time_base = fractions.Fraction(1, 90000)
        payloads, _ = encoder.encode(frame, force_keyframe=(i == force_keyframe_at))
        frames.append((i, payloads))
    return frames


def test_vp8_keyframes_found_in_encoder_output() -> None:
    frames = encoded_payloads("video/VP8", force_keyframe_at=5)
    starts = [i for i, payloads in frames if vp8_is_keyframe_start(payloads[0])]
    assert starts == [0, 5]
    # only the first packet of a frame can start a keyframe
    for _, payloads in frames:
        assert not any(vp8_is_keyframe_start(p) for p in payloads[1:])


def test_h264_keyframes_found_in_encoder_output() -> None:
    frames = encoded_payloads("video/H264", force_keyframe_at=4)
    starts = [i for i, payloads in frames if h264_is_keyframe_start(payloads[0])]
    assert starts[0] == 0 and 4 in starts
    assert 1 not in starts and 2 not in starts


def test_vp8_descriptor_variants() -> None:
    # S=1, PID=0, no extension; payload header P bit 0 -> keyframe
    assert vp8_is_keyframe_start(bytes([0x10, 0x00]))
    assert not vp8_is_keyframe_start(bytes([0x10, 0x01]))
    # not the start of a partition
    assert not vp8_is_keyframe_start(bytes([0x00, 0x00]))
    # X=1 with I (15-bit picture id), L and T present
    assert vp8_is_keyframe_start(bytes([0x90, 0xE0, 0x80, 0x01, 0x05, 0x20, 0x00]))
    assert not vp8_is_keyframe_start(bytes([0x90, 0xE0, 0x80, 0x01, 0x05, 0x20, 0x01]))
    # truncated
    assert not vp8_is_keyframe_start(bytes([0x90]))
    assert not vp8_is_keyframe_start(b"")


def test_h264_packetizations() -> None:
    assert h264_is_keyframe_start(bytes([0x65, 0x88]))          # single IDR NAL
    assert not h264_is_keyframe_start(bytes([0x41, 0x9A]))      # single non-IDR slice
    assert h264_is_keyframe_start(bytes([0x7C, 0x85, 0x00]))    # FU-A start of IDR
    assert not h264_is_keyframe_start(bytes([0x7C, 0x05, 0x00]))  # FU-A middle of IDR
    sps, pps = bytes([0x67, 0x42, 0x00]), bytes([0x68, 0xCE])
    stap = bytes([0x78]) + len(sps).to_bytes(2, "big") + sps + len(pps).to_bytes(2, "big") + pps
    assert h264_is_keyframe_start(stap)
    assert not h264_is_keyframe_start(bytes([0x78, 0x00, 0x09, 0x68]))  # size past the end


def test_audio_is_never_gated() -> None:
    assert is_keyframe_start("audio/opus", b"\x00")
