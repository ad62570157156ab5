"""The durable store: one SQLite file in WAL mode, with numbered schema migrations.

Migrations live in signaling/migrations as NNNN_name.sql, numbered from 0001 in
ascending order; a number may be left unused (a gap), never used twice. Each one runs
in its own transaction and is recorded in schema_migrations, so a migration that fails
leaves the database at the previous version.

One Store holds one connection, shared between the event loop and worker threads
(password hashing runs in threads). A re-entrant lock serialises every use of it, so
two threads never interleave statements inside each other's transaction. Several
processes (or several Stores) may open the same file; SQLite's own locking and the
busy timeout order their writes.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
BUSY_TIMEOUT_MS = 5000


class StoreError(Exception):
    """The database cannot be opened or brought to the current schema."""


class MigrationError(StoreError):
    """A migration is missing, misnumbered or failed to apply."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    """File name, e.g. 0001_initial.sql."""
    sql: str


# ---------------------------------------------------------------- time helpers


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db(moment: datetime) -> str:
    """A timezone-aware datetime as fixed-width UTC text, so text order is time order."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime cannot be stored; give it a time zone")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_db(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# ---------------------------------------------------------------- migrations


def load_migrations() -> list[Migration]:
    """Read the packaged migration files, in order, checking their numbering."""
    folder = resources.files("signaling").joinpath("migrations")
    found: list[Migration] = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = MIGRATION_NAME.match(entry.name)
        if match is None:
            raise MigrationError(
                f"migration file {entry.name!r} must be named NNNN_name.sql "
                "(four digits, then lowercase letters, digits or '_')"
            )
        found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    previous = 0
    for migration in found:
        if migration.version <= previous:
            raise MigrationError(
                f"migrations must be numbered from 0001 upwards, each number once; "
                f"found {migration.name} after number {previous:04d}"
            )
        previous = migration.version
    return found


def split_statements(sql: str) -> list[str]:
    """Split a script into single statements (trigger bodies stay whole)."""
    statements: list[str] = []
    buffer = ""
    for piece in sql.split(";")[:-1]:
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    rest = buffer + sql.split(";")[-1]
    if _strip_comments(rest):
        raise MigrationError(f"incomplete SQL statement at the end: {rest.strip()[:80]!r}")
    return statements


def _strip_comments(text: str) -> str:
    lines = [line.split("--", 1)[0] for line in text.splitlines()]
    return "\n".join(lines).strip()


# ---------------------------------------------------------------- the store


class Store:
    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._connection: sqlite3.Connection | None = connection
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0

    @classmethod
    def open(cls, path: Path, migrations: Sequence[Migration] | None = None) -> Store:
        """Open (creating if needed) the database at path and apply pending migrations.

        migrations defaults to the packaged files; tests may pass their own.
        """
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                path, check_same_thread=False, isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from exc
        store = cls(connection, path)
        try:
            connection.row_factory = sqlite3.Row
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA foreign_keys = ON")
            store._migrate(load_migrations() if migrations is None else migrations)
        except sqlite3.Error as exc:
            store.close()
            raise StoreError(f"cannot prepare database {path}: {exc}") from exc
        except BaseException:
            store.close()
            raise
        return store

    @property
    def connection(self) -> sqlite3.Connection:
        if self._connection is None:
            raise StoreError("the store is closed")
        return self._connection

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    @property
    def closed(self) -> bool:
        return self._connection is None

    # ------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when the block raises.

        A nested call joins the transaction already open in this thread.
        """
        with self._begin("BEGIN IMMEDIATE") as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read-only snapshot (deferred transaction) for several consistent queries.

        Do not write inside it; use transaction() for that.
        """
        with self._begin("BEGIN") as connection:
            yield connection

    @contextmanager
    def _begin(self, begin: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            connection = self.connection
            if self._depth > 0:
                self._depth += 1
                try:
                    yield connection
                finally:
                    self._depth -= 1
                return
            connection.execute(begin)
            self._depth = 1
            try:
                yield connection
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            else:
                connection.execute("COMMIT")
            finally:
                self._depth = 0

    def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self.connection.execute(sql, params).fetchall())

    def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self.connection.execute(sql, params).fetchone()
            return row

    # ------------------------------------------------------------ schema

    def schema_version(self) -> int:
        row = self.fetch_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        return int(row[0]) if row is not None else 0

    def journal_mode(self) -> str:
        row = self.fetch_one("PRAGMA journal_mode")
        return str(row[0]) if row is not None else ""

    def _migrate(self, migrations: Sequence[Migration]) -> None:
        connection = self.connection
        connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL)"
        )
        for migration in migrations:
            self._apply(migration)

    def _apply(self, migration: Migration) -> None:
        statements = split_statements(migration.sql)
        with self._lock:
            connection = self.connection
            connection.execute("BEGIN IMMEDIATE")
            try:
                done = connection.execute(
                    "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
                ).fetchone()
                if done is None:
                    for statement in statements:
                        connection.execute(statement)
                    connection.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at)"
                        " VALUES (?, ?, ?)",
                        (migration.version, migration.name, to_db(utcnow())),
                    )
                connection.execute("COMMIT")
            except sqlite3.Error as exc:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise MigrationError(
                    f"migration {migration.name} failed: {exc}; "
                    f"the database stays at schema version {self.schema_version()}"
                ) from exc
        if done is None:
            log.info("store %s: applied migration %s", self.path, migration.name)
