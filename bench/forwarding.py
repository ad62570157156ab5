"""Forwarding benchmark: Giao Ban's SFU against aiortc's MediaRelay, in the same run.

One publisher (640x480 VP8 at 30 fps, plus Opus) and N subscribers. The SFU, the
publisher and the subscribers' load generators each run in their own process, on
127.0.0.1 only. For every N, each SFU is measured in turn: once every subscriber
decodes video, a warm-up, then a measurement window in which the SFU process's CPU
time, the RTP packets it sent to subscribers, and the frames each subscriber decoded
are counted. See bench/README.md for the columns.

    .venv/bin/python bench/forwarding.py                      # N = 1, 2, 4, 8, 16
    .venv/bin/python bench/forwarding.py --subscribers 1,4 --seconds 5 --json
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
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `sfu` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.control import BenchError, Child  # noqa: E402
from bench.sfus import SFUS  # noqa: E402

IMPLS = ("giaoban", "mediarelay")
DEFAULT_SUBSCRIBERS = (1, 2, 4, 8, 16)
STARTUP_TIMEOUT_S = 60.0
CALL_TIMEOUT_S = 30.0
LIFETIME_SLACK_S = 120.0
PUBLISHER_INDEX = 1
DEFAULT_BITRATE = 1_500_000

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Options:
    seconds: float
    warmup: float
    per_process: int
    bitrate: int
    """VP8 bitrate of the publisher and of MediaRelay's encoders; 0 = aiortc's REMB."""
    video_timeout: float
    """Base time allowed for every subscriber to decode video (plus 1 s per subscriber)."""
    loop: str = "uvloop"
    """Event loop of the SFU process."""


def _loadavg() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def udp_receive_buffer_errors() -> int | None:
    """Datagrams the kernel dropped for a full socket buffer, machine-wide."""
    try:
        lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines()
                 if line.startswith("Udp:")]
        return int(lines[1][lines[0].index("RcvbufErrors")])
    except (OSError, IndexError, ValueError):
        return None


def _mark_all(children: list[Child]) -> list[Any]:
    """Ask every child for its counters at (nearly) the same moment."""
    for child in children:
        child.send("mark")
    return [child.receive("mark", CALL_TIMEOUT_S) for child in children]


def _wait_for_video(loads: list[Child], n: int, timeout: float, say: Progress) -> int:
    deadline = time.monotonic() + timeout
    while True:
        decoded: dict[str, int] = {}
        for load in loads:
            decoded.update(load.call("status", CALL_TIMEOUT_S))
        receiving = sum(1 for frames in decoded.values() if frames > 0)
        if receiving == n:
            return receiving
        if time.monotonic() > deadline:
            say(f"only {receiving}/{n} subscribers decode video after {timeout:.0f} s; "
                "measuring anyway")
            return receiving
        time.sleep(0.25)


def run_one(ctx: Any, impl: str, n: int, opts: Options, say: Progress) -> dict[str, Any]:
    """Start the processes for one (impl, N), measure, stop them all; return one row."""
    video_timeout = opts.video_timeout + n
    lifetime = STARTUP_TIMEOUT_S + video_timeout + opts.warmup + opts.seconds + LIFETIME_SLACK_S
    children: list[Child] = []

    def spawn(name: str, factory: str, loop: str = "asyncio") -> Child:
        options = {"index": PUBLISHER_INDEX, "bitrate": opts.bitrate, "loop": loop}
        child = Child(ctx, name, factory, options, lifetime)
        children.append(child)
        return child

    try:
        say("starting processes…")
        sfu = spawn(f"sfu-{impl}", SFUS[impl], opts.loop)
        publisher = spawn("publisher", "bench.peers:Publisher")
        loads = [spawn(f"subscribers-{j + 1}", "bench.peers:Subscribers")
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
            answer = load.call("answer", STARTUP_TIMEOUT_S, sub=sub["sub"], offer=sub["offer"])
            sfu.call("answer", CALL_TIMEOUT_S, sub=sub["sub"], answer=answer)
        receiving = _wait_for_video(loads, n, video_timeout, say)
        say(f"warming up {opts.warmup:g} s…")
        time.sleep(opts.warmup)
        say(f"measuring {opts.seconds:g} s…")
        load_before = _loadavg()
        drops_before = udp_receive_buffer_errors()
        start = _mark_all([sfu, publisher, *loads])
        time.sleep(opts.seconds)
        end = _mark_all([sfu, publisher, *loads])
        drops_after = udp_receive_buffer_errors()
        row = make_row(impl, n, start, end)
        row["receiving"] = receiving
        row["loadavg_1m"] = load_before
        row["udp_rcvbuf_errors"] = (None if drops_before is None or drops_after is None
                                    else drops_after - drops_before)
        return row
    finally:
        for child in reversed(children):
            child.stop()


def _rate(value: float, seconds: float) -> float:
    return value / seconds if seconds > 0 else 0.0


def make_row(impl: str, n: int, start: list[Any], end: list[Any]) -> dict[str, Any]:
    """Turn the counters taken at both ends of the window into one result row."""
    sfu0, pub0, loads0 = start[0], start[1], start[2:]
    sfu1, pub1, loads1 = end[0], end[1], end[2:]
    seconds = sfu1["t"] - sfu0["t"]
    cpu = sfu1["cpu"] - sfu0["cpu"]
    sent = sfu1["sent"] - sfu0["sent"]
    published = pub1["frames"] - pub0["frames"]
    pub_seconds = pub1["t"] - pub0["t"]
    load_cpu = pub1["cpu"] - pub0["cpu"]
    fps: list[float] = []
    lost = verified = failed = short_max = sub_packets = sub_lost = delivered = 0
    for before, after in zip(loads0, loads1, strict=True):
        load_cpu += after["cpu"] - before["cpu"]
        window = after["t"] - before["t"]
        for sub, a in after["subs"].items():
            b = before["subs"].get(sub, {})
            decoded = a["decoded"] - b.get("decoded", 0)
            fps.append(_rate(decoded, window))
            delivered += decoded
            lost += a["gaps"] - b.get("gaps", 0)
            verified += a["verified"] - b.get("verified", 0)
            failed += a["verify_failed"] - b.get("verify_failed", 0)
            sub_packets += a["packets"] - b.get("packets", 0)
            sub_lost += a["packets_lost"] - b.get("packets_lost", 0)
            # Frames the publisher made in this subscriber's window, minus those decoded.
            expected = _rate(published, pub_seconds) * window
            short_max = max(short_max, round(expected - decoded))
    cpu_s_per_s = _rate(cpu, seconds)
    return {
        "impl": impl,
        "subscribers": n,
        "us_per_packet": round(cpu * 1e6 / sent, 1) if sent else None,
        "cpu_per_stream": round(cpu_s_per_s / n, 4),
        "fps_min": round(min(fps), 1) if fps else 0.0,
        "lost_frames": lost,
        "packets_per_s": round(_rate(sent, seconds), 1),
        "cpu_s_per_s": round(cpu_s_per_s, 3),
        "verified_frames": verified,
        "verify_failures": failed,
        "seconds": round(seconds, 2),
        "fps_mean": round(sum(fps) / len(fps), 1) if fps else 0.0,
        "us_per_delivered_frame": round(cpu * 1e6 / delivered, 1) if delivered else None,
        "frames_short_max": short_max,
        "publisher_fps": round(_rate(published, pub_seconds), 1),
        "received_packets_per_s": round(_rate(sfu1["received"] - sfu0["received"], seconds), 1),
        "published_packets_per_s": round(_rate(pub1["packets"] - pub0["packets"], pub_seconds),
                                         1),
        "subscriber_packets_per_s": round(_rate(sub_packets, seconds), 1),
        "subscriber_packets_lost": sub_lost,
        "waiting_keyframe": sfu1["waiting_keyframe"],
        "load_cpu_s_per_s": round(_rate(load_cpu, seconds), 3),
    }


def ratios(rows: list[dict[str, Any]]) -> dict[str, float]:
    """For each N: mediarelay cpu_per_stream / giaoban cpu_per_stream."""
    by_key = {(r["impl"], r["subscribers"]): r for r in rows if not r.get("error")}
    out: dict[str, float] = {}
    for (impl, n), row in sorted(by_key.items(), key=lambda item: item[0][1]):
        relay = by_key.get(("mediarelay", n))
        if impl == "giaoban" and relay and row["cpu_per_stream"] > 0:
            out[str(n)] = round(relay["cpu_per_stream"] / row["cpu_per_stream"], 2)
    return out


COLUMNS = [("impl", "impl", "{}"), ("subscribers", "N", "{}"),
           ("us_per_packet", "µs/pkt", "{:.1f}"), ("cpu_per_stream", "cpu/stream", "{:.4f}"),
           ("cpu_s_per_s", "cpu s/s", "{:.3f}"),
           ("packets_per_s", "pkt/s", "{:.0f}"), ("fps_min", "fps_min", "{:.1f}"),
           ("lost_frames", "lost", "{}"), ("frames_short_max", "short", "{}"),
           ("verified_frames", "verified", "{}"), ("load_cpu_s_per_s", "load s/s", "{:.2f}")]


def table(rows: list[dict[str, Any]], ratio: dict[str, float]) -> str:
    cells = [[title for _, title, _ in COLUMNS]]
    for row in rows:
        if row.get("error"):
            cells.append([row["impl"], str(row["subscribers"]), f"error: {row['error']}"])
            continue
        cells.append(["-" if row[key] is None else fmt.format(row[key]) for key, _, fmt in COLUMNS])
    widths = [max(len(line[i]) for line in cells if i < len(line) and len(line) == len(COLUMNS))
              for i in range(len(COLUMNS))]
    lines = []
    for line in cells:
        if len(line) != len(COLUMNS):
            lines.append("  ".join(line))
        else:
            lines.append("  ".join(c.rjust(w) if i else c.ljust(w)
                                   for i, (c, w) in enumerate(zip(line, widths, strict=True))))
    if ratio:
        lines.append("")
        lines.append("mediarelay/giaoban CPU per subscriber: " + ", ".join(
            f"N={n}: {r:.1f}×" for n, r in ratio.items()))
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", default=",".join(map(str, DEFAULT_SUBSCRIBERS)),
                        help="comma-separated subscriber counts (default 1,2,4,8,16)")
    parser.add_argument("--seconds", type=float, default=15.0,
                        help="measurement window per run (default 15)")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="seconds between all subscribers decoding and measuring (default 3)")
    parser.add_argument("--impl", choices=[*IMPLS, "both"], default="both")
    parser.add_argument("--per-process", type=int, default=4,
                        help="subscribers per load-generator process (default 4)")
    parser.add_argument("--video-timeout", type=float, default=20.0,
                        help="seconds (plus 1 per subscriber) for every subscriber to decode "
                             "video before measuring anyway (default 20)")
    parser.add_argument("--bitrate", type=int, default=DEFAULT_BITRATE,
                        help="VP8 bitrate in bit/s of the publisher and of MediaRelay's "
                             "encoders; 0 leaves aiortc's REMB rate control (default 1500000)")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop",
                        help="event loop of the SFU process; the server runs on uvloop "
                             "(default uvloop)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--save", metavar="PATH", help="also write that JSON object to PATH")
    args = parser.parse_args(argv)
    try:
        args.counts = [int(x) for x in args.subscribers.split(",") if x.strip()]
    except ValueError:
        parser.error("--subscribers takes numbers separated by commas, e.g. 1,2,4")
    if not args.counts or min(args.counts) < 1:
        parser.error("--subscribers needs at least one count of 1 or more")
    if args.seconds <= 0 or args.warmup < 0 or args.per_process < 1 or args.bitrate < 0:
        parser.error("--seconds must be positive, --warmup and --bitrate not negative, "
                     "--per-process at least 1")
    return args


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Ctrl-C and SIGTERM both stop the children before exiting (even when started
    # from a shell that ignores SIGINT for background jobs).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    impls = list(IMPLS) if args.impl == "both" else [args.impl]
    opts = Options(seconds=args.seconds, warmup=args.warmup, per_process=args.per_process,
                   bitrate=args.bitrate, video_timeout=args.video_timeout, loop=args.loop)
    ctx = multiprocessing.get_context("spawn")
    rows: list[dict[str, Any]] = []
    interrupted = False
    try:
        for n in args.counts:
            for impl in impls:
                def say(text: str, n: int = n, impl: str = impl) -> None:
                    print(f"N={n} {impl}: {text}", file=sys.stderr, flush=True)

                try:
                    row = run_one(ctx, impl, n, opts, say)
                    say(f"{row['us_per_packet']} µs/packet, {row['cpu_s_per_s']} CPU-s/s, "
                        f"fps_min {row['fps_min']}, lost {row['lost_frames']}")
                except BenchError as exc:
                    say(f"failed: {exc}")
                    row = {"impl": impl, "subscribers": n, "error": str(exc)}
                rows.append(row)
    except KeyboardInterrupt:
        interrupted = True
        print("interrupted; every child process has been stopped", file=sys.stderr)
    ratio = ratios(rows)
    import aiortc

    report = json.dumps({
        "rows": rows,
        "ratios": ratio,
        "config": {"subscribers": args.counts, "impls": impls, "seconds": args.seconds,
                   "warmup": args.warmup, "per_process": args.per_process,
                   "bitrate": args.bitrate, "media": "640x480 VP8 30 fps + Opus 48 kHz",
                   "interrupted": interrupted},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "aiortc": aiortc.__version__, "loop": args.loop},
    }, indent=2)
    if args.save:
        Path(args.save).write_text(report + "\n", encoding="utf-8")
    print(report if args.json else table(rows, ratio))
    if interrupted:
        return 130
    return 1 if any(r.get("error") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
