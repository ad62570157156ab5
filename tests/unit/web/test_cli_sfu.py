"""`giaoban sfu status` reads the figures the running server writes."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from sfu.api import WorkerLoad
from sfu.status import STATUS_FILE, write_status
from tests.unit.web.test_cli import write_config
from web.cli.main import main


def load(worker: int, alive: bool = True) -> WorkerLoad:
    return WorkerLoad(worker=worker, pid=1000 + worker, alive=alive, routers=1, streams=4,
                      packets_per_s=420.5, cpu_percent=12.5)


def test_prints_each_worker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path)
    write_status(tmp_path / "data" / "run" / STATUS_FILE, [load(0), load(1)])
    assert main(["sfu", "status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "packets/s" in out and "1001" in out and "420.5" in out
    assert main(["sfu", "status", "--config", str(config), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [w["worker"] for w in data["workers"]] == [0, 1] and data["stale"] is False


def test_a_dead_worker_or_stale_figures_fail(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path)
    path = tmp_path / "data" / "run" / STATUS_FILE
    write_status(path, [load(0), load(1, alive=False)])
    assert main(["sfu", "status", "--config", str(config)]) == 1
    assert " NO " in capsys.readouterr().out
    write_status(path, [load(0)])
    old = time.time() - 3600
    data = json.loads(path.read_text())
    data["updated_at"] = old
    path.write_text(json.dumps(data))
    os.utime(path, (old, old))
    assert main(["sfu", "status", "--config", str(config)]) == 1
    assert "stale" in capsys.readouterr().out


def test_no_server_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path)
    assert main(["sfu", "status", "--config", str(config)]) == 1
    assert "is the server running" in capsys.readouterr().err
