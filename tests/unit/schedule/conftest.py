"""A small ministry for the scheduling tests: accounts of every role, built once and copied."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from rooms.bookings import BookingService
from rooms.calendar import MeetingRooms
from rooms.devices import RoomDevices
from signaling.accounts.accounts import Account, AccountService
from signaling.config import Config
from signaling.schedule.meetings import MeetingService
from signaling.schedule.service import ScheduleService
from signaling.store import Store

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2025, 3, 10, 0, 0, tzinfo=UTC)  # Monday 07:00 in Hà Nội
PEOPLE = (("lan", "clerk"), ("binh", "secretary"), ("an", "leader"), ("cuong", "leader"),
          ("dung", "official"), ("hai", "it"), ("root", "admin"), ("em", "official"))


@dataclass
class World:
    store: Store
    accounts: AccountService
    meetings: MeetingService
    bookings: BookingService
    schedule: ScheduleService
    clock: list[datetime]

    def __getitem__(self, username: str) -> Account:
        return self.accounts.get(username)


@pytest.fixture(scope="module")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("world") / "giaoban.sqlite3"
    store = Store.open(path)
    accounts = AccountService(store, seats=20)
    for name, role in PEOPLE:
        accounts.create(name, name.title(), role, "password-" + name)
    accounts.assign_secretary("binh", "an")
    store.close()
    return path


@pytest.fixture
def world(world_template: Path, tmp_path: Path) -> Iterator[World]:
    path = tmp_path / "giaoban.sqlite3"
    shutil.copyfile(world_template, path)
    store = Store.open(path)
    clock = [NOW]
    accounts = AccountService(store, seats=20)
    bookings = BookingService(store, Config().rooms, HCM, now=lambda: clock[0])
    rooms = MeetingRooms(bookings, RoomDevices(store))
    meetings = MeetingService(store, HCM, now=lambda: clock[0], rooms=rooms)
    yield World(store, accounts, meetings, bookings,
                ScheduleService(store, meetings, accounts, rooms), clock)
    store.close()
