"""`--mode workers`: how many packets/s `WorkerPool` forwards with 1 worker, then with 2.

R rooms (routers), each with one publisher (the replayed test picture, see
`bench.replay`) and K subscribers (`bench.counting`). New routers go to the least
loaded worker, so with 2 workers each holds R/2 rooms. With fewer rooms than workers
(`--rooms 1`) each room is spread instead: `worker_consumer_limit` is set to the
room's consumers over the workers, so each worker serves its share of the
subscribers, the others from the publisher's streams piped to them (`sfu.spread`).
The SFU's CPU time is the sum over the worker processes, read from /proc/<pid>/stat.

A run has two phases:

1. **Check**, in real time (30 fps): every subscriber counts the frames of its
   streams and each load-generator process decodes and verifies one of them, as in
   the other modes. This shows the forwarding is right before it is pushed.
2. **Capacity.** Saturating one worker takes tens of thousands of packets/s, and on
   a 2-core machine subscribers that receive them would need the cores the workers
   are measured on. So the subscribers stop reading their sockets ("sink"): the SFU
   still SRTP-protects and sends every packet to each of them, and the kernel drops
   it at the full socket buffer, counting it in the socket's `drops` in
   /proc/net/udp; the subscribers' processes are then stopped (SIGSTOP) until the
   window ends, since they have nothing left to do. The publishers then replay their
   pictures `--flood` times faster than real time, more than the workers can
   forward. The window counts what the SFU forwarded (its own counters) and what
   reached the subscribers' sockets (the kernel's). ICE consent lapses about 30 s
   after the sink, so the window must end before that.
"""

from __future__ import annotations

import math
import os
import signal
import time
from pathlib import Path
from typing import Any

from .measure import (
    CALL_TIMEOUT_S,
    LIFETIME_SLACK_S,
    STARTUP_TIMEOUT_S,
    Children,
    Column,
    Options,
    Progress,
    mark_all,
    peers_figures,
    rate,
    wait_for_video,
)
from .sfus import SFUS

DEFAULT_WORKERS = (1, 2)
DEFAULT_ROOMS = 2
DEFAULT_ROOM_SUBSCRIBERS = 48
DEFAULT_FLOOD = 15.0
CHECK_SECONDS = 4.0
CONSENT_BUDGET_S = 25.0
"""Sink to end of window must stay under ICE's consent timeout (about 30 s)."""


def socket_drops(ports: set[int]) -> int:
    """Datagrams the kernel dropped at the local UDP `ports` (IPv4), summed."""
    total = 0
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) in ports:
            total += int(fields[-1])
    return total


def run_workers(ctx: Any, workers: int, rooms: int, per_room: int, opts: Options,
                say: Progress, flood: float = DEFAULT_FLOOD) -> dict[str, Any]:
    """Start the pool and the peers, check, saturate, measure, stop them all."""
    n = rooms * per_room
    video_timeout = opts.video_timeout + n / 4
    children = Children(ctx, STARTUP_TIMEOUT_S + n + video_timeout + CHECK_SECONDS
                        + opts.warmup + opts.seconds + LIFETIME_SLACK_S, opts.bitrate)
    try:
        say("starting processes…")
        # Two consumers (camera, microphone) per subscriber, shared out over the workers.
        limit = 2 * math.ceil(per_room / workers) if rooms < workers else 0
        sfu = children.spawn(f"sfu-pool-{workers}", SFUS["pool"], opts.loop, workers=workers,
                             consumer_limit=limit)
        publishers = children.spawn("publishers", "bench.counting:Peers", "uvloop")
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
        spread = sfu.call("placement", CALL_TIMEOUT_S)["consumers"]
        say(f"consumers on each worker: {spread}")
        receiving = wait_for_video(loads, n, video_timeout, say)
        say(f"checking {CHECK_SECONDS:g} s in real time…")
        check0 = mark_all(loads)
        time.sleep(CHECK_SECONDS)
        check = peers_figures(check0, mark_all(loads))
        say(f"sinking the subscribers, publishers at {flood:g}× real time; "
            f"warming up {opts.warmup:g} s…")
        sunk = time.monotonic()
        ports = {port for load in loads for port in load.call("sink", CALL_TIMEOUT_S)}
        # Sunk subscribers have nothing left to do but their timers: freeze them, so
        # that only the workers and the publishers use the CPU.
        frozen = [load.pid for load in loads if load.pid is not None]
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        try:
            publishers.call("speed", CALL_TIMEOUT_S, fps=30 * flood)
            time.sleep(opts.warmup)
            say(f"measuring {opts.seconds:g} s…")
            drops0 = socket_drops(ports)
            start = mark_all([sfu, publishers])
            time.sleep(opts.seconds)
            end = mark_all([sfu, publishers])
            drops1 = socket_drops(ports)
        finally:
            for pid in frozen:
                os.kill(pid, signal.SIGCONT)
        if time.monotonic() - sunk > CONSENT_BUDGET_S:
            say("warning: the window ended late; ICE consent may have lapsed")
        row = make_workers_row(workers, rooms, per_room, start, end, drops1 - drops0)
        row.update(check_figures(check))
        row.update(room_workers=placement["rooms"], worker_consumers=spread,
                   receiving=receiving, flood=flood,
                   sink_sockets=len(ports))
        return row
    finally:
        children.stop_all()


def check_figures(check: dict[str, Any]) -> dict[str, Any]:
    """The real-time phase's figures: frame rate, lost frames, verified samples."""
    fps = check["fps"]
    return {"fps_min": round(min(fps), 1) if fps else 0.0, "video_streams": len(fps),
            "lost_frames": check["lost_frames"], "verified_frames": check["verified_frames"],
            "verify_failures": check["verify_failures"],
            "check_packets_lost": check["packets_lost"]}


def make_workers_row(workers: int, rooms: int, per_room: int, start: list[Any],
                     end: list[Any], delivered: int) -> dict[str, Any]:
    """The capacity window's figures; start/end are the marks of [pool, publishers],
    `delivered` the datagrams that reached the subscribers' sockets meanwhile."""
    (sfu0, pub0), (sfu1, pub1) = start, end
    seconds = sfu1["t"] - sfu0["t"]
    cpu = sfu1["cpu"] - sfu0["cpu"]
    sent = sfu1["sent"] - sfu0["sent"]
    published = pub1["published_packets"] - pub0["published_packets"]
    return {
        "impl": "giaoban", "workers": workers, "rooms": rooms, "room_subscribers": per_room,
        "subscribers": rooms * per_room,
        "offered_per_s": round(rate(published * per_room, pub1["t"] - pub0["t"]), 1),
        "packets_per_s": round(rate(sent, seconds), 1),
        "delivered_per_s": round(rate(delivered, seconds), 1),
        "received_packets_per_s": round(rate(sfu1["received"] - sfu0["received"], seconds), 1),
        "published_packets_per_s": round(rate(published, pub1["t"] - pub0["t"]), 1),
        "cpu_s_per_s": round(rate(cpu, seconds), 3),
        "worker_cpu_s_per_s": [round(rate(a - b, seconds), 3)
                               for a, b in zip(sfu1["worker_cpu"], sfu0["worker_cpu"],
                                               strict=True)],
        "control_cpu_s_per_s": round(rate(sfu1["control_cpu"] - sfu0["control_cpu"],
                                          seconds), 3),
        "us_per_packet": round(cpu * 1e6 / sent, 1) if sent else None,
        "load_cpu_s_per_s": round(rate(pub1["cpu"] - pub0["cpu"], seconds), 3),
        "seconds": round(seconds, 2),
    }


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
    ("subscribers", "N", "{}"), ("offered_per_s", "offered/s", "{:.0f}"),
    ("packets_per_s", "pkt/s", "{:.0f}"), ("delivered_per_s", "delivered/s", "{:.0f}"),
    ("cpu_s_per_s", "cpu s/s", "{:.3f}"), ("worker_cpu", "per worker", "{}"),
    ("us_per_packet", "µs/pkt", "{:.1f}"), ("load_cpu_s_per_s", "load s/s", "{:.2f}"),
    ("fps_min", "check fps", "{:.1f}"), ("lost_frames", "lost", "{}"),
    ("verified_frames", "verified", "{}")]


def table_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with the per-worker CPU as one text cell, for the table."""
    return [row if row.get("error") else {**row, "worker_cpu": _per_worker(row)} for row in rows]
