"""The audit log of administrative actions: who did what to which account, and when.

Each entry keeps the state before and after the action as JSON objects. Entries are
written with `record(db, ...)` inside the same transaction as the change they
describe, so a change is never stored without its entry (nor an entry without it).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from signaling.store import Store, from_db, to_db, utcnow

CLI_ACTOR = "cli"
"""The actor of changes made with the `giaoban` command on the server itself."""
PAGE_SIZE = 200
CSV_COLUMNS = ("id", "at", "actor", "address", "action", "target", "before", "after")
_ADDRESS: ContextVar[str] = ContextVar("audit_address", default="")
"""The network address the action being handled comes from ("" on the server itself)."""


@contextmanager
def acting_from(address: str) -> Iterator[None]:
    """Entries recorded within (also in threads started from here) name this address."""
    token = _ADDRESS.set(address)
    try:
        yield
    finally:
        _ADDRESS.reset(token)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    """Username of the administrator, or "cli"."""
    address: str
    """The address the actor acted from (the client's, behind a trusted proxy); "" for
    the command line."""
    action: str
    """A dotted name such as "account.create" or "account.role"."""
    target: str
    """What was changed, usually a username."""
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def record(
    db: sqlite3.Connection, actor: str, action: str, target: str,
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
) -> None:
    """Append one entry; call it inside the transaction that makes the change."""
    db.execute(
        "INSERT INTO audit_log (at, actor, address, action, target, before_json, after_json)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (to_db(utcnow()), actor, _ADDRESS.get(), action, target, _dump(before), _dump(after)),
    )


def _dump(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(dict(value), ensure_ascii=False, sort_keys=True)


def _load(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else {"value": value}


def _entry(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        id=int(row["id"]), at=from_db(row["at"]), actor=row["actor"], address=row["address"],
        action=row["action"],
        target=row["target"], before=_load(row["before_json"]), after=_load(row["after_json"]),
    )


class AuditLog:
    """Reads the log; writing goes through `record`."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def entries(self, search: str = "", limit: int = PAGE_SIZE) -> list[AuditEntry]:
        """Newest first; `search` matches the actor, the action or the target."""
        pattern = f"%{search.strip().lower()}%"
        rows = self._store.fetch_all(
            "SELECT * FROM audit_log WHERE lower(actor) LIKE ? OR lower(action) LIKE ?"
            " OR lower(target) LIKE ? ORDER BY id DESC LIMIT ?",
            (pattern, pattern, pattern, limit),
        )
        return [_entry(row) for row in rows]

    def count(self) -> int:
        row = self._store.fetch_one("SELECT COUNT(*) FROM audit_log")
        return int(row[0]) if row is not None else 0

    def to_csv(self) -> str:
        """The whole log, oldest first, as CSV with JSON in the before and after columns."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for row in self._store.fetch_all("SELECT * FROM audit_log ORDER BY id"):
            writer.writerow([row["id"], row["at"], row["actor"], row["address"], row["action"],
                             row["target"], row["before_json"] or "", row["after_json"] or ""])
        return out.getvalue()
