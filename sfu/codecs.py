"""Pure codec rules: keyframe detection in RTP payloads, and codec matching.

No aiortc objects here, so these are tested without an event loop.
"""

from __future__ import annotations


def vp8_is_keyframe_start(payload: bytes) -> bool:
    """True when this VP8 RTP payload starts a keyframe (RFC 7741).

    The VP8 payload header follows the payload descriptor; its bit 0 (P) is 0 on a
    keyframe. Only the first packet of a frame (S=1, partition index 0) carries it.
    """
    if len(payload) < 1:
        return False
    first = payload[0]
    extended = first & 0x80
    start = first & 0x10
    partition = first & 0x07
    if not start or partition != 0:
        return False
    pos = 1
    if extended:
        if len(payload) < 2:
            return False
        flags = payload[1]
        pos = 2
        if flags & 0x80:  # I: picture id present
            if len(payload) <= pos:
                return False
            pos += 2 if payload[pos] & 0x80 else 1
        if flags & 0x40:  # L: TL0PICIDX present
            pos += 1
        if flags & 0x30:  # T or K: TID/KEYIDX byte present
            pos += 1
    if len(payload) <= pos:
        return False
    return (payload[pos] & 0x01) == 0


H264_IDR = 5
H264_SPS = 7
H264_STAP_A = 24
H264_FU_A = 28


def h264_is_keyframe_start(payload: bytes) -> bool:
    """True when this H.264 RTP payload (RFC 6184) starts an IDR picture or its SPS."""
    if len(payload) < 1:
        return False
    nal_type = payload[0] & 0x1F
    if nal_type in (H264_IDR, H264_SPS):
        return True
    if nal_type == H264_FU_A:
        return len(payload) >= 2 and bool(payload[1] & 0x80) and (payload[1] & 0x1F) == H264_IDR
    if nal_type == H264_STAP_A:
        pos = 1
        while pos + 2 < len(payload):
            size = int.from_bytes(payload[pos:pos + 2], "big")
            pos += 2
            if size == 0 or pos + size > len(payload):
                return False
            if payload[pos] & 0x1F in (H264_IDR, H264_SPS):
                return True
            pos += size
    return False


def is_keyframe_start(mime_type: str, payload: bytes) -> bool:
    mime = mime_type.lower()
    if mime == "video/vp8":
        return vp8_is_keyframe_start(payload)
    if mime == "video/h264":
        return h264_is_keyframe_start(payload)
    return True  # audio, or a codec without keyframes: never gate it


def steering_rank(mime_type: str, video_codecs: list[str],
                  undecodable: set[str]) -> tuple[int, int]:
    """Where a publisher's video codec goes in the SFU's answer (lowest first).

    Codecs some participant cannot decode (`undecodable`, lowercase MIME types) go
    after those everyone can; then the order of `video_codecs` (names such as "VP8");
    codecs it does not name go last. The publisher sends the first codec of the answer.
    """
    mime = mime_type.lower()
    names = [f"video/{name}".lower() for name in video_codecs]
    return (int(mime in undecodable), names.index(mime) if mime in names else len(names))
