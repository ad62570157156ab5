"""In Chromium, an administrator creates an account and that person signs in.

The server and the browsers run in a private network namespace; the scenario itself
is tests/e2e/admin_account.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.scenario import run_scenario


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_admin_creates_an_account_and_the_user_signs_in(tmp_path: Path) -> None:
    result = run_scenario("admin_account.py", tmp_path, timeout=150)
    assert len(result["checks"]) == 11
