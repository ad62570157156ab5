"""The SQLite store: opening, pragmas, numbered migrations and transactions."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime
from pathlib import Path

import pytest

from signaling.store import (
    MIGRATION_NAME,
    Migration,
    MigrationError,
    Store,
    StoreError,
    load_migrations,
    split_statements,
    to_db,
)


def test_open_creates_parent_directory_and_applies_every_migration(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "giaoban.sqlite3"
    store = Store.open(path)
    try:
        assert path.exists()
        migrations = load_migrations()
        assert store.schema_version() == migrations[-1].version >= 1
        rows = store.fetch_all("SELECT version, name FROM schema_migrations ORDER BY version")
        assert [(r["version"], r["name"]) for r in rows] == [
            (m.version, m.name) for m in migrations
        ]
    finally:
        store.close()


def test_packaged_migrations_are_numbered_from_one_upwards_each_once() -> None:
    migrations = load_migrations()
    versions = [m.version for m in migrations]
    assert versions == sorted(set(versions)) and versions[0] == 1
    assert migrations[0].name == "0001_initial.sql"
    for migration in migrations:
        assert MIGRATION_NAME.match(migration.name)
        assert split_statements(migration.sql)


def test_migrations_are_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "giaoban.sqlite3"
    Store.open(path).close()
    plain = sqlite3.connect(path)
    first = plain.execute("SELECT * FROM schema_migrations").fetchall()
    plain.close()
    reopened = Store.open(path)
    try:
        again = reopened.fetch_all("SELECT * FROM schema_migrations")
        assert [tuple(r) for r in again] == first
        assert reopened.schema_version() == load_migrations()[-1].version
    finally:
        reopened.close()


def test_pragmas(store: Store) -> None:
    assert store.journal_mode() == "wal"
    assert store.fetch_one("PRAGMA foreign_keys")[0] == 1  # type: ignore[index]
    assert store.fetch_one("PRAGMA busy_timeout")[0] == 5000  # type: ignore[index]


def test_wal_mode_persists_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "giaoban.sqlite3"
    Store.open(path).close()
    plain = sqlite3.connect(path)
    try:
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        plain.close()


def test_transaction_commits(store: Store) -> None:
    with store.transaction() as db:
        db.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')")
    assert store.fetch_one("SELECT value FROM settings WHERE key = 'k'")["value"] == "v"  # type: ignore[index]


def test_transaction_rolls_back_on_exception(store: Store) -> None:
    with pytest.raises(RuntimeError, match="boom"), store.transaction() as db:
        db.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')")
        raise RuntimeError("boom")
    assert store.fetch_one("SELECT value FROM settings WHERE key = 'k'") is None
    assert not store.connection.in_transaction


def test_nested_transaction_joins_the_outer_one(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as outer:
        with store.transaction() as inner:
            assert inner is outer
            inner.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')")
        assert outer.in_transaction
        raise RuntimeError("undo both")
    assert store.fetch_one("SELECT value FROM settings WHERE key = 'k'") is None


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"), store.transaction() as db:
        db.execute(
            "INSERT INTO sessions (token_hash, username, csrf_token, created_at, last_seen)"
            " VALUES ('h', 'nobody', 'c', '2025-01-01', '2025-01-01')"
        )


def test_close_is_idempotent_and_later_use_is_refused(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "giaoban.sqlite3")
    store.close()
    store.close()
    assert store.closed
    with pytest.raises(StoreError, match="closed"):
        store.schema_version()
    with pytest.raises(StoreError, match="closed"), store.transaction():
        pass


GOOD = Migration(1, "0001_first.sql", "CREATE TABLE first (x INTEGER);")
BAD = Migration(
    2, "0002_second.sql",
    "CREATE TABLE second (x INTEGER);\nINSERT INTO no_such_table VALUES (1);",
)
FIXED = Migration(2, "0002_second.sql", "CREATE TABLE second (x INTEGER);")


def tables(path: Path) -> set[str]:
    plain = sqlite3.connect(path)
    try:
        rows = plain.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {row[0] for row in rows}
    finally:
        plain.close()


def test_failed_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "giaoban.sqlite3"
    with pytest.raises(MigrationError) as info:
        Store.open(path, migrations=[GOOD, BAD])
    message = str(info.value)
    assert "0002_second.sql" in message
    assert "no_such_table" in message
    assert "stays at schema version 1" in message
    assert "first" in tables(path)
    assert "second" not in tables(path)

    store = Store.open(path, migrations=[GOOD, FIXED])
    try:
        assert store.schema_version() == 2
        assert "second" in tables(path)
    finally:
        store.close()


def test_a_number_left_free_is_applied_when_it_arrives_later(tmp_path: Path) -> None:
    path = tmp_path / "giaoban.sqlite3"
    third = Migration(3, "0003_third.sql", "CREATE TABLE third (x INTEGER);")
    Store.open(path, migrations=[GOOD, third]).close()
    assert "second" not in tables(path)
    store = Store.open(path, migrations=[GOOD, FIXED, third])
    try:
        assert "second" in tables(path) and store.schema_version() == 3
        rows = store.fetch_all("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == [1, 2, 3]
    finally:
        store.close()


def test_split_statements_keeps_trigger_bodies_whole() -> None:
    sql = """
    -- a comment; with a semicolon
    CREATE TABLE t (x TEXT DEFAULT 'a;b');
    CREATE TRIGGER tr BEFORE INSERT ON t BEGIN
        SELECT RAISE(ABORT, 'no');
        SELECT 1;
    END;
    -- trailing comment
    """
    statements = split_statements(sql)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")


def test_split_statements_refuses_an_unfinished_statement() -> None:
    with pytest.raises(MigrationError, match="incomplete"):
        split_statements("CREATE TABLE t (x);\nCREATE TABLE u (y)")


def test_concurrent_first_opens_of_one_file_all_succeed(tmp_path: Path) -> None:
    path = tmp_path / "giaoban.sqlite3"
    barrier = threading.Barrier(8)
    versions: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            store = Store.open(path)
            versions.append(store.schema_version())
            store.close()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert versions == [load_migrations()[-1].version] * 8
    plain = sqlite3.connect(path)
    count = plain.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0]
    plain.close()
    assert count == len(load_migrations())


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_db(datetime(2025, 1, 1, 9, 0))
