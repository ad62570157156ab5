"""The ICE servers each page gets: TURN REST credentials of its own, made from the
secret, fresh on every join; static ones as configured; the secret in no answer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from sfu.config import IceServer
from signaling.live.ice_servers import IceServers, turn_credentials

SECRET = "north-wind-7c1f0a"
TURN = IceServer(urls=["turn:10.0.0.9:3478?transport=udp", "turn:10.0.0.9:3478?transport=tcp"])
STATIC = IceServer(urls=["turns:relay.bo.gov.vn:5349"], username="giaoban", credential="fixed")
STUN = IceServer(urls=["stun:10.0.0.9:3478"])


def test_credentials_follow_the_turn_rest_scheme() -> None:
    username, password = turn_credentials(SECRET, "minister", 1_800_000_000)
    assert username == "1800000000:minister"
    expected = hmac.new(SECRET.encode(), b"1800000000:minister", hashlib.sha1).digest()
    assert base64.b64decode(password) == expected


def test_a_known_credential() -> None:
    # Computed independently:
    #   printf '%s' '1700000000:an' | openssl dgst -sha1 -hmac secret -binary | base64
    assert turn_credentials("secret", "an", 1_700_000_000)[1] == "PIAQi24x8I4YhY8aWLSxmf+EmPg="


def test_each_join_gets_its_own_credentials_valid_for_the_lifetime() -> None:
    now = [1_700_000_000.6]
    servers = IceServers([STUN, TURN, STATIC], SECRET, 3600, clock=lambda: now[0])
    first = servers.for_account("minister")
    assert first[0] == {"urls": STUN.urls}
    assert first[1]["urls"] == TURN.urls
    assert first[1]["username"] == "1700003600:minister"
    assert first[1]["credential"] == turn_credentials(SECRET, "minister", 1_700_003_600)[1]
    assert first[2] == {"urls": STATIC.urls, "username": "giaoban", "credential": "fixed"}
    assert servers.for_account("secretary")[1]["username"] == "1700003600:secretary"
    now[0] += 125
    again = servers.for_account("minister")
    assert again[1]["username"] == "1700003725:minister"
    assert again[1]["credential"] != first[1]["credential"]


def test_without_a_secret_servers_are_handed_over_as_configured() -> None:
    servers = IceServers([STUN, TURN, STATIC])
    assert servers.for_account("minister") == [
        {"urls": STUN.urls}, {"urls": TURN.urls},
        {"urls": STATIC.urls, "username": "giaoban", "credential": "fixed"}]


def test_the_secret_is_in_no_answer() -> None:
    servers = IceServers([STUN, TURN, STATIC], SECRET, 60)
    assert SECRET not in json.dumps(servers.for_account(SECRET[:8]))


def test_is_turn() -> None:
    assert TURN.is_turn and STATIC.is_turn and not STUN.is_turn
