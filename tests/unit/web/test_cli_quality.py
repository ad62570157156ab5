"""`giaoban quality export` and `giaoban quality prune` against a real data directory."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from rooms.calendar import meeting_rooms
from signaling.accounts.accounts import AccountService
from signaling.config import load_config
from signaling.quality.history import QualityHistory, SampleRow
from signaling.schedule.meetings import MeetingService
from signaling.store import Store, utcnow
from tests.unit.web.test_cli import write_config
from web.cli.main import main


def test_export_and_prune(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, "[quality]\nretention_days = 1\n")
    config = load_config(path, env={})
    config.data_path.mkdir(parents=True)
    store = Store.open(config.database_path)
    AccountService(store, 150).create("an", "An", "leader", "password-123")
    rooms = meeting_rooms(store, config.rooms, config.tz)
    meeting = MeetingService(store, config.tz, rooms).create("Giao ban", "an")
    history = QualityHistory(store, 30, 1)
    now = utcnow()
    history.record([SampleRow(meeting.id, "pa-1", "an", "up:camera", "video", at, 3.0, "good",
                              bitrate_kbps=300.0)
                    for at in (now - timedelta(days=2), now)])
    store.close()

    assert main(["quality", "export", "--meeting", meeting.id, "--config", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("time,participant,") and len(lines) == 3
    assert main(["quality", "prune", "--config", str(path)]) == 0
    assert "deleted 1 rows older than 1 days" in capsys.readouterr().out
    assert main(["quality", "export", "--meeting", meeting.id, "--config", str(path)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert main(["quality", "export", "--meeting", "nope", "--config", str(path)]) == 1
    assert "No meeting with id 'nope'" in capsys.readouterr().err
