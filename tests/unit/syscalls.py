"""What a process or thread is blocked in, read from /proc (Linux, x86-64), so a race
test can release its contenders only once all of them wait at the same point."""

from __future__ import annotations

from pathlib import Path

READ, NANOSLEEP, CLOCK_NANOSLEEP = 0, 35, 230
"""System call numbers: waiting for input, or sleeping (SQLite's busy wait sleeps)."""
SLEEPS = (NANOSLEEP, CLOCK_NANOSLEEP)


def blocked_in(task: str) -> tuple[int, int] | None:
    """(system call, first argument) that `task` ("<pid>" or "<pid>/task/<tid>") is
    blocked in; None while it runs or once it is gone."""
    try:
        fields = Path(f"/proc/{task}/syscall").read_text().split()
    except OSError:
        return None
    if not fields or not fields[0].isdigit():
        return None
    return int(fields[0]), int(fields[1], 16)
