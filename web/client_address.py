"""The one place that says where a request comes from.

Every consumer of "the client's address" (sign-in throttling, the audit log, the access
log, /metrics' loopback rule) reads `client_address(request)`. Behind a trusted reverse
proxy (`[http] trusted_proxies`) that is the address it forwarded (see
`signaling.forwarded` for the rule); from any other peer, the peer's own address, and
its X-Forwarded-* headers are ignored.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from signaling.accounts.audit import acting_from
from signaling.forwarded import Client, client, trusted_networks
from web.keys import CONFIG

CLIENT = web.RequestKey("client", Client)


def _client(request: web.Request) -> Client:
    found = request.get(CLIENT)
    if found is None:
        found = client(request.remote or "", request.headers.getall("X-Forwarded-For", []),
                       request.headers.getall("X-Forwarded-Proto", []),
                       trusted_networks(request.app[CONFIG].http.trusted_proxies))
        request[CLIENT] = found
    return found


def client_address(request: web.Request) -> str:
    """The client's IP address: forwarded by a trusted proxy, else the peer's own."""
    return _client(request).address


def forwarded_https(request: web.Request) -> bool:
    """Whether a trusted proxy says the client reached it over https."""
    return _client(request).forwarded_proto == "https"


def logged_address(request: web.BaseRequest) -> str:
    """The address the access log shows: the client's, once the middleware found it."""
    found = request.get(CLIENT)
    if isinstance(found, Client):
        return found.address
    return request.remote or "-"


@web.middleware
async def client_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Finds the client first, so that the access log and the audit log see it too."""
    with acting_from(client_address(request)):
        return await handler(request)
