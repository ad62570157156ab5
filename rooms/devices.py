"""The device account of each dedicated room, used by its kiosk endpoint.

A room account has kind 'room': it holds no licence seat, may sign in only to show
its room's kiosk page and to join the meetings booked in its room.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3

from signaling.accounts.fields import normalize_username
from signaling.accounts.passwords import hash_password
from signaling.config import RoomSettings
from signaling.errors import Conflict
from signaling.ids import Username
from signaling.store import Store, to_db, utcnow

log = logging.getLogger(__name__)

DEVICE_ROLE = "official"
"""Stored role of a room account; its kind, not its role, decides what it may do."""


def device_username(room: RoomSettings) -> Username:
    """The room's account name: its id when that is a valid username, else room-<id>."""
    try:
        return normalize_username(room.id)
    except Exception:
        return normalize_username(f"room-{room.id}"[:32])


class RoomDevices:
    def __init__(self, store: Store) -> None:
        self._store = store

    def create_or_reset(self, room: RoomSettings) -> tuple[Username, str]:
        """Create the room's account, or give it a new password; returns the password once.

        It is a one-time password: the device's first sign-in must choose its own."""
        username = device_username(room)
        password = secrets.token_urlsafe(12)
        encoded = hash_password(password)
        with self._store.transaction() as db:
            row = db.execute("SELECT kind FROM accounts WHERE username = ?",
                             (username,)).fetchone()
            if row is not None and row["kind"] != "room":
                raise Conflict(f"The username {username!r} belongs to a staff account; "
                               "give the room another id.")
            if row is None:
                db.execute(
                    "INSERT INTO accounts (username, display_name, role, password_hash, active,"
                    " created_at, kind, must_change_password) VALUES (?, ?, ?, ?, 1, ?, 'room', 1)",
                    (username, room.name, DEVICE_ROLE, encoded, to_db(utcnow())))
            else:
                db.execute("UPDATE accounts SET password_hash = ?, active = 1,"
                           " must_change_password = 1 WHERE username = ?", (encoded, username))
            try:
                db.execute("INSERT INTO room_devices (room_id, username) VALUES (?, ?)"
                           " ON CONFLICT (room_id) DO UPDATE SET username = excluded.username",
                           (room.id, username))
            except sqlite3.IntegrityError as exc:
                raise Conflict(f"The account {username!r} already serves another room.") from exc
        log.info("room %s: device account %s ready", room.id, username)
        return username, password

    def username_of(self, room_id: str) -> Username | None:
        row = self._store.fetch_one("SELECT username FROM room_devices WHERE room_id = ?",
                                    (room_id,))
        return None if row is None else Username(row["username"])

    def room_of(self, username: str) -> str | None:
        """The room whose device account this is, or None."""
        row = self._store.fetch_one("SELECT room_id FROM room_devices WHERE username = ?",
                                    (username,))
        return None if row is None else str(row["room_id"])
