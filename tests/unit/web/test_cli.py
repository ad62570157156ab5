"""The giaoban command, run as a real subprocess against a temporary data directory."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from signaling.accounts.accounts import AccountService
from signaling.config import Config
from signaling.store import Store
from web.cli.main import main


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "giaoban.toml"
    data_dir = (tmp_path / "data").as_posix()
    path.write_text(
        f'data_dir = "{data_dir}"\n{extra}\n[http]\nhost = "127.0.0.1"\nport = 8765\n',
        encoding="utf-8",
    )
    return path


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIAOBAN_")}
    env.update(extra)
    return env


def giaoban(
    *args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "web.cli.main", *args],
        input=stdin, capture_output=True, text=True, timeout=60,
        env=env if env is not None else clean_env(), cwd=cwd,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path)


def create_account(config: Path, username: str, role: str = "leader") -> None:
    result = giaoban(
        "accounts", "create", "--config", str(config), "--username", username,
        "--display-name", f"Nguyễn {username}", "--role", role, "--password-stdin",
        stdin=f"secret-{username}\n",
    )
    assert result.returncode == 0, result.stderr


def assert_refused(result: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr


def test_help_lists_subcommands() -> None:
    result = giaoban("--help")
    assert result.returncode == 0
    for line in ("serve", "accounts", "meetings"):
        assert line in result.stdout
    assert "run the web server" in result.stdout


def test_create_account_and_list_json(config: Path, tmp_path: Path) -> None:
    result = giaoban(
        "accounts", "create", "--config", str(config), "--username", "Alice",
        "--display-name", "Nguyễn Thị A", "--role", "leader", "--unit", "Văn phòng Bộ",
        "--password-stdin", stdin="a long secret\nignored second line\n", cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Created account alice (role leader)"

    listed = giaoban("accounts", "list", "--config", str(config), "--json")
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert [(a["username"], a["display_name"], a["role"], a["active"], a["unit"])
            for a in data] == [("alice", "Nguyễn Thị A", "leader", True, "Văn phòng Bộ")]

    store = Store.open(tmp_path / "data" / "giaoban.sqlite3")
    try:
        assert AccountService(store, 150).authenticate("alice", "a long secret").role == "leader"
    finally:
        store.close()


def test_list_table_and_deactivate(config: Path) -> None:
    create_account(config, "bob")
    result = giaoban("accounts", "deactivate", "--config", str(config), "--username", "bob")
    assert result.returncode == 0, result.stderr
    table = giaoban("accounts", "list", "--config", str(config))
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["USERNAME", "DISPLAY", "NAME", "ROLE", "ACTIVE"]
    assert lines[1].split() == ["bob", "Nguyễn", "bob", "leader", "no"]
    assert "0 of 150 licence seats used" in table.stdout


def test_bad_unit_is_refused_with_the_reason(config: Path) -> None:
    result = giaoban(
        "accounts", "create", "--config", str(config), "--username", "unit",
        "--display-name", "Unit", "--role", "clerk", "--unit", "Vụ\nTổ chức",
        "--password-stdin", stdin="a long secret\n")
    assert_refused(result, 1, "unit must be one line")


def test_bad_role_is_refused_with_the_reason(config: Path) -> None:
    result = giaoban(
        "accounts", "create", "--config", str(config), "--username", "carol",
        "--display-name", "Carol", "--role", "emperor", "--password-stdin",
        stdin="a long secret\n",
    )
    assert_refused(result, 1, "Unknown role 'emperor'", "leader")


def test_duplicate_and_short_password_are_refused(config: Path) -> None:
    create_account(config, "dan")
    again = giaoban(
        "accounts", "create", "--config", str(config), "--username", "dan",
        "--display-name", "Dan", "--role", "clerk", "--password-stdin", stdin="another secret\n",
    )
    assert_refused(again, 1, "already exists")
    short = giaoban(
        "accounts", "create", "--config", str(config), "--username", "eve",
        "--display-name", "Eve", "--role", "clerk", "--password-stdin", stdin="short\n",
    )
    assert_refused(short, 1, "at least 10 characters")


def test_seat_cap_from_configuration(tmp_path: Path) -> None:
    config = write_config(tmp_path, "[licence]\nseats = 1")
    create_account(config, "first")
    result = giaoban(
        "accounts", "create", "--config", str(config), "--username", "second",
        "--display-name", "Second", "--role", "clerk", "--password-stdin", stdin="a long secret\n",
    )
    assert_refused(result, 1, "1 of 1 seats are used, 0 left")


def test_meetings_create_json_and_list(config: Path) -> None:
    create_account(config, "alice", "clerk")
    create_account(config, "bob")
    result = giaoban(
        "meetings", "create", "--config", str(config), "--title", "Giao ban tuần",
        "--organizer", "alice", "--start", "2025-03-14T09:00", "--invite", "bob", "--json",
    )
    assert result.returncode == 0, result.stderr
    meeting = json.loads(result.stdout)
    assert meeting["join_url"] == f"/m/{meeting['id']}"
    assert len(meeting["id"]) == 10
    assert meeting["title"] == "Giao ban tuần"
    assert meeting["organizer"] == "alice"
    assert meeting["start"] == "2025-03-14T02:00:00+00:00"
    assert meeting["end"] == "2025-03-14T03:00:00+00:00"
    assert meeting["invitees"] == ["bob"]

    listed = giaoban("meetings", "list", "--config", str(config), "--json", "--user", "bob")
    assert listed.returncode == 0, listed.stderr
    assert [m["id"] for m in json.loads(listed.stdout)] == [meeting["id"]]


def test_meetings_create_prints_the_full_join_address(config: Path) -> None:
    create_account(config, "alice", "clerk")
    result = giaoban(
        "meetings", "create", "--config", str(config), "--title", "Họp",
        "--organizer", "alice", env=clean_env(GIAOBAN_HTTP_PORT="9123"),
    )
    assert result.returncode == 0, result.stderr
    meeting_id = result.stdout.split()[2].rstrip(":")
    assert f"http://127.0.0.1:9123/m/{meeting_id}" in result.stdout
    table = giaoban("meetings", "list", "--config", str(config))
    assert meeting_id in table.stdout and "Họp" in table.stdout


def test_meetings_create_refusals(config: Path) -> None:
    create_account(config, "alice", "clerk")
    unknown = giaoban(
        "meetings", "create", "--config", str(config), "--title", "X", "--organizer", "zed"
    )
    assert_refused(unknown, 1, "'zed'")
    garbage = giaoban(
        "meetings", "create", "--config", str(config), "--title", "X",
        "--organizer", "alice", "--start", "next tuesday",
    )
    assert_refused(garbage, 1, "next tuesday", "ISO 8601")


def test_unknown_config_key_names_the_key(tmp_path: Path) -> None:
    config = write_config(tmp_path, "colour = \"blue\"")
    result = giaoban("accounts", "list", "--config", str(config))
    assert_refused(result, 2, "unknown key 'colour'")
    assert not (tmp_path / "data").exists()


def test_corrupt_config_and_bad_environment(tmp_path: Path, config: Path) -> None:
    corrupt = tmp_path / "corrupt.toml"
    corrupt.write_text("[http\n", encoding="utf-8")
    assert_refused(giaoban("meetings", "list", "--config", str(corrupt)), 2, "not valid TOML")
    bad_env = giaoban(
        "accounts", "list", "--config", str(config), env=clean_env(GIAOBAN_HTTP_PORT="x")
    )
    assert_refused(bad_env, 2, "GIAOBAN_HTTP_PORT")


def test_missing_subcommand_is_a_usage_error() -> None:
    result = giaoban("accounts")
    assert result.returncode == 2
    assert "usage:" in result.stderr


# ---------------------------------------------------------------- serve (in process)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Config]:
    """Stand in for the web server so that serve's start-up steps can be checked alone."""
    calls: list[Config] = []
    fake = types.ModuleType("web.app")
    fake.serve = calls.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "web.app", fake)
    for name in list(os.environ):
        if name.startswith("GIAOBAN_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(logging.root, "handlers", [])
    monkeypatch.setattr(logging.root, "level", logging.WARNING)
    return calls


def test_serve_creates_the_first_admin_once(
    served: list[Config], config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "Created account 'admin' with one-time password: " in out
    password = out.split("one-time password: ", 1)[1].split()[0]
    assert len(served) == 1 and served[0].http.port == 8765
    assert logging.root.level == logging.INFO
    assert [h.get_name() for h in logging.root.handlers].count("giaoban") == 1

    assert main(["serve", "--config", str(config)]) == 0
    assert "one-time password" not in capsys.readouterr().out
    assert [h.get_name() for h in logging.root.handlers].count("giaoban") == 1
    store = Store.open(tmp_path / "data" / "giaoban.sqlite3")
    try:
        assert AccountService(store, 150).authenticate("admin", password).role == "admin"
    finally:
        store.close()


def test_serve_uses_the_admin_password_from_the_environment(
    served: list[Config], config: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GIAOBAN_ADMIN_PASSWORD", "from the environment")
    assert main(["serve", "--config", str(config)]) == 0
    assert "password" not in capsys.readouterr().out
    store = Store.open(tmp_path / "data" / "giaoban.sqlite3")
    try:
        assert AccountService(store, 150).authenticate("admin", "from the environment")
    finally:
        store.close()


def test_serve_refuses_a_bad_config_before_starting(
    served: list[Config], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, "[licence]\nseats = 0")
    assert main(["serve", "--config", str(config)]) == 2
    assert "'licence.seats'" in capsys.readouterr().err
    assert served == []
