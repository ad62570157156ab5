"""`--mode mesh`: M participants, each publishing to and receiving from all the others.

Every participant publishes 640x480 VP8 at 30 fps plus Opus (the test picture,
encoded once and replayed: see `bench.replay`) and subscribes to the M-1 others, in
one room of Giao Ban's in-process engine. The SFU then receives 2M streams and
forwards 2M(M-1). Participants live in load-generator processes of `--per-process`
participants each; they count what they receive and decode one video stream per
process (`bench.counting`).
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
    sfu_and_peers_row,
    wait_for_video,
)
from .sfus import SFUS

DEFAULT_PARTICIPANTS = (2, 4, 6, 8)


def run_mesh(ctx: Any, m: int, opts: Options, say: Progress) -> dict[str, Any]:
    """Start the processes for M participants, measure, stop them all; return one row."""
    streams = m * (m - 1)
    video_timeout = opts.video_timeout + streams / 4
    children = Children(ctx, STARTUP_TIMEOUT_S + video_timeout + opts.warmup + opts.seconds
                        + LIFETIME_SLACK_S, opts.bitrate)
    try:
        say("starting processes…")
        sfu = children.spawn("sfu-giaoban", SFUS["giaoban"], opts.loop)
        loads = [children.spawn(f"participants-{j + 1}", "bench.counting:Peers",
                                cpus=opts.load_cpus)
                 for j in range(math.ceil(m / opts.per_process))]
        say(f"pids: sfu {sfu.pid}, participants {' '.join(str(c.pid) for c in loads)}")
        sfu.call("start", STARTUP_TIMEOUT_S)
        names = [f"p{i + 1}" for i in range(m)]
        say(f"{m} participants publish…")
        for i, name in enumerate(names):
            load = loads[i % len(loads)]
            offer = load.call("publish", STARTUP_TIMEOUT_S, name=name, index=i + 1)
            answer = sfu.call("publish", CALL_TIMEOUT_S, offer=offer, publisher=name, index=i + 1)
            load.call("accept", CALL_TIMEOUT_S, name=name, answer=answer)
        say(f"{m} participants subscribe to the {m - 1} other{'s' if m > 2 else ''}…")
        for i, name in enumerate(names):
            load = loads[i % len(loads)]
            sub = sfu.call("subscribe", CALL_TIMEOUT_S, skip=name)
            answer = load.call("subscribe", STARTUP_TIMEOUT_S, name=name, offer=sub["offer"],
                               mids=sub["mids"])
            sfu.call("answer", CALL_TIMEOUT_S, sub=sub["sub"], answer=answer)
        receiving = wait_for_video(loads, streams, video_timeout, say, "video streams")
        start, end, machine = measure_window([sfu, *loads], opts.seconds, opts.warmup, say)
        row = make_mesh_row(m, start, end)
        row["receiving"] = receiving
        row.update(machine)
        return row
    finally:
        children.stop_all()


def make_mesh_row(m: int, start: list[Any], end: list[Any]) -> dict[str, Any]:
    """One result row from the counters taken at both ends of the window."""
    row: dict[str, Any] = {"impl": "giaoban", "participants": m,
                           "forwarded_streams": 2 * m * (m - 1)}
    row.update(sfu_and_peers_row(start[0], end[0], start[1:], end[1:]))
    row["cpu_per_stream"] = round(row["cpu_s_per_s"] / (m * (m - 1)), 4)
    return row


MESH_COLUMNS: list[Column] = [
    ("impl", "impl", "{}"), ("participants", "M", "{}"),
    ("us_per_packet", "µs/pkt", "{:.1f}"), ("cpu_s_per_s", "cpu s/s", "{:.3f}"),
    ("packets_per_s", "pkt/s", "{:.0f}"), ("video_streams", "streams", "{}"),
    ("fps_min", "fps_min", "{:.1f}"), ("lost_frames", "lost", "{}"),
    ("verified_frames", "verified", "{}"), ("load_cpu_s_per_s", "load s/s", "{:.2f}"),
    ("loadavg_1m", "loadavg", "{:.1f}")]
