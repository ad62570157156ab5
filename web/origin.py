"""The server's own addresses: where links point, and which pages may open its sockets.

A browser names the page that opens a WebSocket in the `Origin` header, and sends the
session cookie whatever that page is; so the sockets answer only pages of this server.
Its own origins are the configured public address, the configured host and port, and
the address the browser asked for (its Host), each over http or https.
"""

from __future__ import annotations

from aiohttp import web
from yarl import URL

from signaling.config import HttpSettings
from web.keys import CONFIG
from web.tls import base_url

SCHEMES = ("http", "https")
CROSS_ORIGIN = "This socket only answers pages of this server"


def public_address(http: HttpSettings) -> str:
    """The address links are built from, without a trailing slash: `[http] public_url`,
    or the configured host and port (https with TLS); never a request's Host header."""
    return http.public_url.rstrip("/") if http.public_url else base_url(http)


def public_base(request: web.Request) -> str:
    """`public_address` of the running server."""
    return public_address(request.app[CONFIG].http)


def _address(url: URL) -> tuple[str, int | None] | None:
    if url.scheme not in SCHEMES or not url.host:
        return None
    return url.host.lower(), url.port


def own_addresses(request: web.Request) -> set[tuple[str, int | None]]:
    http = request.app[CONFIG].http
    found: set[tuple[str, int | None]] = set()
    for scheme in SCHEMES:
        for authority in (request.host, f"{http.host}:{http.port}"):
            try:
                address = _address(URL(f"{scheme}://{authority}"))
            except ValueError:
                continue
            if address is not None:
                found.add(address)
    if http.public_url:
        address = _address(URL(http.public_url))
        if address is not None:
            found.add(address)
    return found


def same_origin(request: web.Request) -> bool:
    """Whether the page that made this request is one of the server's own (a request
    without an Origin header is not from another site's page)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    try:
        address = _address(URL(origin))
    except ValueError:
        return False
    return address is not None and address in own_addresses(request)
