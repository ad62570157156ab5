"""No double booking across processes: separate processes, each with its own connection
to the same database file, book overlapping times of one room at the same moment.

Each process loads everything it needs first and then waits on a barrier, so all of
them try to book at once; a check made in one transaction and a write made in another
lets several of them win (the guarantee is the database trigger inside one write)."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier
from pathlib import Path
from queue import Empty
from typing import Any
from zoneinfo import ZoneInfo

from rooms.bookings import BookingService, RoomConflict
from signaling.accounts.accounts import AccountService
from signaling.config import Config
from signaling.store import Store

PROCESSES = 8
START = datetime(2030, 1, 7, 2, 0, tzinfo=UTC)


def book_once(path: str, index: int, go: Barrier, results: Any) -> None:
    store = Store.open(Path(path))
    try:
        bookings = BookingService(store, Config().rooms, ZoneInfo("Asia/Ho_Chi_Minh"))
        clerk = AccountService(store, seats=10).get("lan")
        go.wait(60)  # every process is loaded and connected: all book at once
        start = START + timedelta(minutes=index)
        try:
            booking = bookings.book(clerk, "room-1", start, start + timedelta(hours=1),
                                    f"Process {index}")
            results.put(("won", booking.id, index))
        except RoomConflict as exc:
            results.put(("lost", exc.clashes[0].booking.id, index))
    except Exception as exc:  # reported to the test, which fails on it
        results.put(("error", repr(exc), index))
    finally:
        store.close()


def test_processes_racing_for_one_room_one_wins(tmp_path: Path) -> None:
    path = tmp_path / "giaoban.sqlite3"
    store = Store.open(path)
    AccountService(store, seats=10).create("lan", "Lan", "clerk", "password-lan")
    store.close()
    context = multiprocessing.get_context("spawn")
    go = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [context.Process(target=book_once, args=(str(path), i, go, results))
               for i in range(PROCESSES)]
    for worker in workers:
        worker.start()
    try:
        outcomes = []
        for _ in range(PROCESSES):
            try:
                outcomes.append(results.get(timeout=60))
            except Empty:
                break
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
                worker.join()
    assert len(outcomes) == PROCESSES, outcomes
    assert [o for o in outcomes if o[0] == "error"] == []
    won = [o for o in outcomes if o[0] == "won"]
    assert len(won) == 1, outcomes
    assert all(o[1] == won[0][1] for o in outcomes if o[0] == "lost")
    store = Store.open(path)
    try:
        rows = store.fetch_all("SELECT id FROM room_bookings WHERE state = 'active'")
        assert [row["id"] for row in rows] == [won[0][1]]
    finally:
        store.close()
