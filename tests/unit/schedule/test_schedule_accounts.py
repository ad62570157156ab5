"""Room device accounts hold no licence seat; secretaries' leaders; schedule settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from rooms.devices import RoomDevices, device_username
from signaling.accounts.accounts import AccountService
from signaling.config import Config, RoomSettings, load_config
from signaling.errors import ConfigError, Conflict, LicenceExhausted
from signaling.store import Store


def test_room_accounts_hold_no_seat(store: Store) -> None:
    accounts = AccountService(store, seats=1)
    accounts.create("root", "Root", "admin", "password-root")
    devices = RoomDevices(store)
    name, password = devices.create_or_reset(RoomSettings(id="room-1", name="Phòng họp 1"))
    assert name == "room-1" and len(password) >= 12
    room = accounts.authenticate("room-1", password)
    assert (room.kind, room.active, room.display_name) == ("room", True, "Phòng họp 1")
    assert room.must_change_password  # a one-time password
    assert accounts.count_active() == 1
    with pytest.raises(LicenceExhausted):
        accounts.create("an", "An", "leader", "password-an")
    # A new password replaces the old one; the room keeps its one account.
    accounts.set_password("room-1", "kiosk-password-123")
    assert not accounts.get("room-1").must_change_password
    _, newer = devices.create_or_reset(RoomSettings(id="room-1", name="Phòng họp 1"))
    assert accounts.authenticate("room-1", newer).kind == "room"
    assert accounts.get("room-1").must_change_password
    assert devices.username_of("room-1") == "room-1"
    # Turning a room account into staff needs a seat.
    with pytest.raises(Exception, match="licence_exhausted"):
        with store.transaction() as db:
            db.execute("UPDATE accounts SET kind = 'staff' WHERE username = 'room-1'")


def test_a_room_cannot_take_a_staff_username(store: Store) -> None:
    AccountService(store, seats=5).create("room-2", "Someone", "official", "password-x1")
    with pytest.raises(Conflict, match="belongs to a staff account"):
        RoomDevices(store).create_or_reset(RoomSettings(id="room-2", name="Phòng 2"))
    assert device_username(RoomSettings(id="Hall_A", name="x")) == "hall_a"


def test_leaders_of_a_secretary(store: Store) -> None:
    accounts = AccountService(store, seats=5)
    for name, role in (("binh", "secretary"), ("an", "leader"), ("cuong", "leader")):
        accounts.create(name, name, role, "password-" + name)
    accounts.assign_secretary("binh", "cuong")
    accounts.assign_secretary("binh", "an")
    accounts.assign_secretary("binh", "an")
    assert accounts.leaders_of("binh") == ["an", "cuong"]
    assert accounts.leaders_of("an") == []


def test_schedule_settings_defaults_and_bad_values(tmp_path: Path) -> None:
    config = Config()
    assert config.meetings.join_window_minutes == 15
    assert config.recording.default_policy == "automatic"
    loaded = load_config(None, env={"GIAOBAN_MEETINGS_JOIN_WINDOW_MINUTES": "5",
                                    "GIAOBAN_RECORDING_DEFAULT_POLICY": "off"})
    assert loaded.meetings.join_window_minutes == 5 and loaded.recording.default_policy == "off"
    bad = tmp_path / "bad.toml"
    bad.write_text("[meetings]\njoin_window_minutes = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'meetings.join_window_minutes'"):
        load_config(bad, env={})
    bad.write_text('[recording]\ndefault_policy = "sometimes"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="'recording.default_policy'"):
        load_config(bad, env={})
