"""Accounts: validation, password hashing, sign-in, the first admin and the seat cap."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from signaling.accounts.accounts import AccountService
from signaling.accounts.fields import ROLES
from signaling.accounts.passwords import (
    PasswordRejected,
    check_policy,
    hash_password,
    verify_password,
)
from signaling.errors import BadRequest, Conflict, LicenceExhausted, NotFound, Unauthorized
from signaling.store import Store
from tests.unit.syscalls import SLEEPS, blocked_in

PASSWORD = "correct horse"


@pytest.fixture
def accounts(store: Store) -> AccountService:
    return AccountService(store, seats=150)


# ---------------------------------------------------------------- passwords


def test_hash_format_and_verification() -> None:
    encoded = hash_password(PASSWORD)
    scheme, n, r, p, salt, digest = encoded.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(salt) == 24 and len(digest) == 44
    assert PASSWORD not in encoded
    assert verify_password(PASSWORD, encoded)
    assert not verify_password(PASSWORD + "x", encoded)
    assert hash_password(PASSWORD) != encoded  # a fresh salt each time


@pytest.mark.parametrize(
    "encoded", ["", "plain", "scrypt$16384$8$1$!!$!!", "bcrypt$1$2$3$4$5", "scrypt$3$8$1$AA==$AA=="]
)
def test_malformed_hash_never_verifies(encoded: str) -> None:
    assert not verify_password(PASSWORD, encoded)


def test_policy() -> None:
    check_policy("tram-chim-9", "lan")
    check_policy("nguyenvana-2025", "nguyenvana")  # containing it is allowed
    with pytest.raises(BadRequest, match="at least 10 characters"):
        check_policy("abcdefghi")
    with pytest.raises(PasswordRejected, match="not be the username") as info:
        check_policy("NguyenVanA", "nguyenvana")
    assert info.value.extra["rule"] == "same_as_username"
    for easy in ("aaaaaaaaaaaa", "1212121212", "1234567890", "Password123"):
        with pytest.raises(PasswordRejected, match="too easy") as info:
            check_policy(easy)
        assert info.value.extra["rule"] == "too_simple"
    with pytest.raises(PasswordRejected, match="at most 1024"):
        check_policy("ab1-" * 300)


# ---------------------------------------------------------------- creation


def test_create_normalises_and_reads_back(accounts: AccountService) -> None:
    account = accounts.create(" Nguyen.Van-A_1 ", "  Nguyễn Văn A ", "leader", PASSWORD)
    assert account.username == "nguyen.van-a_1"
    assert account.display_name == "Nguyễn Văn A"
    assert account.role == "leader"
    assert account.active is True
    assert account.created_at.tzinfo is not None
    assert accounts.get("NGUYEN.VAN-A_1") == account
    assert accounts.find("nobody") is None


def test_password_is_stored_hashed(accounts: AccountService, store: Store) -> None:
    accounts.create("alice", "Alice", "clerk", PASSWORD)
    row = store.fetch_one("SELECT password_hash FROM accounts WHERE username = 'alice'")
    assert row is not None
    assert row["password_hash"].startswith("scrypt$16384$8$1$")
    assert PASSWORD not in row["password_hash"]


def test_duplicate_username_conflicts(accounts: AccountService) -> None:
    accounts.create("alice", "Alice", "clerk", PASSWORD)
    with pytest.raises(Conflict, match="'alice' already exists"):
        accounts.create("ALICE", "Other Alice", "official", PASSWORD)
    assert len(accounts.list()) == 1


@pytest.mark.parametrize("role", ROLES)
def test_every_role_is_accepted(accounts: AccountService, role: str) -> None:
    assert accounts.create("user", "User", role, PASSWORD).role == role


def test_bad_role(accounts: AccountService) -> None:
    with pytest.raises(BadRequest, match="Unknown role 'minister'"):
        accounts.create("alice", "Alice", "minister", PASSWORD)
    assert accounts.list() == []


@pytest.mark.parametrize("username", ["a", "x" * 33, "has space", "ünï", "semi;colon", "", "a@b"])
def test_bad_username(accounts: AccountService, username: str) -> None:
    with pytest.raises(BadRequest, match="is not valid"):
        accounts.create(username, "Someone", "clerk", PASSWORD)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_bad_display_name(accounts: AccountService, name: str) -> None:
    with pytest.raises(BadRequest, match="display name"):
        accounts.create("alice", name, "clerk", PASSWORD)


def test_short_password(accounts: AccountService) -> None:
    with pytest.raises(BadRequest, match="at least 10 characters"):
        accounts.create("alice", "Alice", "clerk", "short")
    assert accounts.find("alice") is None


def test_list_is_sorted_and_get_reports_missing(accounts: AccountService) -> None:
    for name in ("carol", "alice", "bob"):
        accounts.create(name, name.title(), "official", PASSWORD)
    assert [a.username for a in accounts.list()] == ["alice", "bob", "carol"]
    with pytest.raises(NotFound, match="No account with username 'dave'"):
        accounts.get("dave")


def test_set_role_and_password(accounts: AccountService) -> None:
    accounts.create("alice", "Alice", "clerk", PASSWORD)
    assert accounts.set_role("alice", "secretary").role == "secretary"
    with pytest.raises(BadRequest):
        accounts.set_role("alice", "king")
    accounts.set_password("alice", "a new secret")
    assert accounts.authenticate("alice", "a new secret").username == "alice"
    with pytest.raises(Unauthorized):
        accounts.authenticate("alice", PASSWORD)


# ---------------------------------------------------------------- sign-in


def test_authenticate(accounts: AccountService) -> None:
    accounts.create("alice", "Alice", "clerk", PASSWORD)
    assert accounts.authenticate("Alice", PASSWORD).username == "alice"


@pytest.mark.parametrize(("username", "password"), [("alice", "wrong pass"), ("nobody", PASSWORD)])
def test_authenticate_failures_share_one_message(
    accounts: AccountService, username: str, password: str
) -> None:
    accounts.create("alice", "Alice", "clerk", PASSWORD)
    with pytest.raises(Unauthorized) as info:
        accounts.authenticate(username, password)
    assert str(info.value) == "Wrong username or password"


def test_inactive_account_cannot_sign_in(accounts: AccountService) -> None:
    accounts.create("alice", "Alice", "clerk", PASSWORD)
    accounts.set_active("alice", False)
    with pytest.raises(Unauthorized) as info:
        accounts.authenticate("alice", PASSWORD)
    assert str(info.value) == "Wrong username or password"


def test_unknown_username_still_spends_hashing_time(accounts: AccountService) -> None:
    with pytest.raises(Unauthorized):
        accounts.authenticate("warmup", PASSWORD)  # the throwaway hash is made once
    started = time.perf_counter()
    with pytest.raises(Unauthorized):
        accounts.authenticate("nobody", PASSWORD)
    assert time.perf_counter() - started > 0.005


# ---------------------------------------------------------------- first admin


def test_first_admin_gets_a_one_time_password(accounts: AccountService) -> None:
    password = accounts.ensure_first_admin({})
    assert password is not None and len(password) >= 12
    admin = accounts.authenticate("admin", password)
    assert (admin.role, admin.display_name) == ("admin", "Administrator")
    assert accounts.ensure_first_admin({}) is None
    assert len(accounts.list()) == 1


def test_first_admin_password_from_environment(accounts: AccountService) -> None:
    assert accounts.ensure_first_admin({"GIAOBAN_ADMIN_PASSWORD": "chosen secret"}) is None
    assert accounts.authenticate("admin", "chosen secret").role == "admin"


def test_first_admin_environment_password_must_follow_policy(accounts: AccountService) -> None:
    with pytest.raises(BadRequest, match="GIAOBAN_ADMIN_PASSWORD.*at least 10"):
        accounts.ensure_first_admin({"GIAOBAN_ADMIN_PASSWORD": "short"})
    assert accounts.list() == []


def test_no_first_admin_when_accounts_exist(accounts: AccountService) -> None:
    accounts.create("alice", "Alice", "clerk", PASSWORD)
    accounts.set_active("alice", False)
    assert accounts.ensure_first_admin({}) is None
    assert accounts.find("admin") is None


# ---------------------------------------------------------------- seat cap


def test_seat_cap(store: Store) -> None:
    accounts = AccountService(store, seats=3)
    for name in ("u1", "u2", "u3"):
        accounts.create(name, name, "official", PASSWORD)
    with pytest.raises(LicenceExhausted) as info:
        accounts.create("u4", "u4", "official", PASSWORD)
    assert "3 of 3 seats are used, 0 left" in str(info.value)
    assert info.value.extra == {"seats": 3, "seats_used": 3, "seats_left": 0, "rule": "no_seat"}
    assert accounts.find("u4") is None
    assert accounts.count_active() == 3


def test_deactivating_frees_a_seat_and_reactivating_needs_one(store: Store) -> None:
    accounts = AccountService(store, seats=2)
    accounts.create("u1", "u1", "official", PASSWORD)
    accounts.create("u2", "u2", "official", PASSWORD)
    assert accounts.set_active("u1", False).active is False
    assert accounts.seats_left() == 1
    accounts.create("u3", "u3", "official", PASSWORD)
    with pytest.raises(LicenceExhausted, match="2 of 2 seats are used, 0 left"):
        accounts.set_active("u1", True)
    assert accounts.get("u1").active is False
    accounts.set_active("u2", False)
    assert accounts.set_active("u1", True).active is True
    assert accounts.set_active("u1", True).active is True  # already active: no seat needed


def test_cap_lives_in_the_database(store: Store) -> None:
    AccountService(store, seats=1).create("u1", "u1", "official", PASSWORD)
    with (
        pytest.raises(sqlite3.IntegrityError, match="licence_exhausted"),
        store.transaction() as db,
    ):
        db.execute(
            "INSERT INTO accounts (username, display_name, role, password_hash, active,"
            " created_at) VALUES ('raw', 'Raw', 'clerk', 'x', 1, '2025-01-01')"
        )
    with store.transaction() as db:  # inactive accounts hold no seat
        db.execute(
            "INSERT INTO accounts (username, display_name, role, password_hash, active,"
            " created_at) VALUES ('raw', 'Raw', 'clerk', 'x', 0, '2025-01-01')"
        )


def test_lower_seat_count_keeps_existing_accounts_but_refuses_new_ones(store: Store) -> None:
    roomy = AccountService(store, seats=3)
    for name in ("u1", "u2", "u3"):
        roomy.create(name, name, "official", PASSWORD)
    tight = AccountService(store, seats=2)
    assert tight.count_active() == 3
    with pytest.raises(LicenceExhausted, match="3 of 2 seats are used, 0 left"):
        tight.create("u4", "u4", "official", PASSWORD)


def test_seat_cap_holds_under_concurrent_creates(tmp_path: Path) -> None:
    path = tmp_path / "giaoban.sqlite3"
    Store.open(path).close()
    seats, workers = 3, 20
    barrier = threading.Barrier(workers + 1)  # the workers and this test
    created: list[str] = []
    refused: list[str] = []
    unexpected: list[BaseException] = []

    threads_ids: list[int] = []

    def worker(i: int) -> None:
        store = Store.open(path)
        try:
            service = AccountService(store, seats=seats)
            threads_ids.append(threading.get_native_id())
            barrier.wait()
            service.create(f"user{i:02d}", f"User {i}", "official", PASSWORD)
            created.append(f"user{i:02d}")
        except LicenceExhausted:
            refused.append(f"user{i:02d}")
        except BaseException as exc:  # collected and asserted below
            unexpected.append(exc)
        finally:
            store.close()

    # The test holds the write lock until every thread waits for it, so all of them
    # write at once: a seat check made outside the write would let them all in.
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        deadline = time.monotonic() + 60
        while len(threads_ids) < workers:  # each has opened its store
            assert not unexpected, unexpected
            assert time.monotonic() < deadline, "the threads never all opened the store"
            time.sleep(0.01)
        holder.execute("BEGIN IMMEDIATE")
        barrier.wait(60)
        while not (len(threads_ids) == workers and all(
                (call := blocked_in(f"self/task/{tid}")) is not None and call[0] in SLEEPS
                for tid in threads_ids)):
            assert not unexpected, unexpected
            assert time.monotonic() < deadline, "the threads never all waited for the lock"
            time.sleep(0.01)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        for thread in threads:
            thread.join()

    assert unexpected == []
    assert len(created) == seats
    assert len(refused) == workers - seats
    check = Store.open(path)
    try:
        service = AccountService(check, seats=seats)
        assert service.count_active() == seats
        assert sorted(a.username for a in service.list()) == sorted(created)
    finally:
        check.close()


def test_seat_cap_holds_when_threads_share_one_store(store: Store) -> None:
    service = AccountService(store, seats=4)
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def worker(i: int) -> None:
        barrier.wait()
        try:
            service.create(f"user{i:02d}", "User", "official", PASSWORD)
            outcomes.append("created")
        except LicenceExhausted:
            outcomes.append("refused")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created"] * 4 + ["refused"] * 8
    assert service.count_active() == 4
