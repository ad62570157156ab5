"""Fixtures shared by every test suite: a real SQLite store in a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from signaling.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A freshly migrated store, closed after the test."""
    opened = Store.open(tmp_path / "data" / "giaoban.sqlite3")
    yield opened
    opened.close()
