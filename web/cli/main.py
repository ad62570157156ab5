"""The `giaoban` command: run the server and manage accounts and meetings.

Every subcommand reads its configuration with --config FILE exactly like `serve`
(defaults, then the file, then GIAOBAN_* environment overrides). A refused action or
an invalid configuration prints `error: <reason>` on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from rooms.calendar import meeting_rooms
from signaling.accounts.accounts import Account, AccountService
from signaling.accounts.audit import CLI_ACTOR
from signaling.accounts.fields import ROLES
from signaling.config import Config, load_config
from signaling.errors import BadRequest, ConfigError, GiaobanError
from signaling.schedule.meetings import Meeting, MeetingService, parse_when
from signaling.store import Store, StoreError
from web.cli import accounts as cli_accounts
from web.cli import guests as cli_guests
from web.cli import quality as cli_quality
from web.cli import recordings as cli_recordings
from web.cli import schedule as cli_schedule
from web.cli import sfu as cli_sfu
from web.cli import tls as cli_tls
from web.origin import public_address

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_CONFIG = 2

Command = Callable[[argparse.Namespace, Config], int]


# ---------------------------------------------------------------- helpers


def _open_store(config: Config) -> Store:
    config.data_path.mkdir(parents=True, exist_ok=True)
    return Store.open(config.database_path)


def _read_password(args: argparse.Namespace, stdin: TextIO) -> str:
    if args.password_stdin:
        line = stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise BadRequest("No password was given on standard input.")
        return password
    if not stdin.isatty():
        raise BadRequest("Use --password-stdin to pass the password on standard input.")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat the password: ") != first:
        raise BadRequest("The two passwords differ.")
    return first


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    for row in (headers, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _account_json(account: Account) -> dict[str, Any]:
    return {
        "username": account.username,
        "display_name": account.display_name,
        "unit": account.unit,
        "role": account.role,
        "active": account.active,
        "created_at": account.created_at.isoformat(),
    }


def _meeting_url(config: Config, meeting: Meeting) -> str:
    return public_address(config.http) + meeting.join_url


def _meeting_json(config: Config, meeting: Meeting) -> dict[str, Any]:
    return {
        "id": meeting.id,
        "title": meeting.title,
        "organizer": meeting.organizer,
        "start": meeting.start.isoformat(),
        "end": meeting.end.isoformat(),
        "invitees": list(meeting.invitees),
        "state": meeting.state,
        "join_url": meeting.join_url,
        "url": _meeting_url(config, meeting),
    }


def _local(config: Config, meeting: Meeting) -> str:
    start = meeting.start.astimezone(config.tz)
    end = meeting.end.astimezone(config.tz)
    return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M}"


# ---------------------------------------------------------------- serve


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_HANDLER_NAME = "giaoban"


def configure_logging(level: str) -> None:
    """Log to stderr at the configured level; calling it again replaces the handler."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in list(root.handlers):
        if handler.get_name() == LOG_HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.set_name(LOG_HANDLER_NAME)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    configure_logging(config.log_level)
    store = _open_store(config)
    try:
        password = AccountService(store, config.licence.seats).ensure_first_admin(os.environ)
    finally:
        store.close()
    if password is not None:
        print(f"Created account 'admin' with one-time password: {password}")
        print("Sign in with it; you will be asked to choose a new password at once "
              "(page /account/password). It is not shown again.", flush=True)
    from web.app import serve  # the media stack is loaded only by the command that serves

    serve(config)
    return EXIT_OK


# ---------------------------------------------------------------- accounts


def cmd_accounts_create(args: argparse.Namespace, config: Config) -> int:
    password = _read_password(args, sys.stdin)
    store = _open_store(config)
    try:
        account = AccountService(store, config.licence.seats).create(
            args.username, args.display_name, args.role, password, CLI_ACTOR,
            unit=args.unit,
        )
    finally:
        store.close()
    print(f"Created account {account.username} (role {account.role})")
    return EXIT_OK


def cmd_accounts_list(args: argparse.Namespace, config: Config) -> int:
    store = _open_store(config)
    try:
        service = AccountService(store, config.licence.seats)
        accounts = service.list()
        used = service.count_active()
    finally:
        store.close()
    if args.json:
        print(json.dumps([_account_json(a) for a in accounts], ensure_ascii=False, indent=2))
        return EXIT_OK
    _print_table(
        ("USERNAME", "DISPLAY NAME", "ROLE", "ACTIVE"),
        [(a.username, a.display_name, a.role, "yes" if a.active else "no") for a in accounts],
    )
    print(f"\n{used} of {config.licence.seats} licence seats used.")
    return EXIT_OK


def _set_active(active: bool) -> Command:
    def command(args: argparse.Namespace, config: Config) -> int:
        store = _open_store(config)
        try:
            account = AccountService(store, config.licence.seats).set_active(
                args.username, active, CLI_ACTOR
            )
        finally:
            store.close()
        print(f"Account {account.username} is now {'active' if active else 'deactivated'}")
        return EXIT_OK

    return command


def cmd_accounts_set_password(args: argparse.Namespace, config: Config) -> int:
    password = _read_password(args, sys.stdin)
    store = _open_store(config)
    try:
        AccountService(store, config.licence.seats).set_password(
            args.username, password, CLI_ACTOR)
    finally:
        store.close()
    print(f"Password of {args.username.strip().lower()} changed")
    return EXIT_OK


def cmd_accounts_set_role(args: argparse.Namespace, config: Config) -> int:
    store = _open_store(config)
    try:
        account = AccountService(store, config.licence.seats).set_role(
            args.username, args.role, CLI_ACTOR)
    finally:
        store.close()
    print(f"Account {account.username} now has role {account.role}")
    return EXIT_OK


# ---------------------------------------------------------------- meetings


def cmd_meetings_create(args: argparse.Namespace, config: Config) -> int:
    tz = config.tz
    start = parse_when(args.start, tz) if args.start is not None else None
    end = parse_when(args.end, tz) if args.end is not None else None
    store = _open_store(config)
    try:
        meeting = MeetingService(
            store, tz, meeting_rooms(store, config.rooms, tz),
            default_recording_policy=config.recording.default_policy,
        ).create(args.title, args.organizer, start=start, end=end, invitees=args.invite)
    finally:
        store.close()
    if args.json:
        print(json.dumps(_meeting_json(config, meeting), ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"Created meeting {meeting.id}: {meeting.title} ({_local(config, meeting)})")
    print(f"Join: {_meeting_url(config, meeting)}")
    return EXIT_OK


def cmd_meetings_list(args: argparse.Namespace, config: Config) -> int:
    store = _open_store(config)
    try:
        service = MeetingService(store, config.tz, meeting_rooms(store, config.rooms, config.tz))
        meetings = service.list_for(args.user) if args.user else service.list_all()
    finally:
        store.close()
    if args.json:
        data = [_meeting_json(config, m) for m in meetings]
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return EXIT_OK
    _print_table(
        ("ID", f"WHEN ({config.timezone})", "STATE", "ORGANIZER", "TITLE"),
        [(m.id, _local(config, m), m.state, m.organizer, m.title) for m in meetings],
    )
    return EXIT_OK


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="giaoban",
        description="Giao Ban: self-hosted video conferencing for the ministry.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", metavar="FILE", default=None,
        help="configuration file (TOML); without it, the defaults and GIAOBAN_* variables",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve", parents=[common], help="run the web server, signaling and media workers"
    )
    serve.set_defaults(func=cmd_serve)

    accounts = commands.add_parser("accounts", help="manage the licensed staff accounts")
    acc = accounts.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = acc.add_parser("create", parents=[common], help="create an active account")
    create.add_argument("--username", required=True)
    create.add_argument("--display-name", required=True)
    create.add_argument("--unit", default="", help="the unit the person works in")
    create.add_argument("--role", required=True, help=f"one of: {', '.join(ROLES)}")
    create.add_argument(
        "--password-stdin", action="store_true",
        help="read the password from the first line of standard input",
    )
    create.set_defaults(func=cmd_accounts_create)
    listing = acc.add_parser("list", parents=[common], help="list every account")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_accounts_list)
    for name, active, text in (
        ("activate", True, "activate an account (needs a free licence seat)"),
        ("deactivate", False, "deactivate an account, freeing its seat and signing it out"),
    ):
        sub = acc.add_parser(name, parents=[common], help=text)
        sub.add_argument("--username", required=True)
        sub.set_defaults(func=_set_active(active))
    password = acc.add_parser("set-password", parents=[common], help="set a new password")
    password.add_argument("--username", required=True)
    password.add_argument(
        "--password-stdin", action="store_true",
        help="read the password from the first line of standard input",
    )
    password.set_defaults(func=cmd_accounts_set_password)
    role = acc.add_parser("set-role", parents=[common], help="change an account's role")
    role.add_argument("--username", required=True)
    role.add_argument("--role", required=True, help=f"one of: {', '.join(ROLES)}")
    role.set_defaults(func=cmd_accounts_set_role)
    cli_accounts.add_account_actions(acc, common)

    meetings = commands.add_parser("meetings", help="schedule and list meetings")
    mtg = meetings.add_subparsers(dest="action", metavar="ACTION", required=True)
    mcreate = mtg.add_parser("create", parents=[common], help="schedule a meeting")
    mcreate.add_argument("--title", required=True)
    mcreate.add_argument("--organizer", required=True, metavar="USERNAME")
    mcreate.add_argument(
        "--start", metavar="ISO", help="start, e.g. 2025-03-14T09:00 (local time); default now"
    )
    mcreate.add_argument("--end", metavar="ISO", help="end; default one hour after the start")
    mcreate.add_argument(
        "--invite", nargs="+", action="extend", default=[], metavar="USERNAME",
        help="invited accounts",
    )
    mcreate.add_argument("--json", action="store_true", help="print JSON")
    mcreate.set_defaults(func=cmd_meetings_create)
    mlist = mtg.add_parser("list", parents=[common], help="list meetings by start time")
    mlist.add_argument("--user", metavar="USERNAME", help="only meetings of this account")
    mlist.add_argument("--json", action="store_true", help="print JSON")
    mlist.set_defaults(func=cmd_meetings_list)
    cli_accounts.add_commands(commands, common)
    cli_schedule.add_commands(commands, common)
    cli_guests.add_commands(commands, common)
    cli_recordings.add_commands(commands, common)
    cli_quality.add_commands(commands, common)
    cli_sfu.add_commands(commands, common)
    cli_tls.add_commands(commands, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Command = args.func
    try:
        config = load_config(args.config)
        return func(args, config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (GiaobanError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
