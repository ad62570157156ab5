"""Private calendar feed URLs: one revocable token per account, stored hashed.

The feed URL carries the token instead of a session, so a calendar program can
subscribe. Issuing a new token revokes the old one; only its SHA-256 is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from signaling.ids import Username
from signaling.store import Store, to_db, utcnow

log = logging.getLogger(__name__)

TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class FeedService:
    def __init__(self, store: Store) -> None:
        self._store = store

    def issue(self, username: str) -> str:
        """A new feed token for `username` (shown once); any earlier one stops working."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO calendar_feeds (username, token_hash, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (username) DO UPDATE SET token_hash = excluded.token_hash,"
                " created_at = excluded.created_at",
                (username, token_hash(token), to_db(utcnow())),
            )
        log.info("calendar feed token issued for %s", username)
        return token

    def revoke(self, username: str) -> bool:
        with self._store.transaction() as db:
            cursor = db.execute("DELETE FROM calendar_feeds WHERE username = ?", (username,))
        log.info("calendar feed of %s revoked", username)
        return cursor.rowcount > 0

    def has_feed(self, username: str) -> bool:
        return self._store.fetch_one(
            "SELECT 1 FROM calendar_feeds WHERE username = ?", (username,)) is not None

    def owner(self, token: str) -> Username | None:
        """The account a feed token belongs to, or None when unknown or revoked."""
        if not token or len(token) > 200:
            return None
        wanted = token_hash(token)
        row = self._store.fetch_one(
            "SELECT username, token_hash FROM calendar_feeds WHERE token_hash = ?", (wanted,))
        if row is None or not hmac.compare_digest(row["token_hash"], wanted):
            return None
        return Username(row["username"])
