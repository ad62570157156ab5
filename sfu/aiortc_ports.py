"""ICE host sockets bound from `[sfu] udp_ports`: aioice's candidate gathering, hooked.

aioice binds each host candidate's socket on port 0 (any port). With a range
configured, `bind_from_range` replaces `get_component_candidates` on the ICE
connections of one of the SFU's peer connections (only those: test and benchmark peers
in the same process keep any port) with one that binds each host socket to a free port
of the range, then gathers the server-reflexive (STUN) and relayed (TURN) candidates as
aioice does. The range is
shared by every process: a port taken by another worker is skipped, and the operating
system arbitrates. When no port of the range is free, gathering raises
`UdpPortsExhausted` and binds nothing, so only the transport that needed the port
fails. `problems()` lists the hooked internals that have moved, for the start-up check.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import random
import socket
import types
from collections.abc import Awaitable, Callable
from typing import Any

import aioice.ice
import aioice.turn
from aioice.candidate import Candidate, candidate_foundation, candidate_priority
from aiortc import RTCPeerConnection

logger = logging.getLogger(__name__)

_ORIGINAL = aioice.ice.Connection.get_component_candidates
_AIOICE_NAMES = ("StunProtocol", "server_reflexive_candidate")
_CONNECTION_ATTRS = ("stun_server", "_protocols", "get_component_candidates")
_HOOKED = "_giaoban_port_range"
_PC_ICE_TRANSPORTS = "_RTCPeerConnection__iceTransports"
_SKIPPED = (errno.EADDRINUSE, errno.EACCES)
"""Bind errors that mean "this port is taken": try the next one."""


class UdpPortsExhausted(OSError):
    """Every port of `[sfu] udp_ports` is in use."""


def problems(pc: RTCPeerConnection) -> list[str]:
    """What this module uses of aioice, and of `pc`, that is missing."""
    found = [] if _PC_ICE_TRANSPORTS in vars(pc) else [
        f"RTCPeerConnection.{_PC_ICE_TRANSPORTS} is missing"]
    found += [f"aioice.ice.{name} is missing" for name in _AIOICE_NAMES
             if not hasattr(aioice.ice, name)]
    if not isinstance(getattr(aioice.turn, "UDP_SOCKET_BUFFER_SIZE", None), int):
        found.append("aioice.turn.UDP_SOCKET_BUFFER_SIZE is missing")
    connection = aioice.ice.Connection(ice_controlling=False)
    found += [f"aioice.ice.Connection.{name} is missing" for name in _CONNECTION_ATTRS
              if not hasattr(connection, name)]
    return found


def bind_in_range(address: str, first: int, last: int) -> socket.socket:
    """A non-blocking UDP socket on `address` and a free port of first..last, tried from
    a random port on so that workers spread over the range."""
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    count = last - first + 1
    start = random.randrange(count)
    for step in range(count):
        port = first + (start + step) % count
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((address, port))
        except OSError as exc:
            sock.close()
            if exc.errno in _SKIPPED:
                continue
            raise
        sock.setblocking(False)
        return sock
    raise UdpPortsExhausted(errno.EADDRINUSE,
                            f"every UDP port of 'sfu.udp_ports' ({first}-{last}) is in use on "
                            f"{address}: widen the range to take more participants")


def _gatherer(first: int, last: int) -> Callable[..., Awaitable[list[Candidate]]]:
    async def get_component_candidates(self: Any, component: int, addresses: list[str],
                                       timeout: int = 5) -> list[Candidate]:
        loop = asyncio.get_running_loop()
        bound: list[Any] = []
        try:
            for address in addresses:
                try:
                    sock = bind_in_range(address, first, last)
                except UdpPortsExhausted:
                    raise
                except OSError as exc:
                    logger.info("could not bind to %s: %s", address, exc)
                    continue
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF,
                                aioice.turn.UDP_SOCKET_BUFFER_SIZE)
                _, protocol = await loop.create_datagram_endpoint(
                    lambda: aioice.ice.StunProtocol(self), sock=sock)
                bound.append(protocol)
        except BaseException:
            for protocol in bound:
                protocol.transport.close()
            raise
        candidates: list[Candidate] = []
        for protocol in bound:
            host, port = protocol.transport.get_extra_info("sockname")[:2]
            protocol.local_candidate = Candidate(
                foundation=candidate_foundation("host", "udp", host), component=component,
                transport="udp", priority=candidate_priority(component, "host"),
                host=host, port=port, type="host")
            candidates.append(protocol.local_candidate)
        self._protocols += bound
        if self.stun_server:
            tasks = [asyncio.create_task(aioice.ice.server_reflexive_candidate(
                protocol, self.stun_server)) for protocol in bound
                if ipaddress.ip_address(protocol.local_candidate.host).version == 4]
            if tasks:
                done, pending = await asyncio.wait(tasks, timeout=timeout)
                candidates += [t.result()[0] for t in done if t.exception() is None]
                for task in pending:
                    task.cancel()
        # No host address left: aioice's own gathering does only TURN, if configured.
        candidates += await _ORIGINAL(self, component, [], timeout)
        return candidates

    return get_component_candidates


def bind_from_range(pc: RTCPeerConnection, ports: tuple[int, int] | None) -> None:
    """Make `pc`'s ICE connections not yet gathering bind their host sockets from `ports`
    (None: any port). Call it before each setLocalDescription: that is when aiortc
    gathers, and a renegotiation may have brought a new transceiver."""
    if ports is None:
        return
    gather = _gatherer(*ports)
    # Every ICE transport gathers, those of transceivers bundled away later included.
    for ice_transport in vars(pc)[_PC_ICE_TRANSPORTS]:
        connection = ice_transport._connection
        if not getattr(connection, _HOOKED, False):
            connection.get_component_candidates = types.MethodType(gather, connection)
            setattr(connection, _HOOKED, True)
