"""`giaoban meetings guest-link ID [--expires ISO] [--json]`: a guest link for outside
guests of one meeting (by default valid until the meeting's planned end)."""

from __future__ import annotations

import argparse
import json

from signaling.accounts.audit import CLI_ACTOR
from signaling.config import Config
from signaling.errors import BadRequest
from signaling.live.guest_links import GuestLinks
from signaling.schedule.meetings import parse_when
from web.cli.schedule import _subcommands, services
from web.origin import public_address

MEETING_OVER = "This meeting has ended; a guest link for it would lead nowhere."


def cmd_meetings_guest_link(args: argparse.Namespace, config: Config) -> int:
    with services(config) as s:
        meeting = s.meetings.get(args.id)
        if meeting.state == "cancelled" or s.meetings.has_ended(meeting):
            raise BadRequest(MEETING_OVER)
        expires = parse_when(args.expires, config.tz) if args.expires else meeting.end
        link, token = GuestLinks(s.store).create(meeting.id, expires, CLI_ACTOR)
    url = f"{public_address(config.http)}/g/{token}"
    if args.json:
        print(json.dumps({"url": url, "id": link.id, "meeting_id": link.meeting_id,
                          "expires_at": link.expires_at.astimezone(config.tz).isoformat()},
                         ensure_ascii=False, indent=2))
        return 0
    local = link.expires_at.astimezone(config.tz)
    print(f"Guest link for meeting {meeting.id} ({meeting.title}), valid until "
          f"{local:%d/%m/%Y %H:%M}:")
    print(url)
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser],
                 common: argparse.ArgumentParser) -> None:
    meetings = _subcommands(commands.choices["meetings"])
    guest = meetings.add_parser("guest-link", parents=[common],
                                help="print a link outside guests open to ask to enter")
    guest.add_argument("id", metavar="ID", help="meeting id")
    guest.add_argument("--expires", metavar="ISO",
                       help="when the link stops working (local time); default the "
                            "meeting's planned end")
    guest.add_argument("--json", action="store_true", help="print JSON (with the url)")
    guest.set_defaults(func=cmd_meetings_guest_link)
