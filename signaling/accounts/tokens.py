"""API tokens for automation, sent as `Authorization: Bearer <token>`.

A token belongs to one account and acts with that account's role. Only the SHA-256
of the secret is stored; the secret is shown once, when the token is created. A
token stops working when it is revoked or when its account is deactivated.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from signaling.accounts import audit
from signaling.accounts.accounts import Account, AccountService
from signaling.errors import BadRequest, NotFound, Unauthorized
from signaling.store import Store, from_db, to_db, utcnow

log = logging.getLogger(__name__)

TOKEN_PREFIX = "gb_"
NAME_MAX = 100
USE_INTERVAL = timedelta(minutes=1)
"""last_used_at is written at most this often."""
INVALID_TOKEN = "This API token is unknown, revoked, or its account is deactivated."


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: str
    username: str
    name: str
    """What the token is for, e.g. "HR sync"."""
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _token(row: sqlite3.Row) -> ApiToken:
    return ApiToken(
        id=row["id"], username=row["username"], name=row["name"],
        created_at=from_db(row["created_at"]),
        last_used_at=from_db(row["last_used_at"]) if row["last_used_at"] else None,
        revoked_at=from_db(row["revoked_at"]) if row["revoked_at"] else None,
    )


class ApiTokenService:
    def __init__(self, store: Store, accounts: AccountService,
                 now: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._accounts = accounts
        self._now = now

    def create(self, username: str, name: str, actor: str) -> tuple[ApiToken, str]:
        """A new token and its secret (shown once)."""
        account = self._accounts.get(username)
        label = name.strip()
        if not label or len(label) > NAME_MAX:
            raise BadRequest(f"Give the token a name of 1 to {NAME_MAX} characters.",
                             rule="token_name", max=NAME_MAX)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = f"tok-{secrets.token_hex(6)}"
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO api_tokens (id, username, name, token_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (token_id, account.username, label, token_hash(secret), to_db(self._now())))
            audit.record(db, actor, "token.create", account.username, None,
                         {"token": token_id, "name": label})
        log.info("API token %s created for %s by %s", token_id, account.username, actor)
        return self.get(token_id), secret

    def get(self, token_id: str) -> ApiToken:
        row = self._store.fetch_one("SELECT * FROM api_tokens WHERE id = ?", (token_id,))
        if row is None:
            raise NotFound(f"No API token with id {token_id!r}.")
        return _token(row)

    def list_for(self, username: str) -> list[ApiToken]:
        rows = self._store.fetch_all(
            "SELECT * FROM api_tokens WHERE username = ? ORDER BY created_at, id",
            (username.strip().lower(),))
        return [_token(row) for row in rows]

    def revoke(self, token_id: str, actor: str) -> ApiToken:
        with self._store.transaction() as db:
            row = db.execute("SELECT * FROM api_tokens WHERE id = ?", (token_id,)).fetchone()
            if row is None:
                raise NotFound(f"No API token with id {token_id!r}.")
            if row["revoked_at"] is None:
                db.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ?",
                           (to_db(self._now()), token_id))
                audit.record(db, actor, "token.revoke", row["username"],
                             {"token": token_id, "name": row["name"]}, None)
        log.info("API token %s revoked by %s", token_id, actor)
        return self.get(token_id)

    def authenticate(self, secret: str) -> Account:
        """The account behind a bearer secret; Unauthorized when it does not hold."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            raise Unauthorized(INVALID_TOKEN)
        digest = token_hash(secret)
        row = self._store.fetch_one(
            "SELECT id, username, last_used_at, revoked_at FROM api_tokens"
            " WHERE token_hash = ?", (digest,))
        if row is None or row["revoked_at"] is not None:
            raise Unauthorized(INVALID_TOKEN)
        account = self._accounts.find(row["username"])
        if account is None or not account.active:
            raise Unauthorized(INVALID_TOKEN)
        now = self._now()
        last = from_db(row["last_used_at"]) if row["last_used_at"] else None
        if last is None or now - last >= USE_INTERVAL:
            with self._store.transaction() as db:
                db.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?",
                           (to_db(now), row["id"]))
        return account
