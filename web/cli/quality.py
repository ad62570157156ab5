"""`giaoban quality ...`: export a meeting's quality history as CSV, apply the retention."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rooms.calendar import meeting_rooms
from signaling.config import Config
from signaling.quality.history import QualityHistory
from signaling.quality.meeting_report import to_csv
from signaling.schedule.meetings import MeetingService
from signaling.store import Store


def _history(config: Config) -> tuple[Store, QualityHistory]:
    config.data_path.mkdir(parents=True, exist_ok=True)
    store = Store.open(config.database_path)
    q = config.quality
    return store, QualityHistory(store, q.history_bucket_seconds, q.retention_days)


def cmd_quality_export(args: argparse.Namespace, config: Config) -> int:
    store, history = _history(config)
    try:
        rooms = meeting_rooms(store, config.rooms, config.tz)
        meeting = MeetingService(store, config.tz, rooms).get(args.meeting)
        sys.stdout.write(to_csv(history.samples(meeting.id), config.tz))
    finally:
        store.close()
    return 0


def cmd_quality_prune(args: argparse.Namespace, config: Config) -> int:
    store, history = _history(config)
    try:
        merged = history.merge_ended(())
        deleted = history.prune()
    finally:
        store.close()
    print(f"merged {merged} samples of ended meetings; deleted {deleted} rows older than "
          f"{config.quality.retention_days} days")
    return 0


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    quality = commands.add_parser("quality", help="media quality history")
    sub = quality.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = sub.add_parser("export", parents=[common],
                            help="print a meeting's quality samples as CSV")
    export.add_argument("--meeting", required=True, metavar="ID")
    export.set_defaults(func=cmd_quality_export)
    prune = sub.add_parser("prune", parents=[common],
                           help="merge ended meetings' samples and delete those past retention "
                                "(run it while the server is stopped, or any time: both are safe)")
    prune.set_defaults(func=cmd_quality_prune)
