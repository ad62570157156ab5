"""A lossy, jittery network path for one aiortc peer, inside the test process.

Every RTP/RTCP datagram the peer's ICE sockets send or receive (STUN and DTLS are
left alone, so the connection still comes up) is dropped with probability `loss` and
otherwise delayed by a random 0..`max_delay_s`, which also reorders packets. It wraps
aioice's per-socket protocol objects; the server and the machine's interfaces are
untouched.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCPeerConnection

from sfu.aiortc_peer import ice_protocols


def _is_rtp_or_rtcp(data: bytes) -> bool:
    return bool(data) and 128 <= data[0] <= 191


@dataclass
class Impairment:
    loss: float
    max_delay_s: float
    seed: int = 7
    sent: int = 0
    dropped: int = 0
    _random: random.Random = field(init=False)
    _wrapped: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def _fate(self) -> float | None:
        """None to drop the datagram, else the delay to give it."""
        self.sent += 1
        if self._random.random() < self.loss:
            self.dropped += 1
            return None
        return self._random.uniform(0, self.max_delay_s)

    def apply(self, pc: RTCPeerConnection) -> int:
        """Wrap every ICE socket of `pc`; returns how many sockets are impaired."""
        loop = asyncio.get_running_loop()
        count = 0
        for transceiver in pc.getTransceivers():
            for dtls in (transceiver.sender.transport, transceiver.receiver.transport):
                if dtls is None:
                    continue
                for protocol in ice_protocols(dtls):
                    if id(protocol) in self._wrapped:
                        continue
                    self._wrapped.add(id(protocol))
                    self._wrap(loop, protocol)
                    count += 1
        return count

    def _wrap(self, loop: asyncio.AbstractEventLoop, protocol: Any) -> None:
        received = protocol.datagram_received

        def send_later(data: bytes, addr: tuple[str, int]) -> None:
            if not protocol.transport.is_closing():
                protocol.transport.sendto(data, addr)

        async def send_data(data: bytes, addr: tuple[str, int]) -> None:
            if not _is_rtp_or_rtcp(data):
                protocol.transport.sendto(data, addr)
                return
            delay = self._fate()
            if delay is not None:
                loop.call_later(delay, send_later, data, addr)

        def receive_later(data: bytes, addr: tuple[Any, ...]) -> None:
            if not protocol.transport.is_closing():
                received(data, addr)

        def datagram_received(data: bytes, addr: tuple[Any, ...]) -> None:
            if not _is_rtp_or_rtcp(data):
                received(data, addr)
                return
            delay = self._fate()
            if delay is not None:
                loop.call_later(delay, receive_later, data, addr)

        protocol.send_data = send_data
        protocol.datagram_received = datagram_received
