"""Who a request comes from behind reverse proxies: X-Forwarded-For and -Proto are
believed only from trusted proxies, and only up to the first untrusted hop."""

from __future__ import annotations

from pathlib import Path

import pytest

from signaling.config import load_config
from signaling.errors import ConfigError
from signaling.forwarded import Client, client, trusted_networks

PROXIES = trusted_networks(["127.0.0.1", "10.0.0.0/24", "fd00::/64"])


def test_an_untrusted_peer_is_the_client_whatever_its_headers_say() -> None:
    assert client("192.0.2.7", ["203.0.113.9"], ["https"], PROXIES) == Client("192.0.2.7", "")
    assert client("192.0.2.7", [], [], ()) == Client("192.0.2.7", "")
    assert client("127.0.0.1", ["203.0.113.9"], ["https"], ()) == Client("127.0.0.1", "")


def test_a_trusted_proxy_names_the_client() -> None:
    assert client("127.0.0.1", ["203.0.113.9"], ["https"], PROXIES) == \
        Client("203.0.113.9", "https")
    assert client("127.0.0.1", [], [], PROXIES) == Client("127.0.0.1", "")


def test_the_rightmost_untrusted_hop_is_the_client() -> None:
    # The client wrote "198.51.100.1" itself; 10.0.0.8 is a second trusted proxy.
    chain = ["198.51.100.1, 203.0.113.9", "10.0.0.8"]
    assert client("127.0.0.1", chain, [], PROXIES).address == "203.0.113.9"
    # Only the hops within trusted proxies are followed: 192.0.2.50 is not one.
    chain = ["203.0.113.9, 192.0.2.50, 10.0.0.8"]
    assert client("127.0.0.1", chain, [], PROXIES).address == "192.0.2.50"
    # Every hop trusted: the leftmost is the client.
    assert client("127.0.0.1", ["10.0.0.3, 10.0.0.8"], [], PROXIES).address == "10.0.0.3"


def test_an_unreadable_hop_stops_the_walk() -> None:
    assert client("127.0.0.1", ["203.0.113.9, unknown"], [], PROXIES).address == "127.0.0.1"
    assert client("127.0.0.1", ["unknown, 10.0.0.8"], [], PROXIES).address == "10.0.0.8"
    assert client("127.0.0.1", [" , 203.0.113.9:5000"], [], PROXIES).address == "203.0.113.9"
    assert client("127.0.0.1", ["[2001:db8::1]:443"], [], PROXIES).address == "2001:db8::1"


def test_ipv6_and_mapped_addresses() -> None:
    assert client("fd00::2", ["2001:db8::9"], ["http"], PROXIES) == Client("2001:db8::9", "http")
    assert client("::ffff:127.0.0.1", ["203.0.113.9"], [], PROXIES).address == "203.0.113.9"


def test_the_scheme_is_the_nearest_proxys_and_only_http_or_https() -> None:
    assert client("127.0.0.1", ["203.0.113.9"], ["http, https"], PROXIES).forwarded_proto == \
        "https"
    assert client("127.0.0.1", ["203.0.113.9"], ["gopher"], PROXIES).forwarded_proto == ""


def test_trusted_proxies_in_the_configuration(tmp_path: Path) -> None:
    config = tmp_path / "giaoban.toml"
    config.write_text('[http]\ntrusted_proxies = ["127.0.0.1", "10.0.0.0/24"]\n')
    assert load_config(config, env={}).http.trusted_proxies == ["127.0.0.1", "10.0.0.0/24"]
    env = {"GIAOBAN_HTTP_TRUSTED_PROXIES": "::1, 192.0.2.0/28"}
    assert load_config(None, env=env).http.trusted_proxies == ["::1", "192.0.2.0/28"]
    assert load_config(None, env={}).http.trusted_proxies == []
    config.write_text('[http]\ntrusted_proxies = ["nginx.local"]\n')
    with pytest.raises(ConfigError, match=r"'http.trusted_proxies': 'nginx.local' is neither"):
        load_config(config, env={})
