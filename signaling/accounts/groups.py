"""Saved groups of invitees ("Lãnh đạo Bộ", "Thủ trưởng các đơn vị"), invited at once.

A group is a name and an ordered list of accounts. Clerks, secretaries and
administrators keep them; everyone who schedules may invite one.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from signaling.accounts.accounts import Account, AccountService
from signaling.accounts.fields import check_display_name
from signaling.errors import BadRequest, Conflict, Forbidden, NotFound
from signaling.ids import Username
from signaling.store import Store, to_db, utcnow

log = logging.getLogger(__name__)

KEEPERS = frozenset({"admin", "clerk", "secretary"})
NAME_MAX = 100
MEMBERS_MAX = 200


@dataclass(frozen=True, slots=True)
class Group:
    id: int
    name: str
    members: tuple[Username, ...]
    """In the order they were given."""


class GroupService:
    def __init__(self, store: Store, accounts: AccountService) -> None:
        self._store = store
        self._accounts = accounts

    def list(self) -> list[Group]:
        rows = self._store.fetch_all("SELECT id, name FROM invitee_groups ORDER BY name")
        members: dict[int, list[Username]] = {int(r["id"]): [] for r in rows}
        for row in self._store.fetch_all(
                "SELECT group_id, username FROM invitee_group_members ORDER BY position"):
            members.setdefault(int(row["group_id"]), []).append(Username(row["username"]))
        return [Group(int(r["id"]), r["name"], tuple(members[int(r["id"])])) for r in rows]

    def get(self, group_id: int) -> Group:
        for group in self.list():
            if group.id == group_id:
                return group
        raise NotFound(f"No group with id {group_id}.")

    def create(self, actor: Account, name: str, members: Sequence[str]) -> Group:
        check_may_keep(actor)
        shown = check_group_name(name)
        people = list(dict.fromkeys(m.strip().lower() for m in members if m.strip()))
        if not people:
            raise BadRequest("A group needs at least one member.")
        if len(people) > MEMBERS_MAX:
            raise BadRequest(f"A group has at most {MEMBERS_MAX} members.")
        for username in people:
            if not self._accounts.get(username).active:
                raise BadRequest(f"The account {username!r} is deactivated.")
        try:
            with self._store.transaction() as db:
                cursor = db.execute(
                    "INSERT INTO invitee_groups (name, created_by, created_at) VALUES (?, ?, ?)",
                    (shown, actor.username, to_db(utcnow())))
                group_id = int(cursor.lastrowid or 0)
                db.executemany(
                    "INSERT INTO invitee_group_members (group_id, username, position)"
                    " VALUES (?, ?, ?)", [(group_id, u, i) for i, u in enumerate(people)])
        except sqlite3.IntegrityError:
            raise Conflict(f"A group named {shown!r} already exists.") from None
        log.info("%s saved the group %d of %d accounts", actor.username, group_id, len(people))
        return self.get(group_id)

    def delete(self, actor: Account, group_id: int) -> None:
        check_may_keep(actor)
        self.get(group_id)
        with self._store.transaction() as db:
            db.execute("DELETE FROM invitee_group_members WHERE group_id = ?", (group_id,))
            db.execute("DELETE FROM invitee_groups WHERE id = ?", (group_id,))
        log.info("%s deleted the group %d", actor.username, group_id)


def check_may_keep(actor: Account) -> None:
    if actor.role not in KEEPERS:
        raise Forbidden("Only clerks, secretaries and administrators keep groups of invitees.")


def check_group_name(name: str) -> str:
    try:
        return check_display_name(name)
    except BadRequest:
        raise BadRequest(f"Give the group a name of one line, 1 to {NAME_MAX} "
                         "characters.") from None
