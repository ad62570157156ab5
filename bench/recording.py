"""Recording benchmark: the SFU's CPU with recording on against off, same meeting, same run.

A meeting of P publishers (each 640x480 VP8 at 30 fps plus Opus) and S subscribers
who each receive every publisher. The SFU, the publishers and the subscribers run in
their own processes on 127.0.0.1. Once every subscriber decodes video, the SFU's CPU
time is measured over alternating windows, recording off and on (the recorder
attached to every producer, writing segments to a temporary directory), so the
machine's drift hits both alike. The result is the ratio of CPU per second.

    .venv/bin/python bench/recording.py                 # 3 publishers, 2 subscribers
    .venv/bin/python bench/recording.py --seconds 5 --rounds 1 --json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `sfu` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.control import BenchError, Child  # noqa: E402
from bench.sfus import GiaobanSfu  # noqa: E402

STARTUP_TIMEOUT_S = 60.0
CALL_TIMEOUT_S = 30.0
TARGET_EXTRA_PERCENT = 10.0


class RecordingSfu(GiaobanSfu):
    """The Giao Ban SFU with every publisher forwarded to each subscriber, and
    recording switched on and off on request."""

    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__(options)
        self.directory = str(options["directory"])
        self.published: list[Any] = []

    async def op_publish(self, offer: str) -> str:
        answer = await super().op_publish(offer)
        self.published.extend(self.producer_ids)
        return answer

    async def op_subscribe(self) -> dict[str, str]:
        self.producer_ids = list(self.published)
        return await super().op_subscribe()

    async def op_record(self, on: bool) -> None:
        if on:
            await self.engine.start_recording(self.router_id, self.directory)
        else:
            await self.engine.stop_recording(self.router_id)


def measure(sfu: Child, seconds: float) -> dict[str, float]:
    start = sfu.call("mark", CALL_TIMEOUT_S)
    time.sleep(seconds)
    end = sfu.call("mark", CALL_TIMEOUT_S)
    elapsed = end["t"] - start["t"]
    return {"seconds": round(elapsed, 2),
            "cpu_s_per_s": (end["cpu"] - start["cpu"]) / elapsed,
            "received_per_s": (end["received"] - start["received"]) / elapsed,
            "sent_per_s": (end["sent"] - start["sent"]) / elapsed}


def summarize(windows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean CPU per second with recording off and on, their ratio, and the extra %."""
    off = [w["cpu_s_per_s"] for w in windows if not w["recording"]]
    on = [w["cpu_s_per_s"] for w in windows if w["recording"]]
    if not off or not on:
        raise ValueError("need at least one window with recording off and one on")
    cpu_off, cpu_on = sum(off) / len(off), sum(on) / len(on)
    ratio = cpu_on / cpu_off if cpu_off > 0 else float("inf")
    extra = 100 * (ratio - 1)
    return {"cpu_off_s_per_s": round(cpu_off, 4), "cpu_on_s_per_s": round(cpu_on, 4),
            "ratio": round(ratio, 3), "extra_percent": round(extra, 1),
            "target_extra_percent": TARGET_EXTRA_PERCENT,
            "within_target": extra <= TARGET_EXTRA_PERCENT}


def recorded(directory: Path) -> dict[str, int]:
    files = [p for p in (directory / "segments").glob("*") if p.is_file()]
    return {"segments": len(files), "bytes": sum(p.stat().st_size for p in files)}


def run(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    lifetime = STARTUP_TIMEOUT_S + (args.seconds + args.warmup) * 2 * args.rounds + 180
    children: list[Child] = []

    def say(text: str) -> None:
        print(f"recording bench: {text}", file=sys.stderr, flush=True)

    def spawn(name: str, factory: str, options: dict[str, Any]) -> Child:
        child = Child(ctx, name, factory, options, lifetime)
        children.append(child)
        return child

    try:
        sfu = spawn("sfu", "bench.recording:RecordingSfu", {"directory": str(directory)})
        publishers = [spawn(f"publisher-{i}", "bench.peers:Publisher",
                            {"index": i, "bitrate": args.bitrate})
                      for i in range(args.publishers)]
        load = spawn("subscribers", "bench.peers:Subscribers", {"bitrate": args.bitrate})
        sfu.call("start", STARTUP_TIMEOUT_S)
        for publisher in publishers:
            offer = publisher.call("offer", STARTUP_TIMEOUT_S)
            publisher.call("accept", CALL_TIMEOUT_S,
                           answer=sfu.call("publish", CALL_TIMEOUT_S, offer=offer))
        for _ in range(args.subscribers):
            sub = sfu.call("subscribe", CALL_TIMEOUT_S)
            answer = load.call("answer", STARTUP_TIMEOUT_S, sub=sub["sub"], offer=sub["offer"])
            sfu.call("answer", CALL_TIMEOUT_S, sub=sub["sub"], answer=answer)
        deadline = time.monotonic() + 30
        while sum(1 for f in load.call("status", CALL_TIMEOUT_S).values() if f > 0) \
                < args.subscribers and time.monotonic() < deadline:
            time.sleep(0.25)
        windows: list[dict[str, Any]] = []
        for round_no in range(args.rounds):
            for on in (False, True):
                sfu.call("record", CALL_TIMEOUT_S, on=on)
                say(f"round {round_no + 1}: recording {'on' if on else 'off'}, warming up…")
                time.sleep(args.warmup)
                window = measure(sfu, args.seconds)
                window["recording"] = on
                say(f"round {round_no + 1}: {window['cpu_s_per_s']:.3f} CPU-s/s")
                windows.append(window)
        sfu.call("record", CALL_TIMEOUT_S, on=False)
        return {"windows": windows, **summarize(windows), "recorded": recorded(directory)}
    finally:
        for child in reversed(children):
            child.stop()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--publishers", type=int, default=3)
    parser.add_argument("--subscribers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0, help="per window (default 10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="after each switch (3)")
    parser.add_argument("--rounds", type=int, default=2, help="off/on pairs (default 2)")
    parser.add_argument("--bitrate", type=int, default=1_000_000, help="VP8 bit/s per publisher")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if min(args.publishers, args.subscribers, args.rounds) < 1 or args.seconds <= 0:
        parser.error("publishers, subscribers and rounds must be at least 1, seconds positive")
    return args


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    directory = Path(tempfile.mkdtemp(prefix="giaoban-recording-bench-"))
    try:
        result = run(args, directory)
    except BenchError as exc:
        print(f"recording bench failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; every child process has been stopped", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    result["config"] = {"publishers": args.publishers, "subscribers": args.subscribers,
                        "seconds": args.seconds, "warmup": args.warmup, "rounds": args.rounds,
                        "bitrate": args.bitrate, "media": "640x480 VP8 30 fps + Opus 48 kHz"}
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for w in result["windows"]:
            print(f"recording {'on ' if w['recording'] else 'off'}  {w['cpu_s_per_s']:.3f} CPU-s/s"
                  f"  {w['received_per_s']:.0f} pkt/s in  {w['sent_per_s']:.0f} pkt/s out")
        print(f"\nrecording on/off: {result['ratio']:.3f}× CPU ({result['extra_percent']:+.1f}%,"
              f" target ≤ +{TARGET_EXTRA_PERCENT:.0f}%); wrote {result['recorded']['segments']}"
              f" segments, {result['recorded']['bytes'] / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
