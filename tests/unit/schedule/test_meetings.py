"""Meetings: scheduling, time zones, validation, listing and who may join."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from rooms.calendar import meeting_rooms
from signaling.accounts.accounts import AccountService
from signaling.config import Config
from signaling.errors import BadRequest, Forbidden, NotFound
from signaling.schedule.meetings import MeetingService, parse_when
from signaling.store import Store

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2025, 3, 14, 1, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the test accounts, built once (password hashing is slow) and copied."""
    path = tmp_path_factory.mktemp("template") / "giaoban.sqlite3"
    store = Store.open(path)
    service = AccountService(store, seats=10)
    for name, role in (("alice", "clerk"), ("bob", "leader"), ("carol", "official"),
                       ("root", "admin"), ("dave", "official")):
        service.create(name, name.title(), role, "password-" + name)
    service.set_active("dave", False)
    store.close()
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Iterator[Store]:
    path = tmp_path / "giaoban.sqlite3"
    shutil.copyfile(template, path)
    store = Store.open(path)
    yield store
    store.close()


@pytest.fixture
def accounts(db: Store) -> AccountService:
    return AccountService(db, seats=10)


@pytest.fixture
def meetings(db: Store) -> MeetingService:
    return MeetingService(db, HCM, meeting_rooms(db, Config().rooms, HCM), now=lambda: NOW)


def test_create_with_defaults(meetings: MeetingService) -> None:
    meeting = meetings.create("  Giao ban tuần  ", "alice")
    assert re.fullmatch(r"[a-z0-9]{10}", meeting.id)
    assert meeting.title == "Giao ban tuần"
    assert meeting.organizer == "alice"
    assert meeting.start == NOW
    assert meeting.end == NOW + timedelta(hours=1)
    assert meeting.invitees == ()
    assert meeting.state == "scheduled"
    assert meeting.join_url == f"/m/{meeting.id}"
    assert meetings.get(meeting.id) == meeting


def test_start_without_end_lasts_one_hour(meetings: MeetingService) -> None:
    meeting = meetings.create("Briefing", "alice", start=datetime(2025, 3, 20, 8, 0, tzinfo=UTC))
    assert meeting.end == datetime(2025, 3, 20, 9, 0, tzinfo=UTC)


def test_naive_times_are_read_in_the_configured_zone(meetings: MeetingService) -> None:
    meeting = meetings.create(
        "Briefing", "alice", start=datetime(2025, 3, 14, 9, 0), end=datetime(2025, 3, 14, 10, 30)
    )
    assert meeting.start == datetime(2025, 3, 14, 2, 0, tzinfo=UTC)
    assert meeting.end == datetime(2025, 3, 14, 3, 30, tzinfo=UTC)
    assert meeting.start.utcoffset() == timedelta(0)


def test_aware_times_are_kept_and_returned_in_utc(meetings: MeetingService) -> None:
    tokyo = timezone(timedelta(hours=9))
    meeting = meetings.create(
        "Briefing", "alice",
        start=datetime(2025, 3, 14, 2, 0, tzinfo=UTC),
        end=datetime(2025, 3, 14, 12, 0, tzinfo=tokyo),
    )
    assert meeting.start == datetime(2025, 3, 14, 2, 0, tzinfo=UTC)
    assert meeting.end == datetime(2025, 3, 14, 3, 0, tzinfo=UTC)
    assert meeting.end.tzinfo == UTC


@pytest.mark.parametrize(("title", "message"), [("", "must not be empty"),
                                                ("   ", "must not be empty"),
                                                ("x" * 201, "at most 200")])
def test_bad_title(meetings: MeetingService, title: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        meetings.create(title, "alice")


@pytest.mark.parametrize("minutes", [0, -30])
def test_end_must_be_after_start(meetings: MeetingService, minutes: int) -> None:
    start = datetime(2025, 3, 14, 9, 0)
    with pytest.raises(BadRequest, match="end after it starts"):
        meetings.create("Briefing", "alice", start=start, end=start + timedelta(minutes=minutes))


def test_unknown_organizer_or_invitee_is_named(meetings: MeetingService) -> None:
    with pytest.raises(NotFound, match="'zed'"):
        meetings.create("Briefing", "zed")
    with pytest.raises(NotFound, match="'yann'"):
        meetings.create("Briefing", "alice", invitees=["bob", "yann"])
    assert meetings.list_all() == []


def test_inactive_invitee_is_named(meetings: MeetingService) -> None:
    with pytest.raises(BadRequest, match="'dave' is deactivated"):
        meetings.create("Briefing", "alice", invitees=["dave"])
    with pytest.raises(BadRequest, match="'dave' is deactivated"):
        meetings.create("Briefing", "dave")
    assert meetings.list_all() == []


def test_invitees_are_normalised_deduplicated_and_ordered(meetings: MeetingService) -> None:
    meeting = meetings.create("Briefing", "alice", invitees=["Carol", "bob", "carol", "alice"])
    assert meeting.invitees == ("carol", "bob")
    assert meetings.get(meeting.id).invitees == ("carol", "bob")


def test_get_unknown(meetings: MeetingService) -> None:
    with pytest.raises(NotFound, match="No meeting with id 'nosuchmeet'"):
        meetings.get("nosuchmeet")
    assert meetings.find("nosuchmeet") is None


def test_ids_are_unique(meetings: MeetingService) -> None:
    ids = {meetings.create(f"M{i}", "alice").id for i in range(40)}
    assert len(ids) == 40


def test_list_for_covers_organised_and_invited_by_start(meetings: MeetingService) -> None:
    day = datetime(2025, 3, 14)
    late = meetings.create("Late", "alice", start=day.replace(hour=15))
    early = meetings.create("Early", "carol", start=day.replace(hour=8), invitees=["alice", "bob"])
    middle = meetings.create("Middle", "bob", start=day.replace(hour=11))
    assert [m.id for m in meetings.list_for("alice")] == [early.id, late.id]
    assert [m.id for m in meetings.list_for("BOB")] == [early.id, middle.id]
    assert [m.id for m in meetings.list_for("carol")] == [early.id]
    assert meetings.list_for("root") == []
    assert [m.id for m in meetings.list_all()] == [early.id, middle.id, late.id]
    assert meetings.list_for("alice")[0].invitees == ("alice", "bob")


def test_may_join_and_open_for(meetings: MeetingService, accounts: AccountService) -> None:
    meeting = meetings.create("Briefing", "alice", invitees=["bob"])
    alice, bob, carol, root = (accounts.get(n) for n in ("alice", "bob", "carol", "root"))
    assert meetings.may_join(meeting, alice)
    assert meetings.may_join(meeting, bob)
    assert meetings.may_join(meeting, root)
    assert not meetings.may_join(meeting, carol)
    assert meetings.open_for(meeting.id, bob) == meeting
    with pytest.raises(Forbidden, match="You are not invited to this meeting"):
        meetings.open_for(meeting.id, carol)
    with pytest.raises(NotFound):
        meetings.open_for("nosuchmeet", root)


def test_deactivated_invitee_may_not_join(
    meetings: MeetingService, accounts: AccountService
) -> None:
    meeting = meetings.create("Briefing", "alice", invitees=["bob"])
    bob = accounts.set_active("bob", False)
    assert not meetings.may_join(meeting, bob)


def test_set_state(meetings: MeetingService) -> None:
    meeting = meetings.create("Briefing", "alice")
    assert meetings.set_state(meeting.id, "live").state == "live"
    assert meetings.get(meeting.id).state == "live"
    assert meetings.set_state(meeting.id, "ended").state == "ended"
    with pytest.raises(BadRequest, match="Unknown meeting state 'paused'"):
        meetings.set_state(meeting.id, "paused")
    with pytest.raises(NotFound):
        meetings.set_state("nosuchmeet", "live")


def test_meetings_persist_across_reopen(meetings: MeetingService, db: Store) -> None:
    meeting = meetings.create("Briefing", "alice", invitees=["bob"])
    db.close()
    reopened = Store.open(db.path)
    try:
        service = MeetingService(reopened, HCM, meeting_rooms(reopened, Config().rooms, HCM))
        assert service.get(meeting.id) == meeting
    finally:
        reopened.close()


# ---------------------------------------------------------------- parse_when


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-14T09:00", datetime(2025, 3, 14, 2, 0, tzinfo=UTC)),
        ("2025-03-14 09:00", datetime(2025, 3, 14, 2, 0, tzinfo=UTC)),
        (" 2025-03-14T09:00:30 ", datetime(2025, 3, 14, 2, 0, 30, tzinfo=UTC)),
        ("2025-03-14T09:00Z", datetime(2025, 3, 14, 9, 0, tzinfo=UTC)),
        ("2025-03-14T09:00+00:00", datetime(2025, 3, 14, 9, 0, tzinfo=UTC)),
        ("2025-03-14T09:00+09:00", datetime(2025, 3, 14, 0, 0, tzinfo=UTC)),
        ("2025-03-14", datetime(2025, 3, 13, 17, 0, tzinfo=UTC)),
    ],
)
def test_parse_when(text: str, expected: datetime) -> None:
    parsed = parse_when(text, HCM)
    assert parsed == expected
    assert parsed.tzinfo == UTC


@pytest.mark.parametrize("text", ["", "   ", "tomorrow", "2025-13-01T09:00", "14/03/2025 09:00"])
def test_parse_when_refuses_garbage(text: str) -> None:
    with pytest.raises(BadRequest, match="ISO 8601|required"):
        parse_when(text, HCM)
