"""The ICE servers a page is given when it joins, with TURN credentials of its own.

With `[sfu] turn_secret` (the TURN REST scheme, coturn's `use-auth-secret` with the
same `static-auth-secret`), every TURN server of `[sfu] ice_servers` that has no static
credentials is handed to each joining page with short-lived credentials made for it:
the username `<expiry unix time>:<account>`, the password
base64(HMAC-SHA1(secret, username)). The TURN server checks them with the shared
secret alone; the secret itself never leaves the server. Servers with static
credentials, and STUN servers, are handed over as configured.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

from sfu.config import IceServer


def turn_credentials(secret: str, who: str, expires: int) -> tuple[str, str]:
    """The TURN REST username and password for `who`, valid until the unix time
    `expires`."""
    username = f"{expires}:{who}"
    digest = hmac.new(secret.encode("utf-8"), username.encode("utf-8"), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def server_json(urls: list[str], username: str, credential: str) -> dict[str, Any]:
    """One entry of a page's `iceServers`."""
    return {"urls": urls, **({"username": username} if username else {}),
            **({"credential": credential} if credential else {})}


class IceServers:
    """What each joining page is given as its `iceServers`."""

    def __init__(self, servers: list[IceServer], turn_secret: str = "",
                 credential_seconds: int = 12 * 3600,
                 clock: Callable[[], float] = time.time) -> None:
        self._servers = list(servers)
        self._secret = turn_secret
        self._lifetime = credential_seconds
        self._clock = clock

    def for_account(self, who: str) -> list[dict[str, Any]]:
        """The servers for one join of `who`; TURN credentials are made afresh on
        every call when a secret is configured."""
        expires = int(self._clock()) + self._lifetime
        out = []
        for s in self._servers:
            if self._secret and s.is_turn and not s.username and not s.credential:
                username, password = turn_credentials(self._secret, who, expires)
                out.append(server_json(s.urls, username, password))
            else:
                out.append(server_json(s.urls, s.username, s.credential))
        return out
