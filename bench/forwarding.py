"""Forwarding benchmark: Giao Ban's SFU against aiortc's MediaRelay, in the same run.

Four modes: `fanout` (the default, described here), `mesh` (bench/mesh.py: M
participants who all publish and receive each other), `workers` (bench/workers.py:
fan-out rooms on WorkerPool with 1 worker, then 2) and `briefing` (bench/briefing.py).

In `fanout`, one publisher (640x480 VP8 at 30 fps, plus Opus) and N subscribers. The SFU, the
publisher and the subscribers' load generators each run in their own process, on
127.0.0.1 only. For every N, each SFU is measured in turn: once every subscriber
decodes video, a warm-up, then a measurement window in which the SFU process's CPU
time, the RTP packets it sent to subscribers, and the frames each subscriber decoded
are counted. See bench/README.md for the columns.

    .venv/bin/python bench/forwarding.py                      # N = 1, 2, 4, 8, 16
    .venv/bin/python bench/forwarding.py --subscribers 1,4 --seconds 5 --json
    .venv/bin/python bench/forwarding.py --mode mesh --participants 2,4,6,8
    .venv/bin/python bench/forwarding.py --mode workers --rooms 4 --room-subscribers 8
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import platform
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `sfu` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import briefing, briefing_report  # noqa: E402
from bench.control import HOST_ENV, BenchError, bench_host  # noqa: E402
from bench.janus import BENCH_ADDRESS, NETNS_MARK, janus_problem, netns_command  # noqa: E402
from bench.measure import (  # noqa: E402
    CALL_TIMEOUT_S,
    LIFETIME_SLACK_S,
    STARTUP_TIMEOUT_S,
    Children,
    Column,
    Options,
    Progress,
    measure_window,
    peers_figures,
    rate,
    render,
    wait_for_video,
)
from bench.mesh import DEFAULT_PARTICIPANTS, MESH_COLUMNS, run_mesh  # noqa: E402
from bench.pattern import FRAME_MOD  # noqa: E402
from bench.sfus import SFUS  # noqa: E402
from bench.workers import (  # noqa: E402
    CONSENT_BUDGET_S,
    DEFAULT_FLOOD,
    DEFAULT_ROOM_SUBSCRIBERS,
    DEFAULT_ROOMS,
    DEFAULT_WORKERS,
    WORKERS_COLUMNS,
    run_workers,
    scaling,
    table_rows,
)

IMPLS = ("giaoban", "mediarelay", "janus")
IMPL_SETS = {"both": ["giaoban", "mediarelay"], "all": list(IMPLS)}
"""`--impl` names for several SFUs; any other value is one SFU."""
DEFAULT_SUBSCRIBERS = (1, 2, 4, 8, 16)
PUBLISHER_INDEX = 1
MODES = ("fanout", "mesh", "workers", "briefing")
DEFAULT_BITRATE = 1_500_000


def run_one(ctx: Any, impl: str, n: int, opts: Options, say: Progress) -> dict[str, Any]:
    """Start the processes for one (impl, N), measure, stop them all; return one row."""
    video_timeout = opts.video_timeout + n
    children = Children(ctx, STARTUP_TIMEOUT_S + video_timeout + opts.warmup + opts.seconds
                        + LIFETIME_SLACK_S, opts.bitrate)
    try:
        say("starting processes…")
        sfu = children.spawn(f"sfu-{impl}", SFUS[impl], opts.loop, index=PUBLISHER_INDEX)
        publisher = children.spawn("publisher", "bench.peers:Publisher", index=PUBLISHER_INDEX,
                                   cpus=opts.load_cpus)
        loads = [children.spawn(f"subscribers-{j + 1}", "bench.counting:Peers",
                                index=PUBLISHER_INDEX, modulus=FRAME_MOD, cpus=opts.load_cpus)
                 for j in range(math.ceil(n / opts.per_process))]
        say(f"pids: sfu {sfu.pid}, publisher {publisher.pid}, "
            f"subscribers {' '.join(str(load.pid) for load in loads)}")
        sfu.call("start", STARTUP_TIMEOUT_S)
        offer = publisher.call("offer", STARTUP_TIMEOUT_S)
        publisher.call("accept", CALL_TIMEOUT_S,
                       answer=sfu.call("publish", CALL_TIMEOUT_S, offer=offer))
        say(f"connecting {n} subscriber{'s' if n > 1 else ''}…")
        for i in range(n):
            load = loads[i % len(loads)]
            sub = sfu.call("subscribe", CALL_TIMEOUT_S)
            answer = load.call("subscribe", STARTUP_TIMEOUT_S, name=sub["sub"],
                               offer=sub["offer"], mids=sub.get("mids"))
            sfu.call("answer", CALL_TIMEOUT_S, sub=sub["sub"], answer=answer)
        receiving = wait_for_video(loads, n, video_timeout, say)
        start, end, machine = measure_window([sfu, publisher, *loads], opts.seconds,
                                             opts.warmup, say)
        row = make_row(impl, n, start, end)
        row["receiving"] = receiving
        row.update(machine)
        return row
    finally:
        children.stop_all()


def make_row(impl: str, n: int, start: list[Any], end: list[Any]) -> dict[str, Any]:
    """Turn the counters taken at both ends of the window into one result row; the
    marks are those of [SFU, publisher, *load generators]."""
    sfu0, pub0, loads0 = start[0], start[1], start[2:]
    sfu1, pub1, loads1 = end[0], end[1], end[2:]
    seconds = sfu1["t"] - sfu0["t"]
    cpu = sfu1["cpu"] - sfu0["cpu"]
    sent = sfu1["sent"] - sfu0["sent"]
    publisher_fps = rate(pub1["frames"] - pub0["frames"], pub1["t"] - pub0["t"])
    peers = peers_figures(loads0, loads1)
    delivered = short_max = 0
    for before, after in zip(loads0, loads1, strict=True):
        window = after["t"] - before["t"]
        for key, frames in after["frames"].items():
            received = frames - before["frames"].get(key, 0)
            delivered += received
            # Frames the publisher made in this stream's window, minus those received.
            short_max = max(short_max, round(publisher_fps * window - received))
    fps = peers["fps"]
    cpu_s_per_s = rate(cpu, seconds)
    load_cpu = peers["load_cpu"] + pub1["cpu"] - pub0["cpu"]
    return {
        "impl": impl,
        "subscribers": n,
        "us_per_packet": round(cpu * 1e6 / sent, 1) if sent else None,
        "cpu_per_stream": round(cpu_s_per_s / n, 4),
        "fps_min": round(min(fps), 1) if fps else 0.0,
        "lost_frames": peers["lost_frames"],
        "packets_per_s": round(rate(sent, seconds), 1),
        "cpu_s_per_s": round(cpu_s_per_s, 3),
        "verified_frames": peers["verified_frames"],
        "verify_failures": peers["verify_failures"],
        "seconds": round(seconds, 2),
        "fps_mean": round(sum(fps) / len(fps), 1) if fps else 0.0,
        "us_per_delivered_frame": round(cpu * 1e6 / delivered, 1) if delivered else None,
        "frames_short_max": short_max,
        "publisher_fps": round(publisher_fps, 1),
        "received_packets_per_s": round(rate(sfu1["received"] - sfu0["received"], seconds), 1),
        "published_packets_per_s": round(rate(pub1["packets"] - pub0["packets"],
                                              pub1["t"] - pub0["t"]), 1),
        "subscriber_packets_per_s": round(rate(peers["packets"], seconds), 1),
        "subscriber_packets_lost": peers["packets_lost"],
        "waiting_keyframe": sfu1["waiting_keyframe"],
        "load_cpu_s_per_s": round(rate(load_cpu, seconds), 3),
    }


def ratios(rows: list[dict[str, Any]], baseline: str = "mediarelay",
           key: str = "cpu_per_stream") -> dict[str, float]:
    """For each N: the baseline's `key` over giaoban's (how many times cheaper giaoban
    is); MediaRelay per subscriber, Janus per forwarded packet."""
    by_key = {(r["impl"], r["subscribers"]): r for r in rows if not r.get("error")}
    out: dict[str, float] = {}
    for (impl, n), row in sorted(by_key.items(), key=lambda item: item[0][1]):
        other = by_key.get((baseline, n))
        if impl == "giaoban" and other and other.get(key) and row.get(key):
            out[str(n)] = round(other[key] / row[key], 2)
    return out


COLUMNS: list[Column] = [
    ("impl", "impl", "{}"), ("subscribers", "N", "{}"),
    ("us_per_packet", "µs/pkt", "{:.1f}"), ("cpu_per_stream", "cpu/stream", "{:.4f}"),
    ("cpu_s_per_s", "cpu s/s", "{:.3f}"), ("packets_per_s", "pkt/s", "{:.0f}"),
    ("fps_min", "fps_min", "{:.1f}"), ("lost_frames", "lost", "{}"),
    ("frames_short_max", "short", "{}"), ("verified_frames", "verified", "{}"),
    ("load_cpu_s_per_s", "load s/s", "{:.2f}")]


def table(rows: list[dict[str, Any]], ratio: dict[str, float],
          janus: dict[str, float] | None = None) -> str:
    """The fan-out table, and the baselines' ratios to Giao Ban below it."""
    text = render(rows, COLUMNS)
    if ratio:
        text += "\n\nmediarelay/giaoban CPU per subscriber: " + ", ".join(
            f"N={n}: {r:.1f}×" for n, r in ratio.items())
    if janus:
        text += "\njanus/giaoban CPU per forwarded packet: " + ", ".join(
            f"N={n}: {r:.2f}×" for n, r in janus.items())
    return text


def workers_table(rows: list[dict[str, Any]], ratio: dict[str, float]) -> str:
    """The workers table, and each worker count's packets/s over 1 worker's below it."""
    text = render(table_rows(rows), WORKERS_COLUMNS)
    if ratio:
        text += "\n\nforwarded packets/s relative to 1 worker: " + ", ".join(
            f"{w} worker{'s' if w != '1' else ''}: {r:.2f}×" for w, r in ratio.items())
    return text


def _counts(parser: argparse.ArgumentParser, option: str, text: str) -> list[int]:
    """Parse a comma-separated list of counts, each at least 1."""
    try:
        counts = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        parser.error(f"{option} takes numbers separated by commas, e.g. 1,2,4")
    if not counts or min(counts) < 1:
        parser.error(f"{option} needs at least one count of 1 or more")
    return counts


def _load_cpus(parser: argparse.ArgumentParser, text: str) -> list[int] | None:
    """`--load-cpu` as the CPU set of the load side; None leaves it unpinned."""
    cpus = sorted(os.sched_getaffinity(0))
    if text == "none" or (text == "last" and len(cpus) < 2):
        return None
    if text == "last":
        return [cpus[-1]]
    if not text.isdigit() or int(text) not in cpus:
        parser.error(f"--load-cpu takes 'last', 'none' or one of the CPUs {cpus}")
    return [int(text)]


PER_PROCESS = {"fanout": 4, "mesh": 4, "workers": 16}
"""Default subscribers (mesh: participants) per load-generator process, per mode."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=MODES, default="fanout",
                        help="fanout: one publisher, N subscribers, Giao Ban against "
                             "MediaRelay (default); mesh: M participants who all publish "
                             "and receive each other; workers: fan-out rooms on WorkerPool "
                             "with 1 worker, then 2; briefing: one large meeting")
    parser.add_argument("--subscribers", default=",".join(map(str, DEFAULT_SUBSCRIBERS)),
                        help="fanout: comma-separated subscriber counts (default 1,2,4,8,16)")
    parser.add_argument("--participants", default=None,
                        help="mesh: comma-separated participant counts (default 2,4,6,8); "
                             "briefing: (default 150)")
    parser.add_argument("--workers", default=",".join(map(str, DEFAULT_WORKERS)),
                        help="workers: comma-separated worker counts (default 1,2)")
    parser.add_argument("--rooms", type=int, default=DEFAULT_ROOMS,
                        help=f"workers: rooms (routers), one publisher each "
                             f"(default {DEFAULT_ROOMS})")
    parser.add_argument("--room-subscribers", type=int, default=DEFAULT_ROOM_SUBSCRIBERS,
                        help=f"workers: subscribers per room "
                             f"(default {DEFAULT_ROOM_SUBSCRIBERS})")
    parser.add_argument("--flood", type=float, default=DEFAULT_FLOOD,
                        help=f"workers: how many times faster than real time the publishers "
                             f"replay in the capacity window (default {DEFAULT_FLOOD:g})")
    parser.add_argument("--seconds", type=float, default=None,
                        help="measurement window per run (default 15; workers: 10)")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="seconds between all subscribers decoding and measuring (default 3)")
    parser.add_argument("--impl", choices=[*IMPLS, *IMPL_SETS], default="all",
                        help="fanout: which SFU to measure: giaoban, mediarelay, janus, "
                             "both (giaoban and mediarelay) or all (default)")
    parser.add_argument("--per-process", type=int, default=None,
                        help="subscribers (mesh: participants) per load-generator process "
                             "(default 4; workers: 16)")
    parser.add_argument("--video-timeout", type=float, default=20.0,
                        help="seconds (plus some per subscriber) for every subscriber to "
                             "receive video before measuring anyway (default 20)")
    parser.add_argument("--bitrate", type=int, default=DEFAULT_BITRATE,
                        help="VP8 bitrate in bit/s of the publishers and of MediaRelay's "
                             "encoders; 0 leaves aiortc's REMB rate control (default 1500000)")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop",
                        help="event loop of the SFU process; the server runs on uvloop "
                             "(default uvloop; the workers always run uvloop)")
    parser.add_argument("--load-cpu", default="last",
                        help="fanout and mesh: the CPU the publisher and load generators are "
                             "pinned to, so that they do not interrupt the SFU on its own "
                             "CPU; 'last' (default, when there are 2 or more), a CPU number, "
                             "or 'none'")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--save", metavar="PATH", help="also write that JSON object to PATH")
    briefing_report.add_arguments(parser)
    args = parser.parse_args(argv)
    args.counts = _counts(parser, "--subscribers", args.subscribers)
    args.participant_counts = _counts(parser, "--participants", args.participants
                                      or ",".join(map(str, DEFAULT_PARTICIPANTS)))
    args.worker_counts = _counts(parser, "--workers", args.workers)
    if args.mode == "mesh" and min(args.participant_counts) < 2:
        parser.error("--participants: a mesh needs at least 2 participants")
    if args.rooms < 1 or args.room_subscribers < 1:
        parser.error("--rooms and --room-subscribers must be at least 1")
    if args.mode == "briefing":
        briefing_report.check_arguments(parser, args)
    if args.per_process is None:
        args.per_process = PER_PROCESS[args.mode]
    if args.seconds is None:
        args.seconds = 10.0 if args.mode == "workers" else 15.0
    if args.mode == "workers" and (args.flood < 1
                                   or args.warmup + args.seconds > CONSENT_BUDGET_S - 5):
        parser.error(f"workers: --flood must be at least 1, and --warmup + --seconds at most "
                     f"{CONSENT_BUDGET_S - 5:g} (the sunk subscribers' ICE consent lapses)")
    args.load_cpus = _load_cpus(parser, args.load_cpu)
    if args.seconds <= 0 or args.warmup < 0 or args.per_process < 1 or args.bitrate < 0:
        parser.error("--seconds must be positive, --warmup and --bitrate not negative, "
                     "--per-process at least 1")
    return args


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


Run = tuple[str, dict[str, Any], Callable[[], dict[str, Any]]]
"""(progress label, the row's identifying fields, the function that measures it)."""


def plan(ctx: Any, args: argparse.Namespace, opts: Options) -> list[Run]:
    """Every run of this invocation, in order."""
    if args.mode == "mesh":
        return [(f"M={m} giaoban", {"impl": "giaoban", "participants": m},
                 lambda m=m, label=f"M={m} giaoban": run_mesh(ctx, m, opts, _say(label)))
                for m in args.participant_counts]
    if args.mode == "briefing":
        return briefing.plan(ctx, args, opts, _say)
    if args.mode == "workers":
        return [(f"workers={w}", {"impl": "giaoban", "workers": w},
                 lambda w=w: run_workers(ctx, w, args.rooms, args.room_subscribers, opts,
                                         _say(f"workers={w}"), args.flood))
                for w in args.worker_counts]
    impls = IMPL_SETS.get(args.impl, [args.impl])
    return [(f"N={n} {impl}", {"impl": impl, "subscribers": n},
             lambda n=n, impl=impl: run_one(ctx, impl, n, opts, _say(f"N={n} {impl}")))
            for n in args.counts for impl in impls]


def _say(label: str) -> Progress:
    def say(text: str) -> None:
        print(f"{label}: {text}", file=sys.stderr, flush=True)

    return say


def config(args: argparse.Namespace, interrupted: bool) -> dict[str, Any]:
    """The `config` object of the JSON report: what this invocation measured."""
    common = {"mode": args.mode, "seconds": args.seconds, "warmup": args.warmup,
              "per_process": args.per_process, "bitrate": args.bitrate,
              "load_cpus": args.load_cpus if args.mode != "workers" else None,
              "media": "640x480 VP8 30 fps + Opus 48 kHz", "interrupted": interrupted}
    if args.mode == "mesh":
        return {**common, "participants": args.participant_counts, "impls": ["giaoban"],
                "publisher": "replayed pre-encoded VP8 (bench/replay.py)"}
    if args.mode == "briefing":
        return {**common, **briefing_report.config(args), "workers": args.worker_counts,
                "participants": args.participant_counts}
    if args.mode == "workers":
        return {**common, "workers": args.worker_counts, "rooms": args.rooms,
                "room_subscribers": args.room_subscribers, "impls": ["giaoban"],
                "flood": args.flood,
                "publisher": "replayed pre-encoded VP8 (bench/replay.py)"}
    return {**common, "subscribers": args.counts, "impls": IMPL_SETS.get(args.impl, [args.impl]),
            "address": bench_host()}


def enter_janus_namespace(args: argparse.Namespace, argv: list[str] | None) -> str | None:
    """A fan-out run with Janus goes on in a network namespace of its own (see
    bench/janus.py): exec this program again inside one. Returns why it cannot."""
    if (args.mode != "fanout" or "janus" not in IMPL_SETS.get(args.impl, [args.impl])
            or os.environ.get(NETNS_MARK) == "1"):
        return None
    problem = janus_problem()
    if problem:
        return f"{problem}; or leave Janus out with --impl both"
    os.environ[NETNS_MARK] = "1"
    os.environ[HOST_ENV] = BENCH_ADDRESS
    sys.stdout.flush()
    command = netns_command([sys.executable, str(Path(__file__).resolve()),
                             *(sys.argv[1:] if argv is None else argv)])
    os.execvp(command[0], command)
    return None  # not reached


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    problem = enter_janus_namespace(args, argv)
    if problem:
        print(f"forwarding.py: {problem}", file=sys.stderr)
        return 2
    # Ctrl-C and SIGTERM both stop the children before exiting (even when started
    # from a shell that ignores SIGINT for background jobs).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    opts = Options(seconds=args.seconds, warmup=args.warmup, per_process=args.per_process,
                   bitrate=args.bitrate, video_timeout=args.video_timeout, loop=args.loop,
                   load_cpus=args.load_cpus)
    ctx = multiprocessing.get_context("spawn")
    rows: list[dict[str, Any]] = []
    interrupted = False
    try:
        for label, ident, measure in plan(ctx, args, opts):
            say = _say(label)
            try:
                row = measure()
                say(f"{row['packets_per_s']} packets/s, {row['us_per_packet']} µs/packet, "
                    f"{row['cpu_s_per_s']} CPU-s/s, fps_min {row['fps_min']}, "
                    f"lost {row['lost_frames']}, load {row['load_cpu_s_per_s']} CPU-s/s")
            except BenchError as exc:
                say(f"failed: {exc}")
                row = {**ident, "error": str(exc)}
            rows.append(row)
    except KeyboardInterrupt:
        interrupted = True
        print("interrupted; every child process has been stopped", file=sys.stderr)
    import aiortc

    report: dict[str, Any] = {"rows": rows}
    if args.mode == "fanout":
        report["ratios"] = ratio = ratios(rows)
        report["janus_ratios"] = janus = ratios(rows, "janus", "us_per_packet")
        text = table(rows, ratio, janus)
    elif args.mode == "workers":
        report["scaling"] = ratio = scaling(rows)
        text = workers_table(rows, ratio)
    elif args.mode == "briefing":
        report["comparison"] = comparison = briefing_report.compare(rows)
        text = briefing_report.briefing_table(rows, comparison)
    else:
        text = render(rows, MESH_COLUMNS)
    report["config"] = config(args, interrupted)
    report["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                         "aiortc": aiortc.__version__, "loop": args.loop}
    dumped = json.dumps(report, indent=2)
    if args.save:
        Path(args.save).write_text(dumped + "\n", encoding="utf-8")
    print(dumped if args.json else text)
    if interrupted:
        return 130
    return 1 if any(r.get("error") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
