"""An administrator imports an Excel workbook with Vietnamese headers and role names in
headless Chromium inside a private network namespace. The scenario is
tests/e2e/admin_import.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.scenario import run_scenario


@pytest.mark.e2e
@pytest.mark.timeout(150)
def test_admin_imports_an_xlsx_with_vietnamese_headers(tmp_path: Path) -> None:
    result = run_scenario("admin_import.py", tmp_path, timeout=120)
    assert [row[0] for row in result["imported"]] == ["hung", "an.nguyen", "thao"]
