"""RTP on the wire through aiortc's transports: what the forwarding path writes with,
and how it reads what a publisher sends.

The send side of the aiortc internals `aiortc_adapter.check_compatibility()` checks
at start-up (the RTP-side pieces of `RTCRtpSender` and `RTCDtlsTransport`):
- `HeaderTemplate` builds a sender's RTP headers from prepared bytes, exactly as
  `RtpPacket.serialize` would;
- `DirectSrtp` SRTP-protects and unprotects straight through libsrtp;
- `ForwardedHistory` keeps forwarded packets for NACKs without building packets;
- `PacketWriter` writes one forwarded packet on a subscriber's transport;
- `RtpParser` parses a publisher's RTP as `RtpPacket.parse` does, in fewer steps.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import pylibsrtp
from aiortc import RTCRtpSender
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtp import RTP_HISTORY_SIZE, HeaderExtensions, HeaderExtensionsMap, RtpPacket
from pylibsrtp import SRTP_MAX_TRAILER_LEN
from pylibsrtp._binding import ffi as srtp_ffi
from pylibsrtp._binding import lib as srtp_lib

CONNECTED = DtlsState.CONNECTED
_RTP_HEADER = struct.Struct("!BBHII")
_RTP_HEADER_ONE_BYTE_EXT = struct.Struct("!BBHIIHH")
_ONE_BYTE_PROFILE = 0xBEDE


class HeaderTemplate:
    """Builds RTP packets for one sender exactly as `RtpPacket.serialize` would.

    The sender's MID, SSRC and header-extension ids do not change while it sends, so
    the extension block is assembled from prepared bytes instead of aiortc's general
    serializer, which rebuilds a list of extensions for every packet.
    """

    __slots__ = ("_ext_map", "mid", "ssrc", "_fast", "_mid_element", "_abs_send_time_byte",
                 "_audio_level_byte")

    def __init__(self, ext_map: HeaderExtensionsMap, mid: str | None, ssrc: int) -> None:
        self._ext_map = ext_map
        self.mid = mid
        self.ssrc = ssrc
        ids = ext_map._HeaderExtensionsMap__ids  # type: ignore[attr-defined]
        mid_bytes = mid.encode() if mid and ids.mid else b""
        used = [i for i in (ids.mid if mid_bytes else None, ids.abs_send_time, ids.audio_level)
                if i]
        # RFC 8285 one-byte extensions; anything else is rare and takes aiortc's path.
        self._fast = all(i <= 14 for i in used) and len(mid_bytes) <= 16
        self._mid_element = (bytes([(ids.mid << 4) | (len(mid_bytes) - 1)]) + mid_bytes
                             if mid_bytes else b"")
        self._abs_send_time_byte: int | None = (
            (ids.abs_send_time << 4) | 2 if ids.abs_send_time else None)
        self._audio_level_byte: int | None = (
            ids.audio_level << 4 if ids.audio_level else None)

    @property
    def fast(self) -> bool:
        """True when `header` can build this sender's headers (one-byte extensions)."""
        return self._fast

    def serialize(self, payload_type: int, marker: int, seq: int, timestamp: int,
                  payload: bytes, audio_level: tuple[bool, int] | None, ntp_time: int) -> bytes:
        if not self._fast:
            packet = RtpPacket(payload_type=payload_type, marker=marker, sequence_number=seq,
                               timestamp=timestamp, ssrc=self.ssrc, payload=payload)
            packet.extensions.mid = self.mid
            packet.extensions.abs_send_time = (ntp_time >> 14) & 0x00FFFFFF
            packet.extensions.audio_level = audio_level
            return packet.serialize(self._ext_map)
        return self.header(payload_type, marker, seq, timestamp, audio_level, ntp_time) + payload

    def header(self, payload_type: int, marker: int, seq: int, timestamp: int,
               audio_level: tuple[bool, int] | None, ntp_time: int) -> bytes:
        """The RTP header with its extension block; only when `fast`."""
        ext = self._mid_element
        if self._abs_send_time_byte is not None:
            t = (ntp_time >> 14) & 0x00FFFFFF
            ext += bytes((self._abs_send_time_byte, t >> 16, (t >> 8) & 0xFF, t & 0xFF))
        if audio_level is not None and self._audio_level_byte is not None:
            ext += bytes((self._audio_level_byte,
                          (0x80 if audio_level[0] else 0) | (audio_level[1] & 0x7F)))
        second = (marker << 7) | payload_type
        if not ext:
            return _RTP_HEADER.pack(0x80, second, seq, timestamp, self.ssrc)
        ext += b"\x00" * (-len(ext) % 4)
        return _RTP_HEADER_ONE_BYTE_EXT.pack(0x90, second, seq, timestamp, self.ssrc,
                                             _ONE_BYTE_PROFILE, len(ext) >> 2) + ext


class DirectSrtp:
    """SRTP protection of RTP with one of a transport's sessions, straight from its parts.

    `pylibsrtp.Session.protect` and `unprotect` check their argument, allocate a
    length cell and copy the packet in and out for every call. These write into the
    session's own buffer and call libsrtp on it: the same protection, without the
    allocation, and `protect` takes header and payload apart, sparing one copy.
    """

    __slots__ = ("session", "_context", "_cdata", "_buffer", "_capacity", "_length")

    def __init__(self, session: pylibsrtp.Session) -> None:
        self.session = session
        self._context = session._srtp[0]
        self._cdata = session._cdata
        self._buffer = session._buffer
        self._capacity = len(session._buffer) - SRTP_MAX_TRAILER_LEN
        self._length = srtp_ffi.new("int *")

    def protect(self, header: bytes, payload: bytes) -> bytes:
        size = len(header)
        end = size + len(payload)
        if end > self._capacity:
            return self.session.protect(header + payload)  # raises "packet is too long"
        buffer = self._buffer
        buffer[0:size] = header
        buffer[size:end] = payload
        return self._apply(srtp_lib.srtp_protect, end)

    def unprotect(self, data: bytes) -> bytes:
        """The RTP packet inside SRTP `data`; pylibsrtp.Error when it does not verify."""
        end = len(data)
        if end > self._capacity:
            return self.session.unprotect(data)  # raises "packet is too long"
        self._buffer[0:end] = data
        return self._apply(srtp_lib.srtp_unprotect, end)

    def _apply(self, function: Any, end: int) -> bytes:
        """Run libsrtp's `function` on the first `end` bytes of the buffer."""
        length = self._length
        length[0] = end
        rc = function(self._context, self._cdata, length)
        if rc:
            raise pylibsrtp.Error(f"libsrtp failed with status {rc}")
        result: bytes = self._buffer[0:length[0]]
        return result


Kept = tuple[int, int, int, int, bytes]
"""A forwarded packet as the history keeps it: payload type, marker, seq, timestamp,
payload."""


class ForwardedHistory(dict[int, "RtpPacket | Kept"]):
    """A sender's retransmission history that keeps forwarded packets as plain tuples.

    aiortc's sender looks a lost packet up with `get` when a NACK comes; only then is
    the `RtpPacket` built, instead of for every packet forwarded.
    """

    __slots__ = ("ssrc", "mid")

    def __init__(self, ssrc: int, mid: str | None) -> None:
        super().__init__()
        self.ssrc = ssrc
        self.mid = mid

    def get(self, key: int, default: Any = None) -> Any:
        kept = super().get(key, default)
        if not isinstance(kept, tuple):
            return kept
        payload_type, marker, seq, timestamp, payload = kept
        packet = RtpPacket(payload_type=payload_type, marker=marker, sequence_number=seq,
                           timestamp=timestamp, ssrc=self.ssrc, payload=payload)
        packet.extensions.mid = self.mid
        return packet


class PacketWriter:
    """Writes forwarded packets on one sender's transport, keeping the sender's books.

    Writing is synchronous: build the header from the sender's `HeaderTemplate`,
    SRTP-protect it with the DTLS transport's context and hand the datagram to the
    nominated ICE pair's socket, as aiortc's `_send_rtp` would through four awaits.
    What each packet needs (the socket's `sendto`, the SRTP context) is looked up
    once, when the transport connects, and again only if the nominated pair changes.
    """

    __slots__ = ("_sender", "_dtls", "_nominated", "_history", "_template", "mid", "ssrc",
                 "_pair", "_sendto", "_address", "_protector")

    def __init__(self, sender: RTCRtpSender) -> None:
        self._sender = sender
        self._dtls = sender.transport
        self._nominated: dict[int, Any] = self._dtls.transport._connection._nominated
        self.mid: str | None = sender._RTCRtpSender__mid  # type: ignore[attr-defined]
        self.ssrc = int(sender._ssrc)
        history = sender._RTCRtpSender__rtp_history  # type: ignore[attr-defined]
        if not isinstance(history, ForwardedHistory):
            history = ForwardedHistory(self.ssrc, self.mid)
            sender._RTCRtpSender__rtp_history = history  # type: ignore[attr-defined]
        self._history: ForwardedHistory = history
        self._template = HeaderTemplate(
            sender._RTCRtpSender__rtp_header_extensions_map,  # type: ignore[attr-defined]
            self.mid, self.ssrc)
        self._pair: Any = None
        self._sendto: Callable[[bytes, tuple[str, int]], None] | None = None
        self._address: tuple[str, int] = ("", 0)
        self._protector: DirectSrtp | None = None

    def _attach(self) -> None:
        """Take the nominated pair's socket and the SRTP context; ConnectionError if
        there is no pair to send on."""
        pair = self._nominated.get(1)
        if pair is None or pair.protocol.transport is None:
            raise ConnectionError("no nominated ICE pair")
        self._pair, self._address = pair, pair.remote_addr
        self._sendto = pair.protocol.transport.sendto
        session = self._dtls._tx_srtp
        if self._protector is None or self._protector.session is not session:
            self._protector = DirectSrtp(session)

    def write(self, payload_type: int, marker: int, seq: int, timestamp: int, payload: bytes,
              audio_level: tuple[bool, int] | None, ntp_time: int) -> int:
        """Send one packet; return the number of bytes of payload sent.

        Raises ConnectionError when the transport is not (or no longer) connected.
        """
        if self._dtls._state is not CONNECTED:
            raise ConnectionError("transport not connected")
        if self._nominated.get(1) is not self._pair:
            self._attach()
        template = self._template
        if template.fast:
            data = self._protector.protect(  # type: ignore[union-attr]
                template.header(payload_type, marker, seq, timestamp, audio_level, ntp_time),
                payload)
        else:
            data = self._dtls._tx_srtp.protect(template.serialize(
                payload_type, marker, seq, timestamp, payload, audio_level, ntp_time))
        self._sendto(data, self._address)  # type: ignore[misc]
        # Kept for retransmission on NACK (aiortc wraps it in RTX when negotiated).
        self._history[seq % RTP_HISTORY_SIZE] = (payload_type, marker, seq, timestamp, payload)
        size = len(payload)
        sender = self._sender
        sender._RTCRtpSender__ntp_timestamp = ntp_time  # type: ignore[attr-defined]
        sender._RTCRtpSender__rtp_timestamp = timestamp  # type: ignore[attr-defined]
        sender._RTCRtpSender__packet_count += 1  # type: ignore[attr-defined]
        sender._RTCRtpSender__octet_count += size  # type: ignore[attr-defined]
        return size


_ONE_BYTE_EXTENDED = 0x90
"""First byte of an RTP packet with version 2, header extension, no padding, no CSRC."""


class RtpParser:
    """Parses RTP as `RtpPacket.parse` does, with one transport's extension map.

    What a WebRTC publisher sends (no padding or CSRC, one-byte extensions of which
    the forwarding reads MID, abs-send-time and the audio level) is parsed with one
    pass over the extension block; anything else is handed to `RtpPacket.parse`, so
    every packet gives the same `RtpPacket`, or the same error, as aiortc's parser.
    """

    __slots__ = ("_map", "_ids", "_configured", "_others")

    def __init__(self, ext_map: HeaderExtensionsMap) -> None:
        self._map = ext_map
        self._ids: HeaderExtensions = ext_map._HeaderExtensionsMap__ids  # type: ignore[attr-defined]
        self._configured: tuple[int | None, ...] = ()
        self._others: tuple[int, ...] = ()
        """Negotiated ids of the extensions only aiortc's parser decodes."""

    def parse(self, data: bytes) -> RtpPacket:
        if len(data) < 16 or data[0] != _ONE_BYTE_EXTENDED or data[12:14] != b"\xbe\xde":
            return RtpPacket.parse(data, self._map)
        ids = self._ids
        configured = (ids.mid, ids.repaired_rtp_stream_id, ids.rtp_stream_id,
                      ids.abs_send_time, ids.transmission_offset, ids.audio_level,
                      ids.transport_sequence_number)
        if configured != self._configured:
            # Renegotiated: aiortc's map decodes the first of equal ids it tests.
            self._configured = configured
            self._others = tuple(i for i in (ids.repaired_rtp_stream_id, ids.rtp_stream_id,
                                             ids.transmission_offset,
                                             ids.transport_sequence_number)
                                 if i is not None)
        mid_id, abs_send_time_id, level_id = ids.mid, ids.abs_send_time, ids.audio_level
        others = self._others
        end = 16 + ((data[14] << 8) | data[15]) * 4
        if len(data) < end:
            return RtpPacket.parse(data, self._map)
        mid = abs_send_time = level = None
        pos = 16
        while pos < end:
            byte = data[pos]
            if byte == 0:
                pos += 1
                continue
            x_id = byte >> 4
            start = pos + 1
            pos = start + (byte & 0x0F) + 1
            if pos > end or x_id in others:
                return RtpPacket.parse(data, self._map)
            if x_id == mid_id:
                try:
                    mid = data[start:pos].decode("utf8")
                except UnicodeDecodeError:  # aiortc's error, or one it finds first
                    return RtpPacket.parse(data, self._map)
            elif x_id == abs_send_time_id:
                if pos - start != 3:
                    return RtpPacket.parse(data, self._map)
                abs_send_time = (data[start] << 16) | (data[start + 1] << 8) | data[start + 2]
            elif x_id == level_id:
                if pos - start != 1:
                    return RtpPacket.parse(data, self._map)
                level = (data[start] & 0x80 == 0x80, data[start] & 0x7F)
        _, m_pt, seq, timestamp, ssrc = _RTP_HEADER.unpack_from(data)
        packet = RtpPacket(m_pt & 0x7F, m_pt >> 7, seq, timestamp, ssrc, data[end:])
        extensions = packet.extensions
        extensions.mid = mid
        extensions.abs_send_time = abs_send_time
        extensions.audio_level = level
        return packet
