"""Licensed staff accounts: creation, sign-in, roles and the seat cap.

The seat cap lives in the database: a trigger refuses to insert or activate an account
when the active count has reached the licensed seats (stored in the settings table).
No read-then-write in Python can let two concurrent writers exceed it.
"""

from __future__ import annotations

import builtins
import logging
import re
import secrets
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast, get_args

from .errors import BadRequest, Conflict, LicenceExhausted, NotFound, Unauthorized
from .ids import Username
from .passwords import check_policy, hash_password, verify_password
from .store import Store, from_db, to_db, utcnow

log = logging.getLogger(__name__)

Role = Literal["admin", "leader", "secretary", "official", "clerk", "it"]
ROLES: tuple[Role, ...] = get_args(Role)
AccountKind = Literal["staff", "room"]
"""A person holding a licence seat, or a dedicated room's own endpoint (no seat)."""

USERNAME_PATTERN = re.compile(r"^[a-z0-9._-]{2,32}$")
DISPLAY_NAME_MAX = 100
FIRST_ADMIN = Username("admin")
ADMIN_PASSWORD_ENV = "GIAOBAN_ADMIN_PASSWORD"
SIGN_IN_FAILED = "Wrong username or password"
SEATS_SETTING = "licence_seats"


@dataclass(frozen=True, slots=True)
class Account:
    username: Username
    display_name: str
    role: Role
    active: bool
    """Only active accounts can sign in; each active staff account holds a licence seat."""
    created_at: datetime
    kind: AccountKind = "staff"


def normalize_username(text: str) -> Username:
    """Lowercase and check a username; BadRequest names the rule that was broken."""
    username = text.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise BadRequest(
            f"Username {text!r} is not valid: use 2 to 32 characters, "
            "only lowercase letters, digits, '.', '_' and '-'."
        )
    return Username(username)


def check_role(text: str) -> Role:
    if text not in ROLES:
        raise BadRequest(f"Unknown role {text!r}; choose one of: {', '.join(ROLES)}.")
    return text


def check_display_name(text: str) -> str:
    name = text.strip()
    if not name:
        raise BadRequest("The display name must not be empty.")
    if len(name) > DISPLAY_NAME_MAX:
        raise BadRequest(f"The display name must be at most {DISPLAY_NAME_MAX} characters.")
    return name


def _account(row: sqlite3.Row) -> Account:
    return Account(
        username=Username(row["username"]),
        display_name=row["display_name"],
        role=cast(Role, row["role"]),
        active=bool(row["active"]),
        created_at=from_db(row["created_at"]),
        kind=cast(AccountKind, row["kind"]),
    )


_COLUMNS = "username, display_name, role, active, created_at, kind"
_dummy_hash: str | None = None


def _spend_hashing_time(password: str) -> None:
    """Hash once against a throwaway hash so an unknown username costs as much time."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(secrets.token_urlsafe(16))
    verify_password(password, _dummy_hash)


class AccountService:
    def __init__(self, store: Store, seats: int) -> None:
        if seats < 1:
            raise ValueError("seats must be at least 1")
        self._store = store
        self.seats = seats
        with store.transaction() as db:
            db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (SEATS_SETTING, str(seats)),
            )

    # ------------------------------------------------------------ reading

    def find(self, username: str) -> Account | None:
        row = self._store.fetch_one(
            f"SELECT {_COLUMNS} FROM accounts WHERE username = ?", (username.strip().lower(),)
        )
        return None if row is None else _account(row)

    def get(self, username: str) -> Account:
        account = self.find(username)
        if account is None:
            raise NotFound(f"No account with username {username!r}.")
        return account

    def list(self) -> list[Account]:
        rows = self._store.fetch_all(f"SELECT {_COLUMNS} FROM accounts ORDER BY username")
        return [_account(row) for row in rows]

    def count_active(self) -> int:
        row = self._store.fetch_one(
            "SELECT COUNT(*) FROM accounts WHERE active = 1 AND kind = 'staff'"
        )
        return int(row[0]) if row is not None else 0

    def seats_used(self) -> int:
        return self.count_active()

    def seats_left(self) -> int:
        return max(0, self.seats - self.count_active())

    def leaders_of(self, secretary: str) -> builtins.list[str]:
        rows = self._store.fetch_all(
            "SELECT leader FROM secretary_assignments WHERE secretary = ? ORDER BY leader",
            (secretary.strip().lower(),),
        )
        return [str(row["leader"]) for row in rows]

    # ------------------------------------------------------------ writing

    def assign_secretary(self, secretary: str, leader: str) -> None:
        """Let `secretary` schedule meetings on behalf of `leader`."""
        helper, chief = self.get(secretary), self.get(leader)
        if helper.role != "secretary":
            raise BadRequest(f"The account {helper.username!r} is not a secretary.")
        if chief.role != "leader":
            raise BadRequest(f"The account {chief.username!r} is not a leader.")
        with self._store.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO secretary_assignments (secretary, leader) VALUES (?, ?)",
                (helper.username, chief.username),
            )

    def create(self, username: str, display_name: str, role: str, password: str) -> Account:
        """Create an active account; Conflict if taken, LicenceExhausted if no seat is left."""
        name = normalize_username(username)
        display = check_display_name(display_name)
        checked_role = check_role(role)
        check_policy(password)
        encoded = hash_password(password)
        created_at = utcnow()
        try:
            with self._store.transaction() as db:
                if db.execute("SELECT 1 FROM accounts WHERE username = ?", (name,)).fetchone():
                    raise Conflict(f"An account with username {name!r} already exists.")
                db.execute(
                    "INSERT INTO accounts"
                    " (username, display_name, role, password_hash, active, created_at)"
                    " VALUES (?, ?, ?, ?, 1, ?)",
                    (name, display, checked_role, encoded, to_db(created_at)),
                )
        except sqlite3.IntegrityError as exc:
            raise self._translate(exc, name) from exc
        log.info("account %s created (role %s)", name, checked_role)
        return self.get(name)

    def set_active(self, username: str, active: bool) -> Account:
        """Activate (needs a free seat) or deactivate an account.

        A deactivated account cannot sign in, and its open sessions expire on next use.
        """
        account = self.get(username)
        try:
            with self._store.transaction() as db:
                db.execute(
                    "UPDATE accounts SET active = ? WHERE username = ?",
                    (1 if active else 0, account.username),
                )
        except sqlite3.IntegrityError as exc:
            raise self._translate(exc, account.username) from exc
        log.info("account %s %s", account.username, "activated" if active else "deactivated")
        return self.get(account.username)

    def set_role(self, username: str, role: str) -> Account:
        account = self.get(username)
        checked_role = check_role(role)
        with self._store.transaction() as db:
            db.execute(
                "UPDATE accounts SET role = ? WHERE username = ?",
                (checked_role, account.username),
            )
        log.info("account %s now has role %s", account.username, checked_role)
        return self.get(account.username)

    def set_display_name(self, username: str, display_name: str) -> Account:
        account = self.get(username)
        display = check_display_name(display_name)
        with self._store.transaction() as db:
            db.execute(
                "UPDATE accounts SET display_name = ? WHERE username = ?",
                (display, account.username),
            )
        return self.get(account.username)

    def set_password(self, username: str, password: str) -> None:
        account = self.get(username)
        check_policy(password)
        encoded = hash_password(password)
        with self._store.transaction() as db:
            db.execute(
                "UPDATE accounts SET password_hash = ? WHERE username = ?",
                (encoded, account.username),
            )
        log.info("account %s: password changed", account.username)

    def _translate(self, exc: sqlite3.IntegrityError, username: str) -> Exception:
        if "licence_exhausted" in str(exc):
            used = self.count_active()
            left = max(0, self.seats - used)
            return LicenceExhausted(
                f"No licence seat is left: {used} of {self.seats} seats are used, "
                f"{left} left. Deactivate an account to free a seat.",
                seats=self.seats, seats_used=used, seats_left=left,
            )
        if "UNIQUE" in str(exc):
            return Conflict(f"An account with username {username!r} already exists.")
        return exc

    # ------------------------------------------------------------ sign-in

    def authenticate(self, username: str, password: str) -> Account:
        """The account for these credentials; Unauthorized with one message for any failure."""
        row = self._store.fetch_one(
            f"SELECT {_COLUMNS}, password_hash FROM accounts WHERE username = ?",
            (username.strip().lower(),),
        )
        if row is None:
            _spend_hashing_time(password)
            raise Unauthorized(SIGN_IN_FAILED)
        if not verify_password(password, row["password_hash"]) or not row["active"]:
            raise Unauthorized(SIGN_IN_FAILED)
        return _account(row)

    def ensure_first_admin(self, env: Mapping[str, str]) -> str | None:
        """Create the 'admin' account when there is no account at all.

        The password comes from GIAOBAN_ADMIN_PASSWORD when set (returns None);
        otherwise a random one-time password is returned for the caller to show once.
        """
        row = self._store.fetch_one("SELECT COUNT(*) FROM accounts")
        if row is not None and int(row[0]) > 0:
            return None
        given = env.get(ADMIN_PASSWORD_ENV, "")
        password = given or secrets.token_urlsafe(12)
        try:
            self.create(FIRST_ADMIN, "Administrator", "admin", password)
        except BadRequest as exc:
            raise BadRequest(f"{ADMIN_PASSWORD_ENV}: {exc.detail}") from exc
        except Conflict:
            return None  # another process created it at the same moment
        log.info("created the first administrator account %r", FIRST_ADMIN)
        return None if given else password
