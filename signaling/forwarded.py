"""Who a request comes from, behind reverse proxies: the pure rule.

A reverse proxy connects on the client's behalf and names the client in
`X-Forwarded-For` (each proxy appends the address it got the request from) and the
scheme the client used in `X-Forwarded-Proto`. Anyone can send those headers, so they
are believed only from the configured trusted proxies (`[http] trusted_proxies`), and
then only as far as the chain stays within them: walking the chain from the right (the
nearest hop first), the client is the first address that is not a trusted proxy. An
address further left was written by the client itself and proves nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def trusted_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Each entry as a network: an address ("10.0.0.2") or a CIDR network ("10.0.0.0/24").
    ValueError names the first entry that is neither."""
    networks: list[Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is neither an IP address nor a network "
                             "such as 10.0.0.0/24") from None
    return tuple(networks)


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: Sequence[Network]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


@dataclass(frozen=True, slots=True)
class Client:
    """Where one request comes from, as far as the server can tell."""

    address: str
    """The client's IP address (the peer's own when no trusted proxy forwarded it)."""
    forwarded_proto: str
    """"http" or "https" as a trusted proxy reports the client's scheme; "" otherwise."""


def client(peer: str, forwarded_for: Sequence[str], forwarded_proto: Sequence[str],
           networks: Sequence[Network]) -> Client:
    """The client of a request from `peer` carrying these header values (each header
    given once per occurrence, in order), believing only proxies in `networks`."""
    peer_address = _address(peer)
    if peer_address is None or not _trusted(peer_address, networks):
        return Client(peer, "")
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    found: Address = peer_address
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # an unreadable hop: nothing to its left can be believed either
        found = address
        if not _trusted(address, networks):
            break
    protos = [p.strip().lower() for value in forwarded_proto for p in value.split(",")]
    proto = protos[-1] if protos and protos[-1] in ("http", "https") else ""
    return Client(str(found), proto)
