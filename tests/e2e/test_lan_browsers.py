"""A leader's PC on the LAN, in its own network namespace, reaching the server over a veth
pair: HTTPS with a pinned certificate, and the plain-HTTP page that says why there is no
camera. The scenario itself is tests/e2e/lan_browsers.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.scenario import run_scenario


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_plain_http_on_the_lan_says_why_there_is_no_camera(tmp_path: Path) -> None:
    result = run_scenario("lan_browsers.py", tmp_path, timeout=200)
    assert result["checks"]["message_vi"] and result["checks"]["message_en"]
    assert result["message_en"].startswith("The camera and microphone cannot be used here")


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_two_pcs_meet_over_https_on_the_lan(tmp_path: Path) -> None:
    result = run_scenario("lan_browsers.py", tmp_path, "--tls", timeout=200)
    assert result["checks"]["each_decodes_the_other"]
    assert result["checks"]["veth_pair_selected"]
    assert result["checks"]["every_request_to_the_origin"]
