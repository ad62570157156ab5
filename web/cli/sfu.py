"""`giaoban sfu status`: the SFU workers' load, as the running server last reported it.

The server writes each worker's figures (streams, packets/s, CPU) to
`<data_dir>/run/sfu-status.json` every stats interval; this command reads that file,
so it works from any shell on the machine without signing in.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from sfu.status import STATUS_FILE, read_status
from signaling.config import Config

STALE_INTERVALS = 3
"""Figures older than this many stats intervals mean the server is stopped or stuck."""


def cmd_sfu_status(args: argparse.Namespace, config: Config) -> int:
    path = config.data_path / "run" / STATUS_FILE
    try:
        status = read_status(path)
    except FileNotFoundError:
        print(f"error: no SFU figures in {path}: is the server running with this "
              "configuration?", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    age = time.time() - float(status.get("updated_at", 0))
    stale = age > STALE_INTERVALS * config.sfu.stats_interval_ms / 1000
    workers: list[dict[str, Any]] = status["workers"]
    if args.json:
        print(json.dumps({"age_s": round(age, 1), "stale": stale, "workers": workers},
                         indent=2))
    else:
        print(f"{'worker':>6}  {'pid':>7}  {'alive':5}  {'routers':>7}  {'streams':>7}  "
              f"{'packets/s':>9}  {'CPU %':>6}")
        for w in workers:
            print(f"{w['worker']:>6}  {w['pid']:>7}  {'yes' if w['alive'] else 'NO':5}  "
                  f"{w['routers']:>7}  {w['streams']:>7}  {w['packets_per_s']:>9.1f}  "
                  f"{w['cpu_percent']:>6.1f}")
        print(f"updated {age:.0f} s ago" + (" (stale: is the server running?)" if stale else ""))
    if stale:
        return 1
    return 0 if all(w["alive"] for w in workers) else 1


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    sfu = commands.add_parser("sfu", help="the media plane (SFU workers)")
    actions = sfu.add_subparsers(dest="action", metavar="ACTION", required=True)
    status = actions.add_parser("status", parents=[common],
                                help="each worker's streams, packets/s and CPU")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=cmd_sfu_status)
