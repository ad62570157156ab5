"""Guest links: outside guests ask to enter one meeting without an account.

The organizer or a host creates a link; it holds until it expires (by default at the
meeting's planned end) or is revoked. Only the SHA-256 of its token is stored. A guest
who opens it gives a name (and unit) and gets a pass for that one meeting, also stored
hashed; the pass is what their browser shows the socket. A guest holds no licence seat
and no account: on the socket they are an in-memory `Account` of kind "guest", whose
username (`guest:<id>`) no staff account can have.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from signaling.accounts.accounts import Account
from signaling.accounts.fields import has_control_characters
from signaling.errors import BadRequest, GuestLinkInvalid, NotFound
from signaling.ids import GUEST_PREFIX, Username
from signaling.store import Store, from_db, to_db, utcnow

log = logging.getLogger(__name__)

LINK_PREFIX = "gl_"
PASS_PREFIX = "gp_"
NAME_MAX = 100
UNKNOWN_LINK = "This guest link is not valid"
EXPIRED_LINK = "This guest link has expired"
REVOKED_LINK = "This guest link has been withdrawn"
OTHER_MEETING = "A guest link opens only its own meeting"
PASS_ENDED = "Your guest pass is no longer valid; open the guest link again"
NAME_NEEDED = "Type your name to ask to enter"
NAME_TOO_LONG = "Your name and unit must each be at most 100 characters"
EXPIRY_PAST = "A guest link must expire in the future"


@dataclass(frozen=True, slots=True)
class GuestLink:
    id: str
    meeting_id: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Guest:
    id: str
    link_id: str
    meeting_id: str
    name: str
    """As the guest typed it."""
    unit: str
    created_at: datetime

    @property
    def username(self) -> Username:
        return Username(GUEST_PREFIX + self.id)

    @property
    def label(self) -> str:
        """Name, and unit when given, as the meeting shows it."""
        return f"{self.name} ({self.unit})" if self.unit else self.name


def guest_id_of(username: str) -> str | None:
    """The guest behind a participant's username (`guest:<id>`), or None for staff."""
    return username.removeprefix(GUEST_PREFIX) if username.startswith(GUEST_PREFIX) else None


def guest_account(guest: Guest) -> Account:
    """The guest as the socket sees them: no role of their own (kind decides), no seat."""
    return Account(username=guest.username, display_name=guest.label, role="official",
                   active=True, created_at=guest.created_at, kind="guest")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _link(row: sqlite3.Row) -> GuestLink:
    return GuestLink(id=row["id"], meeting_id=row["meeting_id"], created_by=row["created_by"],
                     created_at=from_db(row["created_at"]), expires_at=from_db(row["expires_at"]),
                     revoked_at=from_db(row["revoked_at"]) if row["revoked_at"] else None)


def _guest(row: sqlite3.Row) -> Guest:
    return Guest(id=row["id"], link_id=row["link_id"], meeting_id=row["meeting_id"],
                 name=row["name"], unit=row["unit"], created_at=from_db(row["created_at"]))


def check_guest_name(name: str, unit: str) -> tuple[str, str]:
    clean, clean_unit = " ".join(name.split()), " ".join(unit.split())
    if not clean:
        raise BadRequest(NAME_NEEDED, rule="guest_name")
    if len(clean) > NAME_MAX or len(clean_unit) > NAME_MAX:
        raise BadRequest(NAME_TOO_LONG, rule="guest_name", max=NAME_MAX)
    if has_control_characters(clean) or has_control_characters(clean_unit):
        raise BadRequest(NAME_NEEDED, rule="guest_name")
    return clean, clean_unit


class GuestLinks:
    def __init__(self, store: Store, now: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._now = now

    # ------------------------------------------------------------ links

    def create(self, meeting_id: str, expires_at: datetime, actor: str) -> tuple[GuestLink, str]:
        """A new link and its token (shown once)."""
        if expires_at <= self._now():
            raise BadRequest(EXPIRY_PAST, rule="guest_link_expiry")
        token = LINK_PREFIX + secrets.token_urlsafe(24)
        link_id = f"gl-{secrets.token_hex(6)}"
        with self._store.transaction() as db:
            db.execute("INSERT INTO guest_links (id, meeting_id, token_hash, created_by,"
                       " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                       (link_id, meeting_id, _digest(token), actor, to_db(self._now()),
                        to_db(expires_at)))
        log.info("guest link %s for meeting %s created by %s", link_id, meeting_id, actor)
        return self.get(link_id), token

    def get(self, link_id: str) -> GuestLink:
        row = self._store.fetch_one("SELECT * FROM guest_links WHERE id = ?", (link_id,))
        if row is None:
            raise NotFound(f"No guest link {link_id!r}")
        return _link(row)

    def for_meeting(self, meeting_id: str) -> list[GuestLink]:
        rows = self._store.fetch_all("SELECT * FROM guest_links WHERE meeting_id = ?"
                                     " ORDER BY created_at, id", (meeting_id,))
        return [_link(row) for row in rows]

    def revoke(self, link_id: str) -> None:
        with self._store.transaction() as db:
            db.execute("UPDATE guest_links SET revoked_at = ? WHERE id = ? AND revoked_at"
                       " IS NULL", (to_db(self._now()), link_id))
        log.info("guest link %s revoked", link_id)

    def open(self, token: str) -> GuestLink:
        """The link behind a token if it holds now; GuestLinkInvalid saying why not."""
        row = None
        if token.startswith(LINK_PREFIX) and len(token) <= 100:
            row = self._store.fetch_one("SELECT * FROM guest_links WHERE token_hash = ?",
                                        (_digest(token),))
        if row is None:
            raise GuestLinkInvalid(UNKNOWN_LINK, rule="unknown")
        link = _link(row)
        self._check(link)
        return link

    def _check(self, link: GuestLink) -> None:
        if link.revoked_at is not None:
            raise GuestLinkInvalid(REVOKED_LINK, rule="revoked")
        if link.expires_at <= self._now():
            raise GuestLinkInvalid(EXPIRED_LINK, rule="expired")

    # ------------------------------------------------------------ guests

    def enter(self, token: str, name: str, unit: str = "") -> tuple[Guest, str]:
        """A guest who gave their name on a link's page, and their pass (shown once)."""
        link = self.open(token)
        clean, clean_unit = check_guest_name(name, unit)
        secret = PASS_PREFIX + secrets.token_urlsafe(24)
        guest_id = f"gu-{secrets.token_hex(6)}"
        with self._store.transaction() as db:
            db.execute("INSERT INTO guests (id, link_id, meeting_id, name, unit, pass_hash,"
                       " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (guest_id, link.id, link.meeting_id, clean, clean_unit, _digest(secret),
                        to_db(self._now())))
        log.info("guest %s came by link %s for meeting %s", guest_id, link.id, link.meeting_id)
        return self.guest(guest_id), secret

    def guest(self, guest_id: str) -> Guest:
        row = self._store.fetch_one("SELECT * FROM guests WHERE id = ?", (guest_id,))
        if row is None:
            raise NotFound(f"No guest {guest_id!r}")
        return _guest(row)

    def authenticate(self, secret: str) -> Guest:
        """The guest behind a pass, while it and its link hold; GuestLinkInvalid if not."""
        row = None
        if secret.startswith(PASS_PREFIX) and len(secret) <= 100:
            row = self._store.fetch_one("SELECT * FROM guests WHERE pass_hash = ?",
                                        (_digest(secret),))
        if row is None:
            raise GuestLinkInvalid(PASS_ENDED, rule="unknown_pass")
        return self.check(_guest(row).id)

    def check(self, guest_id: str) -> Guest:
        """The guest, read afresh, while their pass and link hold."""
        row = self._store.fetch_one("SELECT * FROM guests WHERE id = ?", (guest_id,))
        if row is None or row["revoked_at"] is not None:
            raise GuestLinkInvalid(PASS_ENDED, rule="revoked_pass")
        guest = _guest(row)
        self._check(self.get(guest.link_id))
        return guest

    def remove_guest(self, guest_id: str) -> None:
        """A host removed this guest (`guest_id_of(participant.username)`): their pass,
        and the link they came by, stop working for this meeting; the watcher then
        takes them out (web/guard.py)."""
        guest = self.guest(guest_id)
        with self._store.transaction() as db:
            db.execute("UPDATE guests SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                       (to_db(self._now()), guest_id))
        self.revoke(guest.link_id)
        log.info("guest %s removed from meeting %s", guest_id, guest.meeting_id)
