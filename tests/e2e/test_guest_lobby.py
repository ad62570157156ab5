"""A guest comes by a guest link, waits in the lobby, is admitted by the host, chats,
and the record shows it; in two headless Chromium browsers (tests/e2e/guest_lobby.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.scenario import run_scenario


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_a_guest_waits_is_admitted_and_chats(tmp_path: Path) -> None:
    result = run_scenario("guest_lobby.py", tmp_path, timeout=150)
    assert result["checks"]["guest_admitted_sees_host"]
    assert result["checks"]["chat_on_host_page"]
