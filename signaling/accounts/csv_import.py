"""Bulk import of accounts from CSV: a dry-run preview, then an all-or-nothing apply.

Columns (header row required, comma or semicolon separated, UTF-8):
username, display_name, role, and optionally unit and password, named in English or in
Vietnamese ("Tên đăng nhập", "Họ tên", "Vai trò", "Đơn vị", "Mật khẩu"); a role is its code or
its name in either language ("Cán bộ", "Official"). A row without a password gets
a generated one-time password, shown once, that must be changed at first sign-in.

The preview lists every row as created, unchanged or rejected, with the reason. The
apply runs the same checks again and inserts every new account in one transaction:
one bad row, or the seat cap (the database trigger aborts the transaction), and
nothing at all is imported.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Literal

from signaling.accounts import audit
from signaling.accounts.accounts import AccountService
from signaling.accounts.directory import fold
from signaling.accounts.fields import (
    check_display_name,
    check_role,
    check_unit,
    normalize_username,
)
from signaling.accounts.licence import is_licence_exhausted
from signaling.accounts.passwords import check_policy, hash_password, one_time_password
from signaling.errors import BadRequest, Conflict, GiaobanError
from signaling.ids import Username
from signaling.store import Store

RowStatus = Literal["created", "unchanged", "rejected"]
REQUIRED = ("username", "display_name", "role")
OPTIONAL = ("unit", "password")
MAX_ROWS = 2000
MAX_BYTES = 1024 * 1024
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "username": ("username", "user name", "login", "ten dang nhap", "tai khoan"),
    "display_name": ("display_name", "display name", "full name", "name", "ho ten",
                     "ho va ten", "ten hien thi"),
    "role": ("role", "vai tro"),
    "unit": ("unit", "don vi"),
    "password": ("password", "mat khau"),
}
"""Each column's names, folded (lowercase, no diacritics): "Họ và tên" is display_name."""
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "admin": ("admin", "administrator", "quan tri vien", "quan tri"),
    "leader": ("leader", "lanh dao"),
    "secretary": ("secretary", "thu ky"),
    "official": ("official", "can bo"),
    "clerk": ("clerk", "van thu"),
    "it": ("it", "it staff", "ky thuat cntt", "ky thuat", "cntt"),
}
"""Each role's code and its names in both languages (as the pages show them), folded."""
_HEADERS = {name: column for column, names in HEADER_NAMES.items() for name in names}
_ROLES = {name: role for role, names in ROLE_NAMES.items() for name in names}
EXTRA_CELLS = "\0extra"
"""Marks a row with more cells than the header (no header can be named so)."""


@dataclass(frozen=True, slots=True)
class ImportRow:
    line: int
    """Line number in the file (the header is line 1)."""
    username: str
    display_name: str
    role: str
    status: RowStatus
    reason: str = ""
    """Why the row is rejected or unchanged, in English."""
    rule: str = ""
    """The broken rule's name, to translate the reason."""
    params: dict[str, Any] = field(default_factory=dict)
    password: str | None = field(default=None, repr=False)
    """The password given in the file, if any; never shown."""
    unit: str = ""


@dataclass(frozen=True, slots=True)
class ImportPlan:
    rows: list[ImportRow]
    seats: int
    seats_left: int

    @property
    def created(self) -> list[ImportRow]:
        return [r for r in self.rows if r.status == "created"]

    @property
    def rejected(self) -> list[ImportRow]:
        return [r for r in self.rows if r.status == "rejected"]

    @property
    def unchanged(self) -> list[ImportRow]:
        return [r for r in self.rows if r.status == "unchanged"]

    @property
    def over_cap(self) -> bool:
        return len(self.created) > self.seats_left

    @property
    def can_apply(self) -> bool:
        return bool(self.created) and not self.rejected and not self.over_cap


@dataclass(frozen=True, slots=True)
class ImportedAccount:
    username: str
    display_name: str
    role: str
    one_time_password: str | None
    """The generated password to hand over, or None when the file gave one."""
    unit: str = ""


def read_csv(text: str) -> list[tuple[int, dict[str, str]]]:
    """The data rows with their line numbers; BadRequest for a file that cannot be read."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise BadRequest(f"The file is larger than {MAX_BYTES // 1024} KiB.", rule="csv_large",
                         max_kib=MAX_BYTES // 1024)
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [column_of(h) for h in next(reader)]
    except StopIteration:
        raise BadRequest("The file is empty.", rule="csv_empty") from None
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if missing or unknown or len(set(header)) != len(header):
        raise BadRequest(
            "The header row must name the columns username, display_name, role and "
            f"optionally unit and password (missing: {', '.join(missing) or '-'}; "
            f"unknown: {', '.join(unknown) or '-'}).",
            rule="csv_header", missing=", ".join(missing) or "-",
            unknown=", ".join(unknown) or "-")
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            line = reader.line_num
            if len(rows) >= MAX_ROWS:
                raise BadRequest(f"The file has more than {MAX_ROWS} rows.",
                                 rule="csv_rows", max=MAX_ROWS)
            values = dict(zip(header, [*cells, *[""] * (len(header) - len(cells))]))
            if len(cells) > len(header):
                values[EXTRA_CELLS] = "yes"  # rejected by the row check
            rows.append((line, values))
    except csv.Error as exc:
        raise BadRequest(f"The file is not valid CSV: {exc}.", rule="csv_invalid") from None
    return rows


def column_of(header: str) -> str:
    """The column a header names, in either language; else the header, folded."""
    folded = fold(header.replace("_", " "))
    return _HEADERS.get(folded, _HEADERS.get(fold(header), folded))


def role_of(text: str) -> str:
    """The role code a cell names (its code or its name in either language)."""
    return _ROLES.get(fold(text), text.strip().lower())


class AccountImport:
    def __init__(self, store: Store, accounts: AccountService) -> None:
        self._store = store
        self._accounts = accounts

    def preview(self, text: str) -> ImportPlan:
        """What an apply would do with this file, row by row; changes nothing."""
        seen: set[str] = set()
        rows = [self._check(line, values, seen) for line, values in read_csv(text)]
        if not rows:
            raise BadRequest("The file has no data rows.", rule="csv_empty")
        licence = self._accounts.licence()
        return ImportPlan(rows=rows, seats=licence.seats, seats_left=licence.free)

    def _check(self, line: int, values: dict[str, str], seen: set[str]) -> ImportRow:
        raw_name = values["username"].strip()
        display, role = values["display_name"].strip(), role_of(values["role"])
        password = values.get("password") or None
        unit = values.get("unit", "")

        def rejected(exc: GiaobanError) -> ImportRow:
            extra = {k: v for k, v in exc.extra.items() if k != "rule"}
            return ImportRow(line, raw_name, display, role, "rejected", exc.detail,
                             str(exc.extra.get("rule", "")), extra)

        if EXTRA_CELLS in values:
            return rejected(BadRequest("The row has more cells than the header.",
                                       rule="csv_cells"))
        try:
            name = normalize_username(raw_name)
            display = check_display_name(display)
            checked_role = check_role(role)
            unit = check_unit(unit)
            if name in seen:
                raise BadRequest(f"{name!r} appears twice in the file.", rule="csv_duplicate",
                                 username=name)
            seen.add(name)
            existing = self._accounts.find(name)
            if existing is not None:
                if (existing.display_name, existing.role, existing.unit) \
                        == (display, checked_role, unit):
                    return ImportRow(line, name, display, checked_role, "unchanged",
                                     "The account already exists as given.", "csv_exists",
                                     unit=unit)
                raise Conflict(
                    f"{name!r} already exists with another display name, unit or role; "
                    "change it on its own page.", rule="csv_differs", username=name)
            if password is not None:
                check_policy(password, name)
        except GiaobanError as exc:
            return rejected(exc)
        return ImportRow(line, name, display, checked_role, "created", password=password,
                         unit=unit)

    def apply(self, text: str, actor: str) -> list[ImportedAccount]:
        """Create every new account of the file in one transaction, or none at all."""
        plan = self.preview(text)
        if plan.rejected:
            raise BadRequest(
                f"{len(plan.rejected)} rows are rejected; nothing was imported.",
                rule="csv_rejected", count=len(plan.rejected))
        if not plan.created:
            raise BadRequest("Every account in the file already exists; nothing to import.",
                             rule="csv_nothing")
        prepared: list[tuple[ImportedAccount, str]] = []
        for row in plan.created:
            generated = None if row.password is not None else one_time_password()
            password = row.password if row.password is not None else str(generated)
            account = ImportedAccount(row.username, row.display_name, row.role, generated,
                                      row.unit)
            prepared.append((account, hash_password(password)))
        try:
            with self._store.transaction() as db:
                for account, encoded in prepared:
                    self._insert(db, account, encoded, actor)
                audit.record(db, actor, "accounts.import", "csv", None,
                             {"created": [a.username for a, _ in prepared]})
        except sqlite3.IntegrityError as exc:
            if is_licence_exhausted(exc):
                raise self._accounts.licence_exhausted() from exc
            raise Conflict("An account of the file was created meanwhile; nothing was "
                           "imported. Preview the file again.", rule="csv_race") from exc
        return [account for account, _ in prepared]

    def _insert(self, db: sqlite3.Connection, account: ImportedAccount, encoded: str,
                actor: str) -> None:
        name = Username(account.username)
        self._accounts.insert(db, name, account.display_name, check_role(account.role),
                              encoded, must_change_password=True,  # set by an administrator
                              unit=account.unit)
        created = db.execute("SELECT display_name, role, active, must_change_password, unit"
                             " FROM accounts WHERE username = ?", (name,)).fetchone()
        audit.record(db, actor, "account.create", name, None, {
            "display_name": created["display_name"], "role": created["role"],
            "active": bool(created["active"]),
            "must_change_password": bool(created["must_change_password"]),
            "unit": created["unit"],
        })
