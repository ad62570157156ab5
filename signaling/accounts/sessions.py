"""Browser sessions: an opaque token in a cookie, only its SHA-256 in the database.

A session expires when unused for `idle` or when older than `absolute`, and at once
when its account is deactivated. An account holds at most `max_per_account` sessions:
a sign-in beyond that ends the account's oldest ones (by sign-in time).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from signaling.errors import SessionExpired, Unauthorized
from signaling.ids import SessionToken, Username
from signaling.store import Store, from_db, to_db, utcnow

log = logging.getLogger(__name__)

DEFAULT_MAX_PER_ACCOUNT = 10
"""Sessions one account may hold when the configuration does not say."""

TOUCH_INTERVAL = timedelta(minutes=1)
"""last_seen is written at most this often, to spare the database a write per request."""


@dataclass(frozen=True, slots=True)
class Session:
    token: SessionToken
    """The secret the browser holds; never stored, only its hash."""
    username: Username
    csrf_token: str
    """Echoed by forms and API calls that change something."""
    created_at: datetime
    last_seen: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SessionService:
    def __init__(
        self,
        store: Store,
        idle: timedelta,
        absolute: timedelta,
        now: Callable[[], datetime] = utcnow,
        max_per_account: int = DEFAULT_MAX_PER_ACCOUNT,
    ) -> None:
        if max_per_account < 1:
            raise ValueError("an account must be allowed at least one session")
        self._store = store
        self.idle = idle
        self.absolute = absolute
        self._now = now
        self.max_per_account = max_per_account

    def create(self, username: str) -> Session:
        """Start a session for an active account, ending its oldest beyond the cap."""
        token = SessionToken(secrets.token_urlsafe(32))
        csrf = secrets.token_urlsafe(24)
        now = self._now()
        with self._store.transaction() as db:
            row = db.execute(
                "SELECT username, active FROM accounts WHERE username = ?",
                (username.strip().lower(),),
            ).fetchone()
            if row is None or not row["active"]:
                raise Unauthorized("This account does not exist or is deactivated.")
            db.execute(
                "INSERT INTO sessions (token_hash, username, csrf_token, created_at, last_seen)"
                " VALUES (?, ?, ?, ?, ?)",
                (token_hash(token), row["username"], csrf, to_db(now), to_db(now)),
            )
            ended = db.execute(
                "DELETE FROM sessions WHERE username = ? AND token_hash NOT IN ("
                " SELECT token_hash FROM sessions WHERE username = ?"
                " ORDER BY created_at DESC, rowid DESC LIMIT ?)",
                (row["username"], row["username"], self.max_per_account),
            ).rowcount
        log.info("session started for %s", row["username"])
        if ended:
            log.info("%d oldest session(s) of %s ended: at most %d per account",
                     ended, row["username"], self.max_per_account)
        return Session(token, Username(row["username"]), csrf, now, now)

    def get(self, token: str) -> Session:
        """The live session for token; Unauthorized if unknown, SessionExpired if too old."""
        if not token:
            raise Unauthorized("Please sign in.")
        digest = token_hash(token)
        now = self._now()
        with self._store.transaction() as db:
            row = db.execute(
                "SELECT s.username, s.csrf_token, s.created_at, s.last_seen, a.active"
                " FROM sessions s JOIN accounts a ON a.username = s.username"
                " WHERE s.token_hash = ?",
                (digest,),
            ).fetchone()
            if row is None:
                raise Unauthorized("Please sign in.")
            created_at = from_db(row["created_at"])
            last_seen = from_db(row["last_seen"])
            expired = (
                now - last_seen > self.idle
                or now - created_at > self.absolute
                or not row["active"]
            )
            if expired:
                db.execute("DELETE FROM sessions WHERE token_hash = ?", (digest,))
            elif now - last_seen >= TOUCH_INTERVAL:
                db.execute(
                    "UPDATE sessions SET last_seen = ? WHERE token_hash = ?",
                    (to_db(now), digest),
                )
                last_seen = now
        if expired:
            raise SessionExpired("Your session has expired. Please sign in again.")
        return Session(
            SessionToken(token), Username(row["username"]), row["csrf_token"],
            created_at, last_seen,
        )

    def revoke(self, token: str) -> None:
        """End one session (sign out); unknown tokens are ignored."""
        with self._store.transaction() as db:
            db.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash(token),))

    def revoke_all(self, username: str) -> int:
        """End every session of an account; returns how many there were."""
        with self._store.transaction() as db:
            cursor: sqlite3.Cursor = db.execute(
                "DELETE FROM sessions WHERE username = ?", (username.strip().lower(),)
            )
            return cursor.rowcount

    def purge_expired(self) -> int:
        """Delete sessions past either limit; returns how many."""
        now = self._now()
        with self._store.transaction() as db:
            cursor = db.execute(
                "DELETE FROM sessions WHERE last_seen < ? OR created_at < ?",
                (to_db(now - self.idle), to_db(now - self.absolute)),
            )
            return cursor.rowcount
