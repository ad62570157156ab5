"""`giaoban licence status`, refusals of `accounts create`, import and reset-password,
run as real processes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from signaling.accounts.accounts import AccountService
from signaling.accounts.audit import AuditLog
from signaling.store import Store
from tests.unit.syscalls import READ, SLEEPS, blocked_in
from tests.unit.web.test_cli import assert_refused, clean_env, create_account, giaoban, write_config


def test_licence_status_text_and_json(tmp_path: Path) -> None:
    config = write_config(tmp_path, "[licence]\nseats = 4\n")
    create_account(config, "lan")
    create_account(config, "minh")
    text = giaoban("licence", "status", "--config", str(config))
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == ["Licence seats: 4", "Used: 2", "Free: 2"]
    as_json = giaoban("licence", "status", "--json", "--config", str(config))
    assert json.loads(as_json.stdout) == {"seats": 4, "used": 2, "free": 2}


def wait_for_all(procs: list[subprocess.Popen[str]], wanted: Callable[[tuple[int, int]], bool],
                 what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while True:
        states = [blocked_in(str(proc.pid)) for proc in procs]
        if all(state is not None and wanted(state) for state in states):
            return
        exited = [proc.returncode for proc in procs if proc.poll() is not None]
        assert not exited, f"a process exited while waiting for {what}: {exited}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {states}"
        time.sleep(0.02)


def test_twenty_concurrent_creates_get_exactly_the_seats(tmp_path: Path) -> None:
    """20 `accounts create` processes at once on one database: exactly `seats` succeed,
    the others exit 1 with the seats used and left on stderr.

    All 20 are loaded and connected, then the test holds the database's write lock
    while they hash their passwords, so all of them are waiting to write when it lets
    go: a seat check made before (not inside) the write would let all 20 in."""
    config = write_config(tmp_path, "[licence]\nseats = 5\n")
    assert giaoban("licence", "status", "--config", str(config)).returncode == 0
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "web.cli.main", "accounts", "create", "--config", str(config),
             "--username", f"user{i:02d}", "--display-name", f"Người {i}", "--role", "official",
             "--password-stdin"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=clean_env())
        for i in range(20)
    ]
    try:
        wait_for_all(procs, lambda call: call == (READ, 0), "every process to read its password")
        holder = sqlite3.connect(tmp_path / "data" / "giaoban.sqlite3", isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            for i, proc in enumerate(procs):
                assert proc.stdin is not None
                proc.stdin.write(f"secret-pass-{i:02d}\n")
                proc.stdin.close()
            wait_for_all(procs, lambda call: call[0] in SLEEPS,
                         "every process to wait for the write lock")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        results = [(proc.stdout.read(), proc.stderr.read()) if proc.stdout and proc.stderr
                   else ("", "") for proc in procs]
        for proc in procs:
            proc.wait(timeout=120)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
    codes = [proc.returncode for proc in procs]
    assert sorted(codes) == [0] * 5 + [1] * 15, results
    for proc, (out, err) in zip(procs, results):
        if proc.returncode:
            assert err == ("error: No licence seat is left: 5 of 5 seats are used, 0 left. "
                           "Deactivate an account to free a seat.\n")
            assert out == ""
    status = giaoban("licence", "status", "--json", "--config", str(config))
    assert json.loads(status.stdout) == {"seats": 5, "used": 5, "free": 0}


def test_create_refused_by_the_password_policy(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    same = giaoban("accounts", "create", "--config", str(config), "--username", "nguyenvana",
                   "--display-name", "A", "--role", "clerk", "--password-stdin",
                   stdin="NguyenVanA\n")
    assert_refused(same, 1, "must not be the username")
    easy = giaoban("accounts", "create", "--config", str(config), "--username", "binh",
                   "--display-name", "B", "--role", "clerk", "--password-stdin",
                   stdin="1234567890\n")
    assert_refused(easy, 1, "too easy to guess")


def test_import_dry_run_then_apply_and_reset_password(tmp_path: Path) -> None:
    config = write_config(tmp_path, "[licence]\nseats = 3\n")
    staff = tmp_path / "staff.csv"
    staff.write_text("username,display_name,role\nlan,Nguyễn Lan,leader\nminh,Minh,clerk\n",
                     encoding="utf-8")
    dry = giaoban("accounts", "import", str(staff), "--config", str(config))
    assert dry.returncode == 0, dry.stderr
    assert "line 2: lan created" in dry.stdout and "Dry run" in dry.stdout
    applied = giaoban("accounts", "import", str(staff), "--apply", "--json",
                      "--config", str(config))
    assert applied.returncode == 0, applied.stderr
    created = json.loads(applied.stdout)["created"]
    assert [c["username"] for c in created] == ["lan", "minh"]
    over = tmp_path / "over.csv"
    over.write_text("username,display_name,role\na1,A,clerk\na2,B,clerk\n", encoding="utf-8")
    refused = giaoban("accounts", "import", str(over), "--apply", "--config", str(config))
    assert_refused(refused, 1, "2 of 3 seats are used, 1 left")
    reset = giaoban("accounts", "reset-password", "--username", "lan", "--config", str(config))
    assert reset.returncode == 0, reset.stderr
    password = reset.stdout.split("One-time password of lan: ", 1)[1].split()[0]
    store = Store.open(tmp_path / "data" / "giaoban.sqlite3")
    try:
        account = AccountService(store, 3).authenticate("lan", password)
        assert account.must_change_password
        actors = {(e.actor, e.action) for e in AuditLog(store).entries()}
        assert ("cli", "accounts.import") in actors and ("cli", "account.reset_password") in actors
        assert AccountService(store, 3).find("a1") is None
    finally:
        store.close()
