"""`giaoban recordings ...`: list a meeting's recording files, follow and retry the
composition jobs, and set a meeting's recording policy."""

from __future__ import annotations

import argparse
import json
from typing import Any

from signaling.config import Config
from signaling.records.policy import RECORDING_POLICIES
from signaling.records.recordings import ComposeJob, Recording, RecordingService
from signaling.store import Store

EXIT_OK = 0


def _service(config: Config) -> tuple[Store, RecordingService]:
    config.data_path.mkdir(parents=True, exist_ok=True)
    store = Store.open(config.database_path)
    return store, RecordingService(store, config.recording_path)


def recording_json(recording: Recording) -> dict[str, Any]:
    return {
        "id": recording.id,
        "meeting_id": recording.meeting_id,
        "kind": recording.kind,
        "track": recording.track,
        "media": recording.media,
        "username": recording.username,
        "source": recording.source,
        "path": str(recording.path.absolute()),
        "status": recording.status,
        "bytes": recording.bytes,
        "started_at": recording.started_at.isoformat(),
        "ended_at": recording.ended_at.isoformat() if recording.ended_at else None,
    }


def job_json(job: ComposeJob) -> dict[str, Any]:
    return {
        "id": job.id, "meeting_id": job.meeting_id, "status": job.status,
        "percent": job.percent, "remaining_s": job.remaining_s, "error": job.error,
        "attempts": job.attempts, "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def _remaining(job: ComposeJob) -> str:
    if job.status != "running" or job.remaining_s is None:
        return "-"
    seconds = int(job.remaining_s)
    return f"{seconds // 60}m{seconds % 60:02d}s"


def cmd_list(args: argparse.Namespace, config: Config) -> int:
    store, service = _service(config)
    try:
        service.policy(args.meeting)  # NotFound for an unknown meeting
        recordings = service.list(args.meeting)
    finally:
        store.close()
    if args.json:
        print(json.dumps([recording_json(r) for r in recordings], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not recordings:
        print(f"Meeting {args.meeting} has no recordings.")
    for r in recordings:
        print(f"{r.kind:9}  {r.status:10}  {r.bytes:>11}  {r.path.absolute()}")
    return EXIT_OK


def cmd_status(args: argparse.Namespace, config: Config) -> int:
    store, service = _service(config)
    try:
        jobs = service.jobs(args.meeting)
    finally:
        store.close()
    if args.json:
        print(json.dumps([job_json(j) for j in jobs], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not jobs:
        print("No composition jobs.")
    for job in jobs:
        line = (f"job {job.id}  meeting {job.meeting_id}  {job.status:8}  {job.percent:5.1f}%"
                f"  remaining {_remaining(job)}  attempts {job.attempts}")
        if job.error:
            line += f"\n    error: {job.error.splitlines()[-1] if job.error else ''}"
        print(line)
    return EXIT_OK


def cmd_retry(args: argparse.Namespace, config: Config) -> int:
    store, service = _service(config)
    try:
        job = service.retry(args.job)
    finally:
        store.close()
    print(f"Composition job {job.id} of meeting {job.meeting_id} is queued again.")
    return EXIT_OK


def cmd_policy(args: argparse.Namespace, config: Config) -> int:
    store, service = _service(config)
    try:
        if args.set is not None:
            service.set_policy(args.meeting, args.set)
        policy = service.policy(args.meeting)
    finally:
        store.close()
    print(f"Meeting {args.meeting}: recording {policy}")
    return EXIT_OK


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    recordings = commands.add_parser("recordings", help="recorded meetings and their videos")
    rec = recordings.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = rec.add_parser("list", parents=[common], help="list a meeting's recording files")
    listing.add_argument("--meeting", required=True, metavar="ID")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_list)
    status = rec.add_parser("status", parents=[common],
                            help="composition jobs with their progress and time remaining")
    status.add_argument("--meeting", metavar="ID", help="only this meeting's jobs")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=cmd_status)
    retry = rec.add_parser("retry", parents=[common], help="queue a failed composition again")
    retry.add_argument("job", type=int, metavar="JOB")
    retry.set_defaults(func=cmd_retry)
    policy = rec.add_parser("policy", parents=[common], help="show or set a meeting's policy")
    policy.add_argument("--meeting", required=True, metavar="ID")
    policy.add_argument("--set", choices=RECORDING_POLICIES, help="the new policy")
    policy.set_defaults(func=cmd_policy)
