"""Sign-in throttling, per account name from one address, per account name from any
address, and per source address.

The counts live in the database (table login_failures), not in memory, because:
- several server processes on one machine share one database file, and an attacker
  must not get a fresh budget by reaching another process;
- a restart (or a crash the attacker provokes) must not clear a lock-out;
- the upsert runs in one write transaction, so concurrent failures are all counted.

The rule: failures of one account name from one address lock that pair after
`account_max_failures`, so someone guessing a leader's password from their own machine
locks only themselves, and the leader still signs in from theirs. The name is locked
for everyone only at the much higher `account_total_max_failures` (from any address),
and an address after `address_max_failures` whatever names it tries. While locked, the
password is not even checked. A successful sign-in clears the name's counts, not the
address's, so one known password cannot wipe an address's record of guesses at other
accounts. Checking the current password to change it counts the same way.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from signaling.config import LoginSettings
from signaling.errors import TooManyRequests
from signaling.store import Store, from_db, to_db, utcnow

log = logging.getLogger(__name__)

Scope = Literal["pair", "account", "address"]
THROTTLED = "Too many failed sign-ins. Try again in {minutes} minutes."


@dataclass(frozen=True, slots=True)
class ThrottleRules:
    account_max_failures: int = 5
    address_max_failures: int = 20
    window: timedelta = timedelta(minutes=15)
    """Failures older than this are forgotten."""
    lockout: timedelta = timedelta(minutes=15)
    """How long a name or address stays locked after its last allowed failure."""
    account_total_max_failures: int = 50
    """Failures of one account name from any addresses before the name is locked."""


def rules_from(settings: LoginSettings) -> ThrottleRules:
    return ThrottleRules(
        account_max_failures=settings.account_max_failures,
        address_max_failures=settings.address_max_failures,
        window=timedelta(minutes=settings.window_minutes),
        lockout=timedelta(minutes=settings.lockout_minutes),
        account_total_max_failures=settings.account_total_max_failures,
    )


def pair_key(name: str, address: str) -> str:
    """One account name from one address (a newline is in neither)."""
    return f"{name}\n{address}"


def retry_minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


class LoginThrottle:
    def __init__(self, store: Store, rules: ThrottleRules,
                 now: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self.rules = rules
        self._now = now

    def _keys(self, username: str, address: str) -> list[tuple[Scope, str]]:
        name = username.strip().lower()
        keys: list[tuple[Scope, str]] = [("pair", pair_key(name, address)), ("account", name)]
        if address:
            keys.append(("address", address))
        return keys

    def _limit(self, scope: Scope) -> int:
        if scope == "pair":
            return self.rules.account_max_failures
        if scope == "account":
            return self.rules.account_total_max_failures
        return self.rules.address_max_failures

    def check(self, username: str, address: str) -> None:
        """TooManyRequests (with retry_after seconds) while the name or address is locked."""
        now = self._now()
        wait = 0
        for scope, key in self._keys(username, address):
            row = self._store.fetch_one(
                "SELECT locked_until FROM login_failures WHERE scope = ? AND key = ?",
                (scope, key))
            if row is not None and row["locked_until"] is not None:
                left = (from_db(row["locked_until"]) - now).total_seconds()
                wait = max(wait, math.ceil(left))
        if wait > 0:
            minutes = retry_minutes(wait)
            raise TooManyRequests(THROTTLED.format(minutes=minutes), rule="login_throttled",
                                  retry_after=wait, minutes=minutes)

    def failed(self, username: str, address: str) -> None:
        """Count one failed sign-in against the name and the address."""
        now = self._now()
        window_start = to_db(now - self.rules.window)
        with self._store.transaction() as db:
            for scope, key in self._keys(username, address):
                limit = self._limit(scope)
                db.execute(
                    "INSERT INTO login_failures (scope, key, failures, first_at)"
                    " VALUES (?, ?, 1, ?) ON CONFLICT (scope, key) DO UPDATE SET"
                    " failures = CASE WHEN first_at < ? THEN 1 ELSE failures + 1 END,"
                    " first_at = CASE WHEN first_at < ? THEN excluded.first_at ELSE first_at END",
                    (scope, key, to_db(now), window_start, window_start))
                db.execute(
                    "UPDATE login_failures SET locked_until = ?"
                    " WHERE scope = ? AND key = ? AND failures >= ?",
                    (to_db(now + self.rules.lockout), scope, key, limit))
        log.info("failed sign-in for %r from %s", username.strip().lower()[:40], address)

    def succeeded(self, username: str, address: str = "") -> None:
        """Clear the name's counts (from this address and from any), not the address's."""
        name = username.strip().lower()
        with self._store.transaction() as db:
            db.execute("DELETE FROM login_failures WHERE (scope = 'account' AND key = ?)"
                       " OR (scope = 'pair' AND key = ?)", (name, pair_key(name, address)))

    def purge(self) -> int:
        """Forget records whose window and lock-out are both over."""
        now = self._now()
        with self._store.transaction() as db:
            cursor = db.execute(
                "DELETE FROM login_failures WHERE first_at < ?"
                " AND (locked_until IS NULL OR locked_until < ?)",
                (to_db(now - self.rules.window), to_db(now)))
            return int(cursor.rowcount)
