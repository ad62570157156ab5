"""The Content-Security-Policy every page carries: nothing but this server.

The network is closed, so a page loads scripts, styles, images, fonts and media only
from its own origin, submits forms only to it and opens sockets (/ws, /it/ws) only to
it. The socket origins are named as well as 'self', on the host the browser asked for
and on `[http] public_url`'s (a proxy may pass on another Host): browsers older than
CSP level 3 do not count ws:// and wss:// as 'self'. `data:` and
`blob:` are the page's own bytes, never a connection. WebRTC's ICE is not governed by
CSP: the ICE servers a page may use are only those the server hands it
(`[sfu] ice_servers`, none by default).
"""

from __future__ import annotations

import re
from typing import Final

from aiohttp import web
from yarl import URL

from web.keys import CONFIG

POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; font-src 'self'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'{sockets}; "
    "form-action 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
HOST: Final = re.compile(r"(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")
"""A host and optional port, nothing else (a Host header is the client's to write)."""


def content_security_policy(request: web.Request) -> str:
    hosts = [request.host]
    public_url = request.app[CONFIG].http.public_url
    if public_url:
        hosts.append(URL(public_url).host_port_subcomponent or "")
    named = [h for i, h in enumerate(hosts) if HOST.fullmatch(h) and h not in hosts[:i]]
    return POLICY.format(sockets="".join(f" ws://{h} wss://{h}" for h in named))
