"""Frame assembly from RTP payloads: VP8 descriptors, H.264 to Annex B, reordering,
loss and the wait for the next keyframe."""

from __future__ import annotations

import pytest

from sfu.depacketize import (
    START_CODE,
    DepacketizeError,
    FrameAssembler,
    h264_is_keyframe,
    h264_sps_size,
    h264_to_annexb,
    vp8_descriptor_length,
    vp8_frame_size,
)


def vp8_keyframe_data(width: int = 320, height: int = 240) -> bytes:
    tag = bytes([0x10, 0x02, 0x00])  # P bit 0: a keyframe
    return tag + b"\x9d\x01\x2a" + width.to_bytes(2, "little") + height.to_bytes(2, "little") \
        + b"K" * 20


def vp8_packets(frame: bytes, picture_id: int, size: int = 12) -> list[bytes]:
    """Split one VP8 frame into RTP payloads with an extended descriptor (15-bit id)."""
    chunks = [frame[i:i + size] for i in range(0, len(frame), size)]
    out = []
    for i, chunk in enumerate(chunks):
        first = 0x80 | (0x10 if i == 0 else 0)
        descriptor = bytes([first, 0x80, 0x80 | (picture_id >> 8), picture_id & 0xFF])
        out.append(descriptor + chunk)
    return out


def interframe(n: int) -> bytes:
    return bytes([0x01, 0x00, 0x00]) + bytes([n]) * 30


def feed(assembler: FrameAssembler, frames: list[tuple[int, bytes]], order: list[int] | None
         = None, drop: set[int] | None = None) -> list[bytes]:
    packets = []
    seq = 65530  # wraps around 16 bits on the way
    for ts, data in frames:
        parts = vp8_packets(data, ts)
        for i, payload in enumerate(parts):
            packets.append(((seq) & 0xFFFF, ts * 3000, i == len(parts) - 1, payload))
            seq += 1
    indexes = order if order is not None else list(range(len(packets)))
    out: list[bytes] = []
    for i in indexes:
        if drop and i in drop:
            continue
        number, timestamp, marker, payload = packets[i]
        out.extend(f.data for f in assembler.push(number, timestamp, marker, payload, 7))
    return out


def test_vp8_descriptor_and_keyframe_size() -> None:
    assert vp8_descriptor_length(bytes([0x10, 0xAA])) == 1
    assert vp8_descriptor_length(bytes([0x90, 0x80, 0x81, 0x02, 0xAA])) == 4
    assert vp8_descriptor_length(bytes([0x90, 0xE0, 0x05, 0x01, 0x20, 0xAA])) == 5
    with pytest.raises(DepacketizeError):
        vp8_descriptor_length(bytes([0x90]))
    assert vp8_frame_size(vp8_keyframe_data(640, 360)) == (640, 360)
    assert vp8_frame_size(interframe(1)) is None


def test_vp8_frames_come_out_whole_and_in_order_despite_reordering() -> None:
    frames = [(0, vp8_keyframe_data()), (1, interframe(1)), (2, interframe(2))]
    in_order = feed(FrameAssembler("video/VP8"), frames)
    assert in_order == [f for _, f in frames]
    count = sum(len(vp8_packets(f, 0)) for _, f in frames)
    shuffled = list(range(count))
    shuffled[1], shuffled[3] = shuffled[3], shuffled[1]
    shuffled[5], shuffled[4] = shuffled[4], shuffled[5]
    assert feed(FrameAssembler("video/VP8"), frames, order=shuffled) == [f for _, f in frames]


def test_video_waits_for_a_keyframe_and_a_lost_packet_restarts_the_wait() -> None:
    frames = [(0, interframe(9)), (1, vp8_keyframe_data()), (2, interframe(2)),
              (3, interframe(3)), (4, vp8_keyframe_data(640, 480)), (5, interframe(5))]
    assembler = FrameAssembler("video/VP8", window=4)
    sizes = [len(vp8_packets(f, 0)) for _, f in frames]
    lost = sum(sizes[:2])  # first packet of frame 2
    out = feed(assembler, frames, drop={lost})
    assert out == [frames[1][1], frames[4][1], frames[5][1]]
    assert assembler.keyframe_wanted and assembler.frames_dropped >= 2


def test_h264_single_stap_a_and_fu_a_become_annex_b() -> None:
    sps, pps, idr = bytes([0x67, 1, 2]), bytes([0x68, 3]), bytes([0x65]) + b"x" * 10
    stap = bytes([0x78]) + len(sps).to_bytes(2, "big") + sps + len(pps).to_bytes(2, "big") + pps
    assert h264_to_annexb(stap) == START_CODE + sps + START_CODE + pps
    fu_start = bytes([0x7C, 0x85]) + idr[1:6]
    fu_end = bytes([0x7C, 0x45]) + idr[6:]
    assert h264_to_annexb(fu_start) + h264_to_annexb(fu_end) == START_CODE + idr
    assert h264_to_annexb(bytes([0x41, 9])) == START_CODE + bytes([0x41, 9])
    assert h264_is_keyframe(START_CODE + idr) and not h264_is_keyframe(START_CODE + b"\x41\x00")
    with pytest.raises(DepacketizeError):
        h264_to_annexb(bytes([0x78, 0, 9, 1]))
    assembler = FrameAssembler("video/H264")
    got = assembler.push(1, 900, False, stap, 1) + assembler.push(2, 900, False, fu_start, 1) \
        + assembler.push(3, 900, True, fu_end, 1)
    assert len(got) == 1 and got[0].keyframe
    assert got[0].data == START_CODE + sps + START_CODE + pps + START_CODE + idr


def test_h264_picture_size_comes_from_the_sequence_parameter_set() -> None:
    import av
    import numpy as np

    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 352, 198, "yuv420p"
    encoder.options = {"tune": "zerolatency"}
    frame = av.VideoFrame.from_ndarray(np.zeros((198, 352, 3), np.uint8), format="rgb24")
    packets = [bytes(p) for p in encoder.encode(frame.reformat(format="yuv420p"))]
    packets += [bytes(p) for p in encoder.encode(None)]
    assert h264_sps_size(packets[0]) == (352, 198)
    assert h264_sps_size(START_CODE + b"\x41\x00") is None
