"""Licensed staff accounts: the record, and the service that reads, creates and changes
them, sets passwords, assigns secretaries and signs in.

The seat cap lives in the database (signaling/accounts/licence.py), so no read-then-write
in Python can let two concurrent writers exceed it.

Every change takes an `actor` and writes its audit entry in the same transaction.
Deactivating an account or setting its password also deletes its sessions in that
transaction, so it is signed out everywhere at once.
"""

from __future__ import annotations

import builtins
import logging
import secrets
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from signaling.accounts import audit
from signaling.accounts.fields import (
    Role,
    check_display_name,
    check_role,
    check_unit,
    normalize_username,
)
from signaling.accounts.licence import (
    LicenceStatus,
    count_seats_used,
    is_licence_exhausted,
    no_seat_left,
    store_seats,
)
from signaling.accounts.passwords import (
    PasswordRejected,
    check_policy,
    hash_password,
    one_time_password,
    verify_password,
)
from signaling.errors import BadRequest, Conflict, LicenceExhausted, NotFound, Unauthorized
from signaling.ids import Username
from signaling.store import Store, from_db, to_db, utcnow

log = logging.getLogger(__name__)

AccountKind = Literal["staff", "room", "guest"]
"""A person holding a licence seat, a dedicated room's own endpoint (no seat), or an
outside guest of one meeting (never stored: see signaling/live/guest_links.py)."""

FIRST_ADMIN = Username("admin")
ADMIN_PASSWORD_ENV = "GIAOBAN_ADMIN_PASSWORD"
SIGN_IN_FAILED = "Wrong username or password"
SYSTEM_ACTOR = "system"
"""The actor of changes the server makes by itself (the first administrator)."""
SEARCH_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Account:
    username: Username
    display_name: str
    role: Role
    active: bool
    """Only active accounts can sign in; each active staff account holds a licence seat."""
    created_at: datetime
    must_change_password: bool = False
    """Set by a password reset; the account must choose a new password first."""
    kind: AccountKind = "staff"
    """'room' for a dedicated room's kiosk device, which takes no seat."""
    unit: str = ""
    """The unit the person works in ("Vụ Tổ chức cán bộ"); empty when none is set."""

    def snapshot(self) -> dict[str, Any]:
        """What the audit log keeps of an account before and after a change."""
        return {"display_name": self.display_name, "role": self.role, "active": self.active,
                "must_change_password": self.must_change_password, "unit": self.unit}


def _account(row: sqlite3.Row) -> Account:
    return Account(
        username=Username(row["username"]),
        display_name=row["display_name"],
        role=cast(Role, row["role"]),
        active=bool(row["active"]),
        created_at=from_db(row["created_at"]),
        must_change_password=bool(row["must_change_password"]),
        kind=cast(AccountKind, row["kind"]),
        unit=row["unit"],
    )


_COLUMNS = "username, display_name, role, active, created_at, must_change_password, kind, unit"
_dummy_hash: str | None = None


def _spend_hashing_time(password: str) -> None:
    """Hash once against a throwaway hash so an unknown username costs as much time."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(secrets.token_urlsafe(16))
    verify_password(password, _dummy_hash)


def _conflict(username: str) -> Conflict:
    return Conflict(f"An account with username {username!r} already exists.",
                    rule="username_taken", username=username)


class AccountService:
    def __init__(self, store: Store, seats: int) -> None:
        if seats < 1:
            raise ValueError("seats must be at least 1")
        self._store = store
        self.seats = seats
        with store.transaction() as db:
            store_seats(db, seats)

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

    def search(self, text: str = "", role: str = "",
               limit: int = SEARCH_LIMIT) -> builtins.list[Account]:
        """Accounts whose username or display name contains `text`, optionally of one role."""
        pattern = f"%{text.strip().lower()}%"
        rows = self._store.fetch_all(
            f"SELECT {_COLUMNS} FROM accounts"
            " WHERE (username LIKE ? OR lower(display_name) LIKE ? OR display_name LIKE ?)"
            " AND (? = '' OR role = ?) ORDER BY username LIMIT ?",
            (pattern, pattern, f"%{text.strip()}%", role, role, limit),
        )
        return [_account(row) for row in rows]

    def count_active(self) -> int:
        return count_seats_used(self._store)

    def seats_used(self) -> int:
        return self.count_active()

    def seats_left(self) -> int:
        return self.licence().free

    def licence(self) -> LicenceStatus:
        return LicenceStatus(seats=self.seats, used=self.count_active())

    def signed_out(self, usernames: Iterable[str]) -> builtins.list[str]:
        """Those of `usernames` that may no longer take part: deactivated, waiting for a
        password change, or without any session left (all ended by an administrator)."""
        names = sorted(set(usernames))
        if not names:
            return []
        marks = ", ".join("?" * len(names))
        rows = self._store.fetch_all(
            f"SELECT username FROM accounts WHERE username IN ({marks}) AND (active = 0"
            " OR must_change_password = 1 OR NOT EXISTS"
            " (SELECT 1 FROM sessions s WHERE s.username = accounts.username))", names)
        found = {str(row["username"]) for row in rows}
        known = {str(r["username"]) for r in self._store.fetch_all(
            f"SELECT username FROM accounts WHERE username IN ({marks})", names)}
        return sorted(found | (set(names) - known))

    # ------------------------------------------------------------ writing

    def create(self, username: str, display_name: str, role: str, password: str,
               actor: str = SYSTEM_ACTOR, must_change_password: bool = False,
               unit: str = "") -> Account:
        """Create an active account; Conflict if taken, LicenceExhausted if no seat is left."""
        name = normalize_username(username)
        display = check_display_name(display_name)
        checked_role = check_role(role)
        checked_unit = check_unit(unit)
        check_policy(password, name)
        encoded = hash_password(password)
        try:
            with self._store.transaction() as db:
                if db.execute("SELECT 1 FROM accounts WHERE username = ?", (name,)).fetchone():
                    raise _conflict(name)
                self.insert(db, name, display, checked_role, encoded, must_change_password,
                            checked_unit)
                account = self._read(db, name)
                audit.record(db, actor, "account.create", name, None, account.snapshot())
        except sqlite3.IntegrityError as exc:
            raise self._translate(exc, name) from exc
        log.info("account %s created (role %s) by %s", name, checked_role, actor)
        return account

    @staticmethod
    def insert(db: sqlite3.Connection, name: Username, display: str, role: Role,
               encoded: str, must_change_password: bool, unit: str = "") -> None:
        """The bare INSERT of an active account, inside the caller's transaction."""
        db.execute(
            "INSERT INTO accounts (username, display_name, role, password_hash, active,"
            " created_at, must_change_password, unit) VALUES (?, ?, ?, ?, 1, ?, ?, ?)",
            (name, display, role, encoded, to_db(utcnow()), 1 if must_change_password else 0,
             unit),
        )

    def set_active(self, username: str, active: bool, actor: str = SYSTEM_ACTOR) -> Account:
        """Activate (needs a free seat) or deactivate an account.

        Deactivating frees its seat and ends its sessions.
        """
        name = self.get(username).username
        try:
            with self._store.transaction() as db:
                before = self._read(db, name)
                db.execute("UPDATE accounts SET active = ? WHERE username = ?",
                           (1 if active else 0, name))
                if not active:
                    _end_sessions(db, name)
                after = self._read(db, name)
                if before != after:
                    action = "account.activate" if active else "account.deactivate"
                    audit.record(db, actor, action, name, before.snapshot(), after.snapshot())
        except sqlite3.IntegrityError as exc:
            raise self._translate(exc, name) from exc
        log.info("account %s %s by %s", name, "activated" if active else "deactivated", actor)
        return after

    def update(self, username: str, display_name: str | None = None, role: str | None = None,
               actor: str = SYSTEM_ACTOR, unit: str | None = None) -> Account:
        """Change the display name, unit and/or role; leaving a secretary or leader role
        also removes the assignments that role held."""
        name = self.get(username).username
        display = check_display_name(display_name) if display_name is not None else None
        checked_unit = check_unit(unit) if unit is not None else None
        checked_role = check_role(role) if role is not None else None
        with self._store.transaction() as db:
            before = self._read(db, name)
            if display is not None:
                db.execute("UPDATE accounts SET display_name = ? WHERE username = ?",
                           (display, name))
            if checked_unit is not None:
                db.execute("UPDATE accounts SET unit = ? WHERE username = ?",
                           (checked_unit, name))
            if checked_role is not None and checked_role != before.role:
                db.execute("UPDATE accounts SET role = ? WHERE username = ?",
                           (checked_role, name))
                column = {"secretary": "secretary", "leader": "leader"}.get(before.role)
                if column is not None:
                    db.execute(f"DELETE FROM secretary_assignments WHERE {column} = ?", (name,))
            after = self._read(db, name)
            if before != after:
                audit.record(db, actor, "account.update", name, before.snapshot(),
                             after.snapshot())
        if checked_role is not None and checked_role != before.role:
            log.info("account %s now has role %s (by %s)", name, checked_role, actor)
        return after

    def set_role(self, username: str, role: str, actor: str = SYSTEM_ACTOR) -> Account:
        return self.update(username, role=role, actor=actor)

    def set_display_name(self, username: str, display_name: str,
                         actor: str = SYSTEM_ACTOR) -> Account:
        return self.update(username, display_name=display_name, actor=actor)

    def set_password(self, username: str, password: str, actor: str = SYSTEM_ACTOR,
                     must_change: bool = False) -> None:
        """Set a new password (policy checked) and end every session of the account."""
        name = self.get(username).username
        check_policy(password, name)
        encoded = hash_password(password)
        self._store_password(name, encoded, must_change, actor, "account.password")

    def reset_password(self, username: str, actor: str = SYSTEM_ACTOR) -> str:
        """Issue a one-time password (returned, to show once) that must be changed at
        next sign-in; the account's sessions end."""
        name = self.get(username).username
        password = one_time_password()
        self._store_password(name, hash_password(password), True, actor, "account.reset_password")
        return password

    def change_password(self, username: str, current: str, new: str) -> None:
        """The account's own change: the current password must match and the new one
        must follow the policy and differ from it. Clears the must-change flag."""
        name = self.get(username).username
        row = self._store.fetch_one("SELECT password_hash FROM accounts WHERE username = ?",
                                    (name,))
        if row is None or not verify_password(current, row["password_hash"]):
            raise BadRequest("The current password is wrong.", rule="current_wrong")
        if new == current:
            raise PasswordRejected("The new password must differ from the current one.",
                                   rule="unchanged")
        check_policy(new, name)
        self._store_password(name, hash_password(new), False, name, "account.change_password")

    def _store_password(self, name: Username, encoded: str, must_change: bool, actor: str,
                        action: str) -> None:
        with self._store.transaction() as db:
            before = self._read(db, name)
            db.execute(
                "UPDATE accounts SET password_hash = ?, must_change_password = ?"
                " WHERE username = ?", (encoded, 1 if must_change else 0, name))
            ended = _end_sessions(db, name)
            after = self._read(db, name)
            audit.record(db, actor, action, name, before.snapshot(),
                         {**after.snapshot(), "sessions_ended": ended})
        log.info("account %s: password set by %s (%d sessions ended)", name, actor, ended)

    def _read(self, db: sqlite3.Connection, name: str) -> Account:
        row = db.execute(f"SELECT {_COLUMNS} FROM accounts WHERE username = ?",
                         (name,)).fetchone()
        if row is None:
            raise NotFound(f"No account with username {name!r}.")
        return _account(row)

    def _translate(self, exc: sqlite3.IntegrityError, username: str) -> Exception:
        if is_licence_exhausted(exc):
            return self.licence_exhausted()
        if "UNIQUE" in str(exc):
            return _conflict(username)
        return exc

    def licence_exhausted(self) -> LicenceExhausted:
        """The refusal when no seat is left, giving the seats used and left."""
        return no_seat_left(self.licence())

    # ------------------------------------------------------------ secretaries

    def leaders_of(self, secretary: str) -> builtins.list[str]:
        """The leaders a secretary works for, by username."""
        rows = self._store.fetch_all(
            "SELECT leader FROM secretary_assignments WHERE secretary = ? ORDER BY leader",
            (secretary.strip().lower(),))
        return [str(row["leader"]) for row in rows]

    def secretaries_of(self, leader: str) -> builtins.list[str]:
        rows = self._store.fetch_all(
            "SELECT secretary FROM secretary_assignments WHERE leader = ? ORDER BY secretary",
            (leader.strip().lower(),))
        return [str(row["secretary"]) for row in rows]

    def assign_secretary(self, secretary: str, leader: str, actor: str = SYSTEM_ACTOR) -> None:
        """Let a secretary act for a leader; BadRequest unless the roles fit."""
        sec, lead = self._pair(secretary, leader)
        with self._store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO secretary_assignments (secretary, leader) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING", (sec, lead))
            if cursor.rowcount:
                audit.record(db, actor, "secretary.assign", sec, None, {"leader": lead})

    def unassign_secretary(self, secretary: str, leader: str, actor: str = SYSTEM_ACTOR) -> None:
        sec, lead = self._pair(secretary, leader)
        with self._store.transaction() as db:
            cursor = db.execute(
                "DELETE FROM secretary_assignments WHERE secretary = ? AND leader = ?",
                (sec, lead))
            if cursor.rowcount:
                audit.record(db, actor, "secretary.unassign", sec, {"leader": lead}, None)

    def _pair(self, secretary: str, leader: str) -> tuple[Username, Username]:
        sec, lead = self.get(secretary), self.get(leader)
        if sec.role != "secretary":
            raise BadRequest(f"{sec.username!r} is not a secretary.", rule="not_secretary",
                             username=sec.username)
        if lead.role != "leader":
            raise BadRequest(f"{lead.username!r} is not a leader.", rule="not_leader",
                             username=lead.username)
        return sec.username, lead.username

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
        otherwise a random one-time password is returned for the caller to show once,
        and the administrator must change it at first sign-in.
        """
        row = self._store.fetch_one("SELECT COUNT(*) FROM accounts")
        if row is not None and int(row[0]) > 0:
            return None
        given = env.get(ADMIN_PASSWORD_ENV, "")
        password = given or one_time_password()
        try:
            self.create(FIRST_ADMIN, "Administrator", "admin", password,
                        must_change_password=not given)
        except BadRequest as exc:
            raise BadRequest(f"{ADMIN_PASSWORD_ENV}: {exc.detail}") from exc
        except Conflict:
            return None  # another process created it at the same moment
        log.info("created the first administrator account %r", FIRST_ADMIN)
        return None if given else password


def _end_sessions(db: sqlite3.Connection, username: str) -> int:
    """Delete every browser session of an account, inside the caller's transaction."""
    cursor = db.execute("DELETE FROM sessions WHERE username = ?", (username,))
    return int(cursor.rowcount)
