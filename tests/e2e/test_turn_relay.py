"""Leaders on a PC that reaches only the web server and a TURN relay (Debian's coturn,
with credentials from `[sfu] turn_secret`) see and hear each other through the relay;
with the wrong secret they get no media and their pages say so. The scenario itself is
tests/e2e/turn_relay.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.scenario import run_scenario


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_a_pc_reaching_only_the_turn_relay_gets_media_through_it(tmp_path: Path) -> None:
    if shutil.which("turnserver") is None:
        pytest.fail("turnserver is missing: run `make test`, which installs coturn")
    result = run_scenario("turn_relay.py", tmp_path, timeout=200)
    checks = result["checks"]
    assert checks["pc_cannot_reach_the_sfu"]
    assert checks["each_decodes_the_other"] and checks["relay_candidate_selected"]
    assert checks["coturn_relayed_for_each"] and checks["secret_reaches_no_page"]
    assert checks["media_lost_said_vi"] and checks["media_lost_said_en"]
    assert checks["no_media_vi"] and checks["no_media_en"] and checks["coturn_refused_each"]
