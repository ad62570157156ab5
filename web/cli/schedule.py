"""`giaoban rooms ...` and `giaoban meetings ics`: room bookings and invitations for scripts.

They use the same services as the pages and the JSON API. A refused booking exits
with status 1 and names the clashing booking on stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from rooms.bookings import Booking, BookingService
from rooms.calendar import MeetingRooms
from rooms.devices import RoomDevices
from signaling.accounts.accounts import AccountService
from signaling.config import Config
from signaling.errors import BadRequest
from signaling.schedule.invitations import CalendarContext, SeriesRule, meeting_invitation
from signaling.schedule.meetings import MeetingService, parse_when
from signaling.schedule.service import ScheduleService
from signaling.store import Store
from web.api.schedule_json import booking_json


@dataclass
class Services:
    store: Store
    accounts: AccountService
    meetings: MeetingService
    bookings: BookingService
    devices: RoomDevices
    schedule: ScheduleService


@contextmanager
def services(config: Config) -> Iterator[Services]:
    config.data_path.mkdir(parents=True, exist_ok=True)
    store = Store.open(config.database_path)
    try:
        accounts = AccountService(store, config.licence.seats)
        bookings = BookingService(store, config.rooms, config.tz)
        devices = RoomDevices(store)
        rooms = MeetingRooms(bookings, devices)
        meetings = MeetingService(
            store, config.tz, join_window=timedelta(minutes=config.meetings.join_window_minutes),
            default_recording_policy=config.recording.default_policy, rooms=rooms)
        yield Services(store, accounts, meetings, bookings, devices,
                       ScheduleService(store, meetings, accounts, rooms))
    finally:
        store.close()


def _line(config: Config, booking: Booking) -> str:
    start, end = booking.start.astimezone(config.tz), booking.end.astimezone(config.tz)
    return (f"#{booking.id}  {booking.room_id}  {start:%Y-%m-%d %H:%M}-{end:%H:%M}  "
            f"{booking.title}  ({booking.booked_by})")


def cmd_rooms_book(args: argparse.Namespace, config: Config) -> int:
    start, end = parse_when(args.start, config.tz), parse_when(args.end, config.tz)
    with services(config) as s:
        actor = s.accounts.get(args.by)
        booking = s.bookings.book(actor, args.room, start, end, args.title or "Đặt phòng")
    if args.json:
        print(json.dumps(booking_json(booking, config.tz), ensure_ascii=False, indent=2))
    else:
        print(f"Booked {_line(config, booking)}")
    return 0


def cmd_rooms_bookings(args: argparse.Namespace, config: Config) -> int:
    start = parse_when(args.start, config.tz) if args.start else None
    end = parse_when(args.end, config.tz) if args.end else None
    with services(config) as s:
        found = s.bookings.list(args.room, start, end)
    if args.json:
        print(json.dumps([booking_json(b, config.tz) for b in found], ensure_ascii=False,
                         indent=2))
    else:
        for booking in found:
            print(_line(config, booking))
    return 0


def cmd_rooms_device(args: argparse.Namespace, config: Config) -> int:
    with services(config) as s:
        room = s.bookings.room(args.room)
        username, password = s.devices.create_or_reset(room)
    print(f"Room {room.id} signs in as {username!r} with the one-time password: {password}")
    print(f"Open http://{config.http.host}:{config.http.port}/rooms/{room.id}/kiosk on the "
          "room's endpoint and sign in there, then choose its own password; this one is "
          "not shown again.")
    return 0


def cmd_meetings_ics(args: argparse.Namespace, config: Config) -> int:
    with services(config) as s:
        meeting = s.meetings.get(args.id)
        series = s.meetings.list_series(meeting.series_id) if meeting.series_id else []
        rule = None
        if meeting.series_id:
            _, first, text = s.schedule.series_rule(meeting.series_id)
            rule = SeriesRule(text, first)
        rooms = {r.id: r.name for r in config.rooms}

        def name_of(username: str) -> str:
            account = s.accounts.find(username)
            return account.display_name if account else username

        context = CalendarContext(
            tz=config.tz, base_url=f"http://{config.http.host}:{config.http.port}",
            name_of=name_of, room_label=lambda r: rooms.get(r, r), now=dt.datetime.now(dt.UTC))
        body = meeting_invitation(meeting, series, rule, context)
    sys.stdout.write(body.decode("utf-8"))
    return 0


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[
        argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise BadRequest(f"{parser.prog} has no subcommands")


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser],
                 common: argparse.ArgumentParser) -> None:
    rooms = commands.add_parser("rooms", help="book the dedicated rooms and set up their kiosks")
    actions = rooms.add_subparsers(dest="action", metavar="ACTION", required=True)
    book = actions.add_parser("book", parents=[common], help="book a room (exit 1 on a clash)")
    book.add_argument("--room", required=True, metavar="ID")
    book.add_argument("--start", required=True, metavar="ISO",
                      help="e.g. 2025-03-14T09:00 (local time) or with Z / an offset")
    book.add_argument("--end", required=True, metavar="ISO")
    book.add_argument("--by", required=True, metavar="USERNAME",
                      help="the clerk, secretary or administrator booking it")
    book.add_argument("--title", help="what the room is booked for")
    book.add_argument("--json", action="store_true", help="print JSON")
    book.set_defaults(func=cmd_rooms_book)
    listing = actions.add_parser("bookings", parents=[common], help="list a room's bookings")
    listing.add_argument("--room", metavar="ID", help="only this room")
    listing.add_argument("--start", metavar="ISO", help="from this time")
    listing.add_argument("--end", metavar="ISO", help="until this time")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_rooms_bookings)
    device = actions.add_parser(
        "device", parents=[common],
        help="create the room's kiosk account, or give it a new one-time password")
    device.add_argument("--room", required=True, metavar="ID")
    device.set_defaults(func=cmd_rooms_device)

    meetings = _subcommands(commands.choices["meetings"]) if "meetings" in commands.choices \
        else commands.add_parser("meetings").add_subparsers(dest="action", required=True)
    ics = meetings.add_parser("ics", parents=[common],
                              help="print a meeting's invitation (iCalendar, METHOD:REQUEST)")
    ics.add_argument("id", metavar="ID", help="meeting id")
    ics.set_defaults(func=cmd_meetings_ics)
