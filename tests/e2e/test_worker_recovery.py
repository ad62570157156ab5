"""Two Chromium users on a one-worker server come back by themselves after the worker
is killed, or stopped past ICE consent and continued; a third user then sees both.

The server and the browsers run in a private network namespace; the scenario itself is
tests/e2e/worker_recovery.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.scenario import run_scenario


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_both_pages_come_back_after_the_only_worker_is_killed(tmp_path: Path) -> None:
    result = run_scenario("worker_recovery.py", tmp_path, "--mode", "kill", timeout=280)
    assert result["attendance"]["minister"] == [False, True]
    assert result["checks"]["one_join_at_a_time"], result["joins_after_loss"]
    print("recovered after", result["recovered_after_s"], "s")


@pytest.mark.e2e
@pytest.mark.timeout(360)
def test_both_pages_come_back_after_the_only_worker_stalls(tmp_path: Path) -> None:
    result = run_scenario("worker_recovery.py", tmp_path, "--mode", "stop", timeout=340)
    assert result["checks"]["one_join_at_a_time"], result["joins_after_loss"]
    for name in ("minister", "secretary", "director"):
        assert result["attendance"][name].count(True) == 1


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_the_room_kiosk_comes_back_after_the_only_worker_is_killed(tmp_path: Path) -> None:
    result = run_scenario("kiosk_recovery.py", tmp_path, timeout=280)
    print("kiosk back after", result["kiosk_back_after_s"], "s")


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_pages_keep_trying_while_joins_are_refused(tmp_path: Path) -> None:
    """With no wait for a restarting worker, rejoins are refused until it is back; the
    pages keep trying with backoff until one works."""
    result = run_scenario("worker_recovery.py", tmp_path, "--mode", "kill",
                          "--worker-wait", "0", timeout=280)
    assert result["attendance"]["secretary"] == [False, True]
