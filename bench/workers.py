"""`--mode workers`: the same fan-out load on `WorkerPool` with 1 worker, then with 2.

R rooms (routers), each with one publisher (the replayed test picture, see
`bench.replay`) and K subscribers that count what they receive and decode one video
stream per process (`bench.counting`). The SFU is `sfu.pool.WorkerPool`, run in its
own process, which starts the worker processes; new routers go to the least loaded
worker, so with 2 workers each holds R/2 rooms. The SFU's CPU time is the sum over
the worker processes, read from /proc/<pid>/stat.

The load must saturate one worker; on a 2-core machine the load generators compete
with the workers for the same cores, so their CPU time is reported too.
"""

from __future__ import annotations

import math
from typing import Any

from .measure import (
    CALL_TIMEOUT_S,
    LIFETIME_SLACK_S,
    STARTUP_TIMEOUT_S,
    Children,
    Column,
    Options,
    Progress,
    measure_window,
    rate,
    sfu_and_peers_row,
    wait_for_video,
)
from .sfus import SFUS

DEFAULT_WORKERS = (1, 2)
DEFAULT_ROOMS = 4
DEFAULT_ROOM_SUBSCRIBERS = 8


def run_workers(ctx: Any, workers: int, rooms: int, per_room: int, opts: Options,
                say: Progress) -> dict[str, Any]:
    """Start the pool and the peers, measure, stop them all; return one row."""
    n = rooms * per_room
    video_timeout = opts.video_timeout + n / 4
    children = Children(ctx, STARTUP_TIMEOUT_S + video_timeout + opts.warmup + opts.seconds
                        + LIFETIME_SLACK_S, opts.bitrate)
    try:
        say("starting processes…")
        sfu = children.spawn(f"sfu-pool-{workers}", SFUS["pool"], opts.loop, workers=workers)
        publishers = children.spawn("publishers", "bench.counting:Peers")
        loads = [children.spawn(f"subscribers-{j + 1}", "bench.counting:Peers")
                 for j in range(math.ceil(n / opts.per_process))]
        sfu.call("start", STARTUP_TIMEOUT_S, rooms=rooms)
        placement = sfu.call("placement", CALL_TIMEOUT_S)
        say(f"pids: pool {sfu.pid}, workers {' '.join(map(str, placement['pids']))}, "
            f"publishers {publishers.pid}, subscribers {' '.join(str(c.pid) for c in loads)}; "
            f"rooms on workers {placement['rooms']}")
        for room in range(rooms):
            name = f"r{room + 1}"
            offer = publishers.call("publish", STARTUP_TIMEOUT_S, name=name, index=room + 1)
            answer = sfu.call("publish", CALL_TIMEOUT_S, offer=offer, room=room, publisher=name,
                              index=room + 1)
            publishers.call("accept", CALL_TIMEOUT_S, name=name, answer=answer)
        say(f"connecting {n} subscribers ({rooms} rooms × {per_room})…")
        for i in range(n):
            load = loads[i % len(loads)]
            sub = sfu.call("subscribe", CALL_TIMEOUT_S, room=i % rooms)
            answer = load.call("subscribe", STARTUP_TIMEOUT_S, name=f"s{i + 1}",
                               offer=sub["offer"], mids=sub["mids"])
            sfu.call("answer", CALL_TIMEOUT_S, sub=sub["sub"], answer=answer)
        receiving = wait_for_video(loads, n, video_timeout, say)
        start, end, machine = measure_window([sfu, publishers, *loads], opts.seconds,
                                             opts.warmup, say)
        row = make_workers_row(workers, rooms, per_room, start, end)
        row["room_workers"] = placement["rooms"]
        row["receiving"] = receiving
        row.update(machine)
        return row
    finally:
        children.stop_all()


def make_workers_row(workers: int, rooms: int, per_room: int, start: list[Any],
                     end: list[Any]) -> dict[str, Any]:
    """One result row; start/end are the marks of [pool, publishers, *subscribers]."""
    sfu0, sfu1 = start[0], end[0]
    row: dict[str, Any] = {"impl": "giaoban", "workers": workers, "rooms": rooms,
                           "room_subscribers": per_room, "subscribers": rooms * per_room}
    row.update(sfu_and_peers_row(sfu0, sfu1, start[1:], end[1:]))
    seconds = sfu1["t"] - sfu0["t"]
    row["worker_cpu_s_per_s"] = [round(rate(a - b, seconds), 3)
                                 for a, b in zip(sfu1["worker_cpu"], sfu0["worker_cpu"],
                                                 strict=True)]
    row["control_cpu_s_per_s"] = round(rate(sfu1["control_cpu"] - sfu0["control_cpu"],
                                            seconds), 3)
    return row


def scaling(rows: list[dict[str, Any]]) -> dict[str, float]:
    """For each worker count: its forwarded packets/s over the 1-worker run's."""
    ok = {r["workers"]: r for r in rows if not r.get("error")}
    base = ok.get(1)
    if base is None or not base["packets_per_s"]:
        return {}
    return {str(w): round(r["packets_per_s"] / base["packets_per_s"], 2)
            for w, r in sorted(ok.items())}


def _per_worker(row: dict[str, Any]) -> str:
    return "+".join(f"{c:.2f}" for c in row["worker_cpu_s_per_s"])


WORKERS_COLUMNS: list[Column] = [
    ("impl", "impl", "{}"), ("workers", "workers", "{}"), ("rooms", "rooms", "{}"),
    ("subscribers", "N", "{}"), ("packets_per_s", "pkt/s", "{:.0f}"),
    ("cpu_s_per_s", "cpu s/s", "{:.3f}"), ("worker_cpu", "per worker", "{}"),
    ("us_per_packet", "µs/pkt", "{:.1f}"), ("fps_min", "fps_min", "{:.1f}"),
    ("lost_frames", "lost", "{}"), ("verified_frames", "verified", "{}"),
    ("load_cpu_s_per_s", "load s/s", "{:.2f}"), ("loadavg_1m", "loadavg", "{:.1f}")]


def table_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with the per-worker CPU as one text cell, for the table."""
    return [row if row.get("error") else {**row, "worker_cpu": _per_worker(row)} for row in rows]
