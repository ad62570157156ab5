"""Pure rules that turn RTP payloads back into encoded frames, without decoding them.

- VP8 (RFC 7741): strip each packet's payload descriptor; a frame is every packet of
  one RTP timestamp, up to the marker bit.
- H.264 (RFC 6184): single NAL units, STAP-A and FU-A become an Annex B byte stream.
- Opus (RFC 7587): each packet is one frame, as is.

`FrameAssembler` puts packets back in sequence order (retransmissions arrive late),
emits complete frames only, and after a frame is lost drops everything up to the next
keyframe so that what is written always decodes.
"""

from __future__ import annotations

from dataclasses import dataclass

from .codecs import H264_FU_A, H264_IDR, H264_SPS, H264_STAP_A, vp8_is_keyframe_start

START_CODE = b"\x00\x00\x00\x01"
REORDER_WINDOW = 150
"""Packets after a missing one before the missing one is given up for lost..."""
REORDER_FRAMES = 8
"""...or complete frames after it (about a quarter of a second of video): enough for
a retransmission to arrive, and short after a pause, whose packets never come."""


class DepacketizeError(ValueError):
    """A payload that does not follow its codec's RTP payload format."""


# ---------------------------------------------------------------- VP8


def vp8_descriptor_length(payload: bytes) -> int:
    """Length of the VP8 payload descriptor at the start of an RTP payload."""
    if not payload:
        raise DepacketizeError("empty VP8 payload")
    pos = 1
    if payload[0] & 0x80:
        if len(payload) < 2:
            raise DepacketizeError("truncated VP8 payload descriptor")
        flags = payload[1]
        pos = 2
        if flags & 0x80:  # I: picture id
            if len(payload) <= pos:
                raise DepacketizeError("truncated VP8 picture id")
            pos += 2 if payload[pos] & 0x80 else 1
        if flags & 0x40:  # L: TL0PICIDX
            pos += 1
        if flags & 0x30:  # T or K
            pos += 1
    if pos > len(payload):
        raise DepacketizeError("truncated VP8 payload descriptor")
    return pos


def vp8_starts_frame(payload: bytes) -> bool:
    """S bit set and partition index 0: the first packet of a frame."""
    return bool(payload) and bool(payload[0] & 0x10) and (payload[0] & 0x07) == 0


def vp8_frame_size(frame: bytes) -> tuple[int, int] | None:
    """(width, height) from a VP8 keyframe's header, None for an interframe."""
    if len(frame) < 10 or frame[0] & 0x01 or frame[3:6] != b"\x9d\x01\x2a":
        return None
    width = int.from_bytes(frame[6:8], "little") & 0x3FFF
    height = int.from_bytes(frame[8:10], "little") & 0x3FFF
    return width, height


# ---------------------------------------------------------------- H.264


def h264_to_annexb(payload: bytes) -> bytes:
    """One H.264 RTP payload as Annex B bytes (an FU-A middle part has no start code)."""
    if not payload:
        raise DepacketizeError("empty H.264 payload")
    nal_type = payload[0] & 0x1F
    if 1 <= nal_type <= 23:
        return START_CODE + payload
    if nal_type == H264_STAP_A:
        out = bytearray()
        pos = 1
        while pos + 2 <= len(payload):
            size = int.from_bytes(payload[pos:pos + 2], "big")
            pos += 2
            if size == 0 or pos + size > len(payload):
                raise DepacketizeError("STAP-A unit overruns the packet")
            out += START_CODE + payload[pos:pos + size]
            pos += size
        return bytes(out)
    if nal_type == H264_FU_A:
        if len(payload) < 2:
            raise DepacketizeError("truncated FU-A header")
        fu_header = payload[1]
        if fu_header & 0x80:
            header = (payload[0] & 0xE0) | (fu_header & 0x1F)
            return START_CODE + bytes([header]) + payload[2:]
        return payload[2:]
    raise DepacketizeError(f"H.264 packetization type {nal_type} is not supported")


def h264_starts_frame(payload: bytes) -> bool:
    """False only for the middle or end of a fragmented NAL unit."""
    if not payload:
        return False
    if payload[0] & 0x1F == H264_FU_A:
        return len(payload) >= 2 and bool(payload[1] & 0x80)
    return True


def h264_is_keyframe(annexb: bytes) -> bool:
    """True when an Annex B access unit holds an IDR slice or a sequence parameter set."""
    pos = 0
    while True:
        pos = annexb.find(b"\x00\x00\x01", pos)
        if pos < 0 or pos + 3 >= len(annexb):
            return False
        if annexb[pos + 3] & 0x1F in (H264_IDR, H264_SPS):
            return True
        pos += 3


class _Bits:
    """Reads an H.264 RBSP bit by bit (Exp-Golomb codes included)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def bit(self) -> int:
        if self.pos >= len(self.data) * 8:
            raise DepacketizeError("truncated sequence parameter set")
        value = (self.data[self.pos // 8] >> (7 - self.pos % 8)) & 1
        self.pos += 1
        return value

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            value = (value << 1) | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise DepacketizeError("bad Exp-Golomb code")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        value = self.ue()
        return (value + 1) // 2 if value & 1 else -(value // 2)


def _unescape(nal: bytes) -> bytes:
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


HIGH_PROFILES = (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135)


def h264_sps_size(annexb: bytes) -> tuple[int, int] | None:
    """(width, height) from the first sequence parameter set of an access unit."""
    for nal in annexb.split(b"\x00\x00\x01"):
        if not nal or nal[0] & 0x1F != H264_SPS:
            continue
        try:
            return _sps_size(_unescape(nal[1:]))
        except DepacketizeError:
            return None
    return None


def _sps_size(rbsp: bytes) -> tuple[int, int]:
    r = _Bits(rbsp)
    profile = r.bits(8)
    r.bits(16)  # constraint flags, level
    r.ue()  # seq_parameter_set_id
    chroma_format = 1
    if profile in HIGH_PROFILES:
        chroma_format = r.ue()
        if chroma_format == 3:
            r.bit()
        r.ue()
        r.ue()
        r.bit()
        if r.bit():  # seq_scaling_matrix_present
            for i in range(8 if chroma_format != 3 else 12):
                if r.bit():
                    last, following = 8, 8
                    for _ in range(16 if i < 6 else 64):
                        if following:
                            following = (last + r.se() + 256) % 256
                        last = following or last
    r.ue()  # log2_max_frame_num_minus4
    poc_type = r.ue()
    if poc_type == 0:
        r.ue()
    elif poc_type == 1:
        r.bit()
        r.se()
        r.se()
        for _ in range(r.ue()):
            r.se()
    r.ue()  # max_num_ref_frames
    r.bit()
    width_mbs = r.ue() + 1
    height_units = r.ue() + 1
    frame_mbs_only = r.bit()
    if not frame_mbs_only:
        r.bit()
    r.bit()
    width, height = width_mbs * 16, height_units * 16 * (2 - frame_mbs_only)
    if r.bit():  # frame_cropping
        left, right, top, bottom = r.ue(), r.ue(), r.ue(), r.ue()
        crop_x = 2 if chroma_format in (1, 2) else 1
        crop_y = (2 if chroma_format == 1 else 1) * (2 - frame_mbs_only)
        width -= (left + right) * crop_x
        height -= (top + bottom) * crop_y
    return width, height


# ---------------------------------------------------------------- frames


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    data: bytes
    timestamp: int
    """The RTP timestamp of the frame (32-bit, as sent)."""
    keyframe: bool
    ssrc: int


_INCOMPLETE = object()


@dataclass(slots=True)
class _Packet:
    timestamp: int
    marker: bool
    payload: bytes
    ssrc: int


class FrameAssembler:
    """Reassembles the frames of one video stream (VP8 or H.264) from its RTP packets."""

    def __init__(self, codec: str, window: int = REORDER_WINDOW,
                 frames_window: int = REORDER_FRAMES) -> None:
        mime = codec.lower()
        if mime not in ("video/vp8", "video/h264"):
            raise ValueError(f"no frame assembly for {codec}")
        self.codec = mime
        self.window = window
        self.frames_window = frames_window
        self._packets: dict[int, _Packet] = {}
        self._next: int | None = None
        """Extended sequence number of the first packet of the next frame."""
        self._highest: int | None = None
        self._ssrc: int | None = None
        self.waiting_for_keyframe = True
        self.keyframe_wanted = False
        """Set when frames were dropped waiting for a keyframe; the caller clears it."""
        self.frames_dropped = 0

    def _extend(self, seq: int) -> int:
        """The sequence number extended beyond 16 bits, nearest the highest seen."""
        highest = self._highest
        if highest is None:
            return seq
        diff = (seq - highest) & 0xFFFF
        return highest + (diff - 0x10000 if diff >= 0x8000 else diff)

    def push(self, sequence_number: int, timestamp: int, marker: bool, payload: bytes,
             ssrc: int = 0) -> list[EncodedFrame]:
        if self._ssrc is not None and ssrc != self._ssrc:
            self.reset()  # a new source (e.g. the publisher restarted its encoder)
        self._ssrc = ssrc
        seq = self._extend(sequence_number)
        if self._next is not None and seq < self._next:
            return []  # too late: its frame was emitted or given up
        if self._next is None:
            self._next = seq
        previous = self._packets.get(seq - 1)
        in_order = self._highest is not None and seq == self._highest + 1
        if self._highest is None or seq > self._highest:
            self._highest = seq
        self._packets[seq] = _Packet(timestamp, marker, payload, ssrc)
        if in_order and not marker and previous is not None and previous.timestamp == timestamp:
            return []  # the middle of a frame, in order: nothing can be complete yet
        return self._drain()

    def reset(self) -> None:
        self._packets.clear()
        self._next = self._highest = None
        self.waiting_for_keyframe = True

    def _drain(self) -> list[EncodedFrame]:
        out: list[EncodedFrame] = []
        while self._next is not None:
            frame = self._take_frame()
            if frame is _INCOMPLETE:
                if not self._give_up_if_stale():
                    break
                continue
            if not isinstance(frame, EncodedFrame):
                continue  # a broken frame was skipped
            if frame.keyframe:
                self.waiting_for_keyframe = False
            if self.waiting_for_keyframe:
                self.frames_dropped += 1
                self.keyframe_wanted = True
                continue
            out.append(frame)
        return out

    def _take_frame(self) -> EncodedFrame | object | None:
        """The frame starting at `_next`: `_INCOMPLETE` while packets are missing, None
        when it is broken (and skipped)."""
        assert self._next is not None
        packets = self._packets
        seq = self._next
        while seq in packets and not packets[seq].payload:
            del packets[seq]  # padding between frames
            seq += 1
            self._next = seq
        first = packets.get(seq)
        if first is None:
            return _INCOMPLETE
        parts: list[_Packet] = []
        end = seq
        while True:
            packet = packets.get(end)
            if packet is None or packet.timestamp != first.timestamp:
                if packet is not None:
                    # the next frame began without a marker: this one is complete
                    end -= 1
                    break
                return _INCOMPLETE
            parts.append(packet)
            if packet.marker:
                break
            end += 1
        for number in range(seq, end + 1):
            del packets[number]
        self._next = end + 1
        return self._build(parts)

    def _build(self, parts: list[_Packet]) -> EncodedFrame | None:
        first = parts[0]
        try:
            if self.codec == "video/vp8":
                if not vp8_starts_frame(first.payload):
                    raise DepacketizeError("VP8 frame without its first packet")
                keyframe = vp8_is_keyframe_start(first.payload)
                data = b"".join(p.payload[vp8_descriptor_length(p.payload):] for p in parts)
            else:
                if not h264_starts_frame(first.payload):
                    raise DepacketizeError("H.264 frame without its first packet")
                data = b"".join(h264_to_annexb(p.payload) for p in parts if p.payload)
                keyframe = h264_is_keyframe(data)
        except DepacketizeError:
            self.waiting_for_keyframe = True
            self.keyframe_wanted = True
            self.frames_dropped += 1
            return None
        return EncodedFrame(data=data, timestamp=first.timestamp, keyframe=keyframe,
                            ssrc=first.ssrc)

    def _give_up_if_stale(self) -> bool:
        """When a packet is missing for too long, skip to the next frame start."""
        assert self._next is not None and self._highest is not None
        if self._highest - self._next < self.window and sum(
                1 for p in self._packets.values() if p.marker) < self.frames_window:
            return False
        later = sorted(s for s in self._packets if s > self._next)
        missing_ts = self._packets[self._next].timestamp if self._next in self._packets else None
        restart: int | None = None
        for number in later:
            packet = self._packets[number]
            previous = self._packets.get(number - 1)
            boundary = previous is None or previous.marker or (
                missing_ts is not None and packet.timestamp != missing_ts)
            if boundary and self._starts_frame(packet.payload):
                restart = number
                break
        for number in [s for s in self._packets if restart is None or s < restart]:
            del self._packets[number]
        self._next = restart if restart is not None else self._highest + 1
        self.waiting_for_keyframe = True
        self.keyframe_wanted = True
        self.frames_dropped += 1
        return restart is not None

    def _starts_frame(self, payload: bytes) -> bool:
        if self.codec == "video/vp8":
            return vp8_starts_frame(payload)
        return h264_starts_frame(payload)
