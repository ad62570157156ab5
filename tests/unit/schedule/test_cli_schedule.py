"""`giaoban rooms ...` and `giaoban meetings ics`, run as real subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

import vobject

from signaling.accounts.accounts import AccountService
from signaling.config import load_config
from signaling.store import Store
from tests.unit.web.test_cli import giaoban, write_config


def prepare(tmp_path: Path) -> Path:
    config = write_config(tmp_path)
    store = Store.open(load_config(config, env={}).database_path)
    accounts = AccountService(store, seats=10)
    accounts.create("lan", "Lan", "clerk", "password-lan")
    accounts.create("an", "An", "leader", "password-an")
    store.close()
    return config


def test_book_list_and_a_clash(tmp_path: Path) -> None:
    config = prepare(tmp_path)
    first = giaoban("rooms", "book", "--config", str(config), "--room", "room-2",
                    "--start", "2030-03-14T09:00", "--end", "2030-03-14T10:00", "--by", "lan",
                    "--title", "Họp chi bộ", "--json")
    assert first.returncode == 0, first.stderr
    booked = json.loads(first.stdout)
    assert booked["start"] == "2030-03-14T09:00:00+07:00" and booked["room_id"] == "room-2"
    clash = giaoban("rooms", "book", "--config", str(config), "--room", "room-2",
                    "--start", "2030-03-14T02:30Z", "--end", "2030-03-14T11:00",
                    "--by", "lan")
    assert clash.returncode == 1 and clash.stdout == ""
    assert f"booking #{booked['id']}" in clash.stderr and "Họp chi bộ" in clash.stderr
    assert clash.stderr.startswith("error: ")
    back_to_back = giaoban("rooms", "book", "--config", str(config), "--room", "room-2",
                           "--start", "2030-03-14T10:00", "--end", "2030-03-14T11:00",
                           "--by", "lan")
    assert back_to_back.returncode == 0 and back_to_back.stdout.startswith("Booked #")
    refused = giaoban("rooms", "book", "--config", str(config), "--room", "room-1",
                      "--start", "2030-03-14T10:00", "--end", "2030-03-14T11:00", "--by", "an")
    assert refused.returncode == 1 and "may not book rooms" in refused.stderr
    listing = giaoban("rooms", "bookings", "--config", str(config), "--room", "room-2", "--json")
    assert listing.returncode == 0
    assert [b["start"][11:16] for b in json.loads(listing.stdout)] == ["09:00", "10:00"]
    unknown = giaoban("rooms", "bookings", "--config", str(config), "--room", "room-7")
    assert unknown.returncode == 1 and "No room with id 'room-7'" in unknown.stderr


def test_meeting_ics_and_room_device(tmp_path: Path) -> None:
    config = prepare(tmp_path)
    created = giaoban("meetings", "create", "--config", str(config), "--title", "Giao ban",
                      "--organizer", "lan", "--start", "2030-03-11T08:00", "--invite", "an",
                      "--json")
    meeting_id = json.loads(created.stdout)["id"]
    ics = giaoban("meetings", "ics", "--config", str(config), meeting_id)
    assert ics.returncode == 0, ics.stderr
    event = vobject.readOne(ics.stdout).vevent
    assert event.summary.value == "Giao ban"
    assert event.dtstart.value.isoformat() == "2030-03-11T08:00:00+07:00"
    missing = giaoban("meetings", "ics", "--config", str(config), "nosuchmeet")
    assert missing.returncode == 1 and "No meeting with id" in missing.stderr
    device = giaoban("rooms", "device", "--config", str(config), "--room", "room-1")
    assert device.returncode == 0 and "'room-1'" in device.stdout
    password = device.stdout.split("one-time password: ", 1)[1].split()[0]
    store = Store.open(load_config(config, env={}).database_path)
    try:
        assert AccountService(store, seats=10).authenticate("room-1", password).kind == "room"
    finally:
        store.close()
