"""Meetings: who organises them, who is invited, when they run, and who may join.

Times are stored and returned in UTC. Input without a time zone is read in the
configured zone (Asia/Ho_Chi_Minh by default).
"""

from __future__ import annotations

import builtins
import logging
import secrets
import sqlite3
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal, get_args
from zoneinfo import ZoneInfo

from signaling.accounts.fields import has_control_characters
from signaling.errors import BadRequest, Forbidden, GiaobanError, NotFound
from signaling.ids import MeetingId, SeriesId, Username
from signaling.records.policy import RecordingPolicy, check_recording_policy
from signaling.schedule.rooms import RoomCalendar
from signaling.spans import Span
from signaling.store import Store, from_db, to_db, utcnow

if TYPE_CHECKING:
    from signaling.accounts.accounts import Account

log = logging.getLogger(__name__)

MeetingState = Literal["scheduled", "live", "ended", "cancelled"]
MEETING_STATES: tuple[MeetingState, ...] = get_args(MeetingState)
AGENDA_MAX = 5000
NOT_INVITED = "You are not invited to this meeting"


class JoinWindowClosed(GiaobanError):
    status, title, code = 403, "Not open for joining", "join_window_closed"


class MeetingEnded(Forbidden):
    title, code = "The meeting has ended", "meeting_ended"


ENDED_BY_HOST = "A host ended this meeting for everyone."

TITLE_MAX = 200
EARLIEST_YEAR, LATEST_YEAR = 1970, 9998
"""Dates accepted anywhere: far enough from the ends of the calendar that every time zone
and a week either side stay representable."""
DEFAULT_LENGTH = timedelta(hours=1)
ID_ALPHABET = string.ascii_lowercase + string.digits
ID_LENGTH = 10


@dataclass(frozen=True, slots=True)
class Meeting:
    id: MeetingId
    title: str
    organizer: Username
    start: datetime
    """Planned start, UTC."""
    end: datetime
    """Planned end, UTC; always after start."""
    invitees: tuple[Username, ...]
    """Invited accounts besides the organizer, in the order given."""
    state: MeetingState
    created_at: datetime
    agenda: str = ""
    on_behalf_of: Username | None = None
    """The leader a secretary or clerk scheduled this meeting for."""
    recording_policy: RecordingPolicy = "automatic"
    room_id: str | None = None
    """The dedicated room booked for this meeting (from its active room booking)."""
    series_id: SeriesId | None = None
    occurrence_start: datetime | None = None
    """In a series: the start the rule gives this occurrence (its RECURRENCE-ID), UTC."""
    cohosts: tuple[Username, ...] = ()
    """Invitees the organizer named to chair the meeting with them."""
    revision: int = 0
    """Times it was changed or cancelled since it was scheduled (its invitation's SEQUENCE)."""
    chosen_chair: Username | None = None
    """The chair chosen when it was scheduled; see `chair`."""

    @property
    def chair(self) -> Username:
        """Who chairs it: the person chosen, else the leader it is for, else the organizer."""
        return self.chosen_chair or self.on_behalf_of or self.organizer

    @property
    def join_url(self) -> str:
        """Path of the meeting page, relative to the server's address."""
        return f"/m/{self.id}"


def parse_when(text: str, tz: ZoneInfo) -> datetime:
    """Read an ISO 8601 date-time; without an offset it is a local time in tz. Returns UTC."""
    cleaned = text.strip()
    if not cleaned:
        raise BadRequest("A date and time is required, e.g. 2025-03-14T09:00.")
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise BadRequest(
            f"{text!r} is not a date and time; use ISO 8601, e.g. 2025-03-14T09:00."
        ) from None
    return _aware(moment, tz)


def _aware(moment: datetime, tz: ZoneInfo) -> datetime:
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise BadRequest(f"Dates must fall between the years {EARLIEST_YEAR} and "
                         f"{LATEST_YEAR}.", rule="year_range")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def new_meeting_id() -> MeetingId:
    return MeetingId("".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH)))


_COLUMNS = (
    "id, title, organizer, start_at, end_at, state, created_at, agenda, on_behalf_of,"
    " recording_policy, series_id, occurrence_start_at, revision, chair"
)


class MeetingService:
    """Meetings in the store; `rooms` tells which room each is booked in (without it, none
    is, and a room's device account joins nothing)."""

    def __init__(
        self, store: Store, tz: ZoneInfo, rooms: RoomCalendar,
        now: Callable[[], datetime] = utcnow,
        join_window: timedelta = timedelta(minutes=15),
        default_recording_policy: str = "automatic",
    ) -> None:
        self._store = store
        self._rooms = rooms
        self.tz = tz
        self._now = now
        self.join_window = join_window
        self.default_recording_policy = check_recording_policy(default_recording_policy)

    def now(self) -> datetime:
        return self._now()

    # ------------------------------------------------------------ writing

    def create(
        self,
        title: str,
        organizer: str,
        start: datetime | None = None,
        end: datetime | None = None,
        invitees: Sequence[str] = (),
        agenda: str = "",
        on_behalf_of: str | None = None,
        recording_policy: str | None = None,
        series_id: SeriesId | None = None,
        cohosts: Sequence[str] = (),
        chair: str | None = None,
    ) -> Meeting:
        """Schedule a meeting; start defaults to now, end to one hour after start.

        Inside an open store transaction it joins that transaction.
        """
        clean_title = check_title(title)
        start_utc = _aware(start, self.tz) if start is not None else self._now().astimezone(UTC)
        end_utc = _aware(end, self.tz) if end is not None else start_utc + DEFAULT_LENGTH
        if end_utc <= start_utc:
            raise BadRequest("The meeting must end after it starts.")
        organizer_name = Username(organizer.strip().lower())
        guests = self._clean_invitees(invitees, organizer_name)
        chairs = check_cohosts([c for c in cohosts if c.strip().lower() != organizer_name],
                               guests)
        clean_agenda = check_agenda(agenda)
        policy = check_recording_policy(recording_policy or self.default_recording_policy)
        leader = Username(on_behalf_of.strip().lower()) if on_behalf_of else None
        chosen = Username(chair.strip().lower()) if chair and chair.strip() else None
        created_at = self._now()
        with self._store.transaction() as db:
            self._check_active(db, (organizer_name, *guests, *((leader,) if leader else ()),
                                    *((chosen,) if chosen else ())))
            meeting_id = self._insert(
                db, clean_title, organizer_name, start_utc, end_utc, created_at
            )
            db.execute(
                "UPDATE meetings SET agenda = ?, on_behalf_of = ?, recording_policy = ?,"
                " series_id = ?, occurrence_start_at = ?, chair = ? WHERE id = ?",
                (clean_agenda, leader, policy, series_id,
                 to_db(start_utc) if series_id else None, chosen, meeting_id),
            )
            db.executemany(
                "INSERT INTO meeting_invitees (meeting_id, username, position, cohost)"
                " VALUES (?, ?, ?, ?)",
                [(meeting_id, name, i, int(name in chairs)) for i, name in enumerate(guests)],
            )
        log.info("meeting %s created by %s", meeting_id, organizer_name)
        return self.get(meeting_id)

    @staticmethod
    def _clean_invitees(invitees: Sequence[str], organizer: Username) -> tuple[Username, ...]:
        if isinstance(invitees, str):
            raise TypeError("invitees must be a sequence of usernames, not one string")
        seen: dict[Username, None] = {}
        for raw in invitees:
            name = Username(raw.strip().lower())
            if name and name != organizer:
                seen.setdefault(name, None)
        return tuple(seen)

    @staticmethod
    def _check_active(db: sqlite3.Connection, usernames: Sequence[Username]) -> None:
        for name in usernames:
            row = db.execute("SELECT active FROM accounts WHERE username = ?", (name,)).fetchone()
            if row is None:
                raise NotFound(f"No account with username {name!r}.")
            if not row["active"]:
                raise BadRequest(f"The account {name!r} is deactivated.")

    @staticmethod
    def _insert(
        db: sqlite3.Connection, title: str, organizer: Username,
        start: datetime, end: datetime, created_at: datetime,
    ) -> MeetingId:
        for _ in range(5):
            meeting_id = new_meeting_id()
            try:
                db.execute(
                    "INSERT INTO meetings (id, title, organizer, start_at, end_at, state,"
                    " created_at) VALUES (?, ?, ?, ?, ?, 'scheduled', ?)",
                    (meeting_id, title, organizer, to_db(start), to_db(end), to_db(created_at)),
                )
            except sqlite3.IntegrityError as exc:
                if "UNIQUE" not in str(exc):
                    raise
                continue
            return meeting_id
        raise RuntimeError("could not find a free meeting id")

    def set_state(self, meeting_id: str, state: str) -> Meeting:
        if state not in MEETING_STATES:
            raise BadRequest(
                f"Unknown meeting state {state!r}; choose one of: {', '.join(MEETING_STATES)}."
            )
        with self._store.transaction() as db:
            cursor = db.execute("UPDATE meetings SET state = ? WHERE id = ?", (state, meeting_id))
            if cursor.rowcount == 0:
                raise NotFound(f"No meeting with id {meeting_id!r}.")
        log.info("meeting %s is now %s", meeting_id, state)
        return self.get(meeting_id)

    # ------------------------------------------------------------ reading

    def revised(self, meeting_id: str) -> Meeting:
        """Count a change made elsewhere (its room, moved on the room calendar): the
        invitation's SEQUENCE goes up, so calendars take the new one."""
        with self._store.transaction() as db:
            db.execute("UPDATE meetings SET revision = revision + 1 WHERE id = ?",
                       (meeting_id,))
        return self.get(meeting_id)

    def get(self, meeting_id: str) -> Meeting:
        meetings = self._load("WHERE id = ?", (meeting_id,))
        if not meetings:
            raise NotFound(f"No meeting with id {meeting_id!r}.")
        return meetings[0]

    def find(self, meeting_id: str) -> Meeting | None:
        meetings = self._load("WHERE id = ?", (meeting_id,))
        return meetings[0] if meetings else None

    def list_for(self, username: str) -> builtins.list[Meeting]:
        """Meetings the account organises, is invited to or has scheduled for it, by start."""
        name = username.strip().lower()
        return self._load(
            "WHERE organizer = ? OR on_behalf_of = ? OR id IN"
            " (SELECT meeting_id FROM meeting_invitees WHERE username = ?)",
            (name, name, name),
        )

    def list_between(self, start: datetime, end: datetime) -> builtins.list[Meeting]:
        """Every meeting overlapping [start, end), cancelled ones included."""
        return self._load("WHERE start_at < ? AND end_at > ?", (to_db(end), to_db(start)))

    def list_series(self, series_id: str) -> builtins.list[Meeting]:
        """The occurrences of one series, cancelled ones included, by start."""
        return self._load("WHERE series_id = ?", (series_id,))

    def list_all(self) -> builtins.list[Meeting]:
        return self._load("", ())

    def _load(self, where: str, params: Sequence[str]) -> builtins.list[Meeting]:
        with self._store.read() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM meetings {where} ORDER BY start_at, id", params
            ).fetchall()
            invited: dict[str, builtins.list[Username]] = {row["id"]: [] for row in rows}
            chairs: dict[str, builtins.list[Username]] = {row["id"]: [] for row in rows}
            for inv in db.execute(
                "SELECT meeting_id, username, cohost FROM meeting_invitees"
                f" WHERE meeting_id IN (SELECT id FROM meetings {where})"
                " ORDER BY meeting_id, position",
                params,
            ):
                invited[inv["meeting_id"]].append(Username(inv["username"]))
                if inv["cohost"]:
                    chairs[inv["meeting_id"]].append(Username(inv["username"]))
            spans = {row["id"]: Span(from_db(row["start_at"]), from_db(row["end_at"]))
                     for row in rows}
            rooms = self._rooms.rooms_of(db, spans) if spans else {}
        return [
            Meeting(
                id=MeetingId(row["id"]),
                title=row["title"],
                organizer=Username(row["organizer"]),
                start=from_db(row["start_at"]),
                end=from_db(row["end_at"]),
                invitees=tuple(invited[row["id"]]),
                state=row["state"],
                created_at=from_db(row["created_at"]),
                agenda=row["agenda"],
                on_behalf_of=Username(row["on_behalf_of"]) if row["on_behalf_of"] else None,
                recording_policy=row["recording_policy"],
                room_id=rooms.get(row["id"]),
                series_id=SeriesId(row["series_id"]) if row["series_id"] else None,
                occurrence_start=(from_db(row["occurrence_start_at"])
                                  if row["occurrence_start_at"] else None),
                cohosts=tuple(chairs[row["id"]]),
                revision=row["revision"],
                chosen_chair=Username(row["chair"]) if row["chair"] else None,
            )
            for row in rows
        ]

    # ------------------------------------------------------------ access

    def may_attend(self, meeting: Meeting, account: Account) -> bool:
        """Whether this account belongs in the meeting at all (the time aside).

        The organizer, the invitees, the leader it was scheduled for and administrators
        may; IT staff may list meetings but not join them; a room's device account may
        join only meetings booked in its own room.
        """
        if not account.active:
            return False
        if account.kind == "room":
            room = self._rooms.room_of_device(account.username)
            return room is not None and meeting.room_id == room
        if account.role == "admin":
            return True
        if account.role == "it":
            return False
        return account.username in (meeting.organizer, meeting.on_behalf_of, *meeting.invitees)

    def has_ended(self, meeting: Meeting) -> bool:
        """Over: ended, or past its planned end and not live."""
        return meeting.state == "ended" or (meeting.state != "live"
                                            and self._now() >= meeting.end)

    def join_opens_at(self, meeting: Meeting) -> datetime:
        return meeting.start - self.join_window

    def is_open(self, meeting: Meeting, now: datetime | None = None) -> bool:
        """Whether the join window is open: from join_window before the start to the end,
        or while the meeting is live."""
        if meeting.state in ("cancelled", "ended"):
            return False
        if meeting.state == "live":
            return True
        moment = self._now() if now is None else now
        return self.join_opens_at(meeting) <= moment < meeting.end

    def may_join(self, meeting: Meeting, account: Account) -> bool:
        """May attend, and the join window is open (administrators: any time it is not
        cancelled, to check the equipment before a meeting)."""
        if not self.may_attend(meeting, account):
            return False
        if account.role == "admin" and account.kind == "staff":
            return meeting.state not in ("cancelled", "ended")
        return self.is_open(meeting)

    def open_for(self, meeting_id: str, account: Account) -> Meeting:
        """The meeting, if this account may join it now; NotFound, Forbidden or
        JoinWindowClosed otherwise."""
        meeting = self.get(meeting_id)
        if not self.may_attend(meeting, account):
            raise Forbidden(NOT_INVITED)
        if meeting.state == "ended":
            raise MeetingEnded(ENDED_BY_HOST)
        if self.may_join(meeting, account):
            return meeting
        if meeting.state == "cancelled":
            raise JoinWindowClosed("This meeting was cancelled")
        if self._now() >= meeting.end:
            raise JoinWindowClosed("This meeting has ended")
        opens = self.join_opens_at(meeting).astimezone(self.tz)
        raise JoinWindowClosed(
            f"This meeting opens for joining at {opens:%H:%M} on {opens:%d/%m/%Y}",
            opens_at=opens.isoformat(),
        )


def check_cohosts(cohosts: Sequence[str], invitees: Sequence[str]) -> tuple[Username, ...]:
    """The co-hosts, cleaned: each one must be among the invitees."""
    if isinstance(cohosts, str):
        raise TypeError("cohosts must be a sequence of usernames, not one string")
    chairs = tuple(dict.fromkeys(Username(c.strip().lower()) for c in cohosts if c.strip()))
    strangers = [c for c in chairs if c not in invitees]
    if strangers:
        raise BadRequest(f"Co-hosts must be invited: {', '.join(strangers)} is not.",
                         rule="cohost_not_invited", username=strangers[0])
    return chairs


def check_title(text: str) -> str:
    """The title without surrounding spaces: not empty, at most TITLE_MAX characters."""
    title = text.strip()
    if not title:
        raise BadRequest("The meeting title must not be empty.")
    if len(title) > TITLE_MAX:
        raise BadRequest(f"The meeting title must be at most {TITLE_MAX} characters.")
    if has_control_characters(title):
        raise BadRequest("The meeting title must be one line of visible characters.")
    return title


def check_agenda(text: str) -> str:
    agenda = text.strip()
    if len(agenda) > AGENDA_MAX:
        raise BadRequest(f"The agenda must be at most {AGENDA_MAX} characters.")
    return agenda
