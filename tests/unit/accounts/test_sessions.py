"""Sessions: hashed tokens, idle and absolute expiry, revocation."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from signaling.accounts.accounts import AccountService
from signaling.accounts.sessions import SessionService
from signaling.errors import SessionExpired, Unauthorized
from signaling.store import Store

IDLE = timedelta(minutes=60)
ABSOLUTE = timedelta(hours=4)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 14, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(store: Store) -> AccountService:
    service = AccountService(store, seats=10)
    service.create("alice", "Alice", "leader", "password-a")
    service.create("bob", "Bob", "clerk", "password-b")
    return service


@pytest.fixture
def sessions(store: Store, accounts: AccountService, clock: Clock) -> SessionService:
    return SessionService(store, idle=IDLE, absolute=ABSOLUTE, now=clock)


def expect_plain_unauthorized(sessions: SessionService, token: str) -> None:
    with pytest.raises(Unauthorized) as info:
        sessions.get(token)
    assert type(info.value) is Unauthorized


def test_create_and_get(sessions: SessionService, clock: Clock) -> None:
    session = sessions.create("Alice")
    assert session.username == "alice"
    assert len(session.token) >= 40 and len(session.csrf_token) >= 24
    assert session.created_at == session.last_seen == clock.now
    got = sessions.get(session.token)
    assert got == session


def test_only_the_token_hash_is_stored(sessions: SessionService, store: Store) -> None:
    session = sessions.create("alice")
    rows = store.fetch_all("SELECT token_hash FROM sessions")
    assert [r["token_hash"] for r in rows] == [hashlib.sha256(session.token.encode()).hexdigest()]
    dump = "\n".join(store.connection.iterdump())
    assert session.token not in dump


def test_tokens_are_unique(sessions: SessionService) -> None:
    first, second = sessions.create("alice"), sessions.create("alice")
    assert first.token != second.token
    assert first.csrf_token != second.csrf_token


def test_unknown_or_empty_token(sessions: SessionService) -> None:
    expect_plain_unauthorized(sessions, "not-a-token")
    expect_plain_unauthorized(sessions, "")


def test_create_for_unknown_or_inactive_account(
    sessions: SessionService, accounts: AccountService
) -> None:
    with pytest.raises(Unauthorized):
        sessions.create("nobody")
    accounts.set_active("bob", False)
    with pytest.raises(Unauthorized):
        sessions.create("bob")


def test_idle_expiry_deletes_the_session(sessions: SessionService, clock: Clock) -> None:
    session = sessions.create("alice")
    clock.advance(minutes=60)
    sessions.get(session.token)  # exactly at the limit: still valid
    clock.advance(minutes=60, seconds=1)
    with pytest.raises(SessionExpired):
        sessions.get(session.token)
    expect_plain_unauthorized(sessions, session.token)


def test_use_keeps_a_session_alive_until_the_absolute_limit(
    sessions: SessionService, clock: Clock
) -> None:
    session = sessions.create("alice")
    for _ in range(7):  # 3.5 hours of activity, each step under the idle limit
        clock.advance(minutes=30)
        assert sessions.get(session.token).username == "alice"
    clock.advance(minutes=31)
    with pytest.raises(SessionExpired):
        sessions.get(session.token)


def test_last_seen_is_written_at_most_once_a_minute(
    sessions: SessionService, store: Store, clock: Clock
) -> None:
    session = sessions.create("alice")

    def stored_last_seen() -> str:
        row = store.fetch_one("SELECT last_seen FROM sessions")
        assert row is not None
        return str(row["last_seen"])

    before = stored_last_seen()
    clock.advance(seconds=30)
    assert sessions.get(session.token).last_seen == session.created_at
    assert stored_last_seen() == before
    clock.advance(seconds=31)
    assert sessions.get(session.token).last_seen == clock.now
    assert stored_last_seen() != before


def test_deactivated_account_ends_its_sessions(
    sessions: SessionService, accounts: AccountService
) -> None:
    session = sessions.create("bob")
    other = sessions.create("alice")
    accounts.set_active("bob", False)
    expect_plain_unauthorized(sessions, session.token)
    accounts.set_active("bob", True)
    expect_plain_unauthorized(sessions, session.token)  # gone for good
    assert sessions.get(other.token).username == "alice"


def test_password_change_or_reset_ends_every_session(
    sessions: SessionService, accounts: AccountService
) -> None:
    first, second = sessions.create("bob"), sessions.create("bob")
    accounts.set_password("bob", "a new long secret")
    expect_plain_unauthorized(sessions, first.token)
    expect_plain_unauthorized(sessions, second.token)
    third = sessions.create("bob")
    accounts.reset_password("bob")
    expect_plain_unauthorized(sessions, third.token)


def test_an_account_deactivated_behind_the_service_expires_on_next_use(
    sessions: SessionService, store: Store
) -> None:
    session = sessions.create("bob")
    with store.transaction() as db:
        db.execute("UPDATE accounts SET active = 0 WHERE username = 'bob'")
    with pytest.raises(SessionExpired):
        sessions.get(session.token)


def test_revoke(sessions: SessionService) -> None:
    session = sessions.create("alice")
    other = sessions.create("alice")
    sessions.revoke(session.token)
    sessions.revoke(session.token)
    sessions.revoke("never-issued")
    expect_plain_unauthorized(sessions, session.token)
    assert sessions.get(other.token).username == "alice"


def test_revoke_all(sessions: SessionService) -> None:
    mine = [sessions.create("alice") for _ in range(2)]
    theirs = sessions.create("bob")
    assert sessions.revoke_all("alice") == 2
    for session in mine:
        expect_plain_unauthorized(sessions, session.token)
    assert sessions.get(theirs.token).username == "bob"
    assert sessions.revoke_all("alice") == 0


def test_purge_expired(sessions: SessionService, clock: Clock) -> None:
    old = sessions.create("alice")
    clock.advance(minutes=90)
    fresh = sessions.create("bob")
    assert sessions.purge_expired() == 1
    expect_plain_unauthorized(sessions, old.token)
    assert sessions.get(fresh.token).username == "bob"


def test_the_oldest_sessions_end_beyond_the_cap(
    store: Store, accounts: AccountService, clock: Clock
) -> None:
    sessions = SessionService(store, idle=IDLE, absolute=ABSOLUTE, now=clock,
                              max_per_account=2)
    first = sessions.create("alice")
    bob = sessions.create("bob")
    clock.advance(minutes=1)
    second, third = sessions.create("alice"), sessions.create("alice")  # same instant
    expect_plain_unauthorized(sessions, first.token)
    assert sessions.get(second.token).username == "alice"
    assert sessions.get(third.token).username == "alice"
    assert sessions.get(bob.token).username == "bob"
    fourth = sessions.create("alice")
    expect_plain_unauthorized(sessions, second.token)
    assert {sessions.get(t.token).username for t in (third, fourth, bob)} == {"alice", "bob"}


def test_the_cap_is_at_least_one(store: Store) -> None:
    with pytest.raises(ValueError):
        SessionService(store, idle=IDLE, absolute=ABSOLUTE, max_per_account=0)
