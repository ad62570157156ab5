"""`giaoban licence status` and `giaoban accounts import|reset-password`.

Changes made here are recorded in the audit log with the actor "cli". A running
server notices deactivations and password changes within seconds and takes the
account out of any live meeting.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from signaling.accounts.accounts import AccountService
from signaling.accounts.audit import CLI_ACTOR
from signaling.accounts.csv_import import AccountImport
from signaling.config import Config
from signaling.errors import BadRequest
from signaling.store import Store

EXIT_OK = 0
EXIT_REFUSED = 1


def _open(config: Config) -> tuple[Store, AccountService]:
    config.data_path.mkdir(parents=True, exist_ok=True)
    store = Store.open(config.database_path)
    return store, AccountService(store, config.licence.seats)


def cmd_licence_status(args: argparse.Namespace, config: Config) -> int:
    store, accounts = _open(config)
    try:
        status = accounts.licence()
    finally:
        store.close()
    if args.json:
        print(json.dumps({"seats": status.seats, "used": status.used, "free": status.free}))
    else:
        print(f"Licence seats: {status.seats}")
        print(f"Used: {status.used}")
        print(f"Free: {status.free}")
    return EXIT_OK


def cmd_accounts_import(args: argparse.Namespace, config: Config) -> int:
    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadRequest(f"Cannot read {args.file}: {exc}") from None
    store, accounts = _open(config)
    try:
        importer = AccountImport(store, accounts)
        plan = importer.preview(text)
        rows: list[dict[str, Any]] = [
            {"line": r.line, "username": r.username, "status": r.status, "reason": r.reason}
            for r in plan.rows]
        if not args.apply:
            _print_plan(args.json, rows, plan.seats_left, plan.over_cap)
            return EXIT_OK if plan.can_apply else EXIT_REFUSED
        created = importer.apply(text, CLI_ACTOR)
    finally:
        store.close()
    result = [{"username": a.username, "one_time_password": a.one_time_password}
              for a in created]
    if args.json:
        print(json.dumps({"created": result}, ensure_ascii=False, indent=2))
    else:
        for item in result:
            shown = item["one_time_password"] or "(password from the file)"
            print(f"created {item['username']}  {shown}")
        print(f"{len(result)} accounts created; one-time passwords are shown only now.")
    return EXIT_OK


def _print_plan(as_json: bool, rows: list[dict[str, Any]], free: int, over: bool) -> None:
    if as_json:
        print(json.dumps({"rows": rows, "free": free, "over_cap": over}, ensure_ascii=False,
                         indent=2))
        return
    for row in rows:
        reason = f"  {row['reason']}" if row["reason"] else ""
        print(f"line {row['line']}: {row['username']} {row['status']}{reason}")
    if over:
        print(f"The file creates more accounts than the {free} free licence seats.",
              file=sys.stderr)
    print("Dry run: nothing was changed. Add --apply to import.")


def cmd_accounts_reset_password(args: argparse.Namespace, config: Config) -> int:
    store, accounts = _open(config)
    try:
        password = accounts.reset_password(args.username, CLI_ACTOR)
    finally:
        store.close()
    print(f"One-time password of {args.username.strip().lower()}: {password}")
    print("It must be changed at the next sign-in; every session of the account has ended.")
    return EXIT_OK


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    licence = commands.add_parser("licence", help="licence seats")
    lic = licence.add_subparsers(dest="action", metavar="ACTION", required=True)
    status = lic.add_parser("status", parents=[common], help="seats, used and free")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=cmd_licence_status)


def add_account_actions(actions: Any, common: argparse.ArgumentParser) -> None:
    imp = actions.add_parser("import", parents=[common],
                             help="import accounts from CSV (a dry run unless --apply)")
    imp.add_argument("file", help="CSV with username, display_name, role[, unit][, password]")
    imp.add_argument("--apply", action="store_true", help="create the accounts")
    imp.add_argument("--json", action="store_true", help="print JSON")
    imp.set_defaults(func=cmd_accounts_import)
    reset = actions.add_parser("reset-password", parents=[common],
                               help="issue a one-time password that must be changed")
    reset.add_argument("--username", required=True)
    reset.set_defaults(func=cmd_accounts_reset_password)
