"""`giaoban meetings guest-link`: a link that opens, expiring by default at the meeting's end."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from signaling.live.guest_links import GuestLinks
from signaling.store import Store
from tests.unit.web.test_cli import assert_refused, config, create_account, giaoban

__all__ = ["config"]


def test_guest_link_json_holds_a_working_url(config: Path, tmp_path: Path) -> None:
    create_account(config, "minister")
    created = giaoban("meetings", "create", "--config", str(config), "--title", "Giao ban",
                      "--organizer", "minister", "--start", "2099-03-14T09:00",
                      "--end", "2099-03-14T10:00", "--json")
    meeting = json.loads(created.stdout)["id"]
    result = giaoban("meetings", "guest-link", meeting, "--config", str(config), "--json")
    assert result.returncode == 0, result.stderr
    link = json.loads(result.stdout)
    assert link["url"].startswith("http://127.0.0.1:8765/g/gl_")
    assert datetime.fromisoformat(link["expires_at"]) == datetime.fromisoformat(
        "2099-03-14T10:00:00+07:00")
    token = link["url"].rsplit("/", 1)[1]
    store = Store.open(tmp_path / "data" / "giaoban.sqlite3")
    try:
        assert GuestLinks(store).open(token).meeting_id == meeting
        assert store.fetch_one("SELECT COUNT(*) FROM guest_links WHERE token_hash = ?",
                               (token,))[0] == 0  # only its hash is kept
    finally:
        store.close()

    later = giaoban("meetings", "guest-link", meeting, "--config", str(config),
                    "--expires", "2099-03-14T09:30")
    assert later.returncode == 0 and "14/03/2099 09:30" in later.stdout
    past = giaoban("meetings", "guest-link", meeting, "--config", str(config),
                   "--expires", "2000-01-01T09:00")
    assert_refused(past, 1, "must expire in the future")
    unknown = giaoban("meetings", "guest-link", "no-such", "--config", str(config))
    assert_refused(unknown, 1)
