"""The SFU workers' latest figures, kept in a small file for `giaoban sfu status`.

The server writes the file whenever a worker reports its load; the command reads it
from another process. A file older than a few report intervals means the figures
are stale (the server is stopped or stuck), and the command says so.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .api import WorkerLoad

STATUS_FILE = "sfu-status.json"


class WorkerStatus:
    """Collects each worker's latest `WorkerLoad` and writes them to `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.workers: dict[int, WorkerLoad] = {}

    def update(self, load: WorkerLoad) -> None:
        self.workers[load.worker] = load
        write_status(self.path, [self.workers[i] for i in sorted(self.workers)])


def write_status(path: Path, workers: list[WorkerLoad]) -> None:
    """Write the figures atomically (write a temporary file, then rename it)."""
    data = {"updated_at": time.time(), "server_pid": os.getpid(),
            "workers": [asdict(w) for w in workers]}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def read_status(path: Path) -> dict[str, Any]:
    """The last written figures; raises FileNotFoundError or ValueError."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("workers"), list):
        raise ValueError(f"{path} does not hold SFU worker figures")
    return data
