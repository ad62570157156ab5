"""configs/nginx.conf agrees with the server it fronts: bodies as large as the server
takes, and socket timeouts far longer than the server's pings (the proxy runs for real
in tests/integration/web/test_reverse_proxy.py)."""

from __future__ import annotations

import re
from pathlib import Path

from web.app import MAX_FORM_BYTES
from web.ws import HEARTBEAT_S

EXAMPLE = (Path(__file__).resolve().parents[3] / "configs" / "nginx.conf").read_text()
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}


def seconds(value: str) -> int:
    match = re.fullmatch(r"(\d+)([smh]?)", value)
    assert match, value
    return int(match.group(1)) * UNITS[match.group(2)]


def test_the_body_limit_is_the_servers() -> None:
    (limit,) = re.findall(r"client_max_body_size (\d+)m;", EXAMPLE)
    assert int(limit) * 1024 * 1024 == MAX_FORM_BYTES


def test_socket_timeouts_outlast_the_pings_many_times() -> None:
    sockets = EXAMPLE[EXAMPLE.index("location ~ ^/(ws|it/ws)$"):]
    for key in ("proxy_read_timeout", "proxy_send_timeout"):
        (value,) = re.findall(rf"{key} (\w+);", sockets)
        assert seconds(value) >= 100 * HEARTBEAT_S, key
    assert "proxy_set_header Upgrade $http_upgrade;" in sockets
    assert "proxy_set_header Connection $giaoban_connection;" in sockets
