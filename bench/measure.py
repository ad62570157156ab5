"""What every benchmark mode shares: the window's marks, machine figures, the table."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .control import Child

CALL_TIMEOUT_S = 30.0
STARTUP_TIMEOUT_S = 60.0
LIFETIME_SLACK_S = 120.0

Progress = Callable[[str], None]
Column = tuple[str, str, str]
"""(JSON key, table title, format)."""


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
    load_cpus: list[int] | None = None
    """CPUs the load side (publishers, load generators) is pinned to; None: any."""


class Children:
    """The child processes of one run; `stop_all` ends every one of them."""

    def __init__(self, ctx: Any, lifetime: float, bitrate: int) -> None:
        self.ctx = ctx
        self.lifetime = lifetime
        self.bitrate = bitrate
        self.all: list[Child] = []

    def spawn(self, name: str, factory: str, loop: str = "asyncio", **options: Any) -> Child:
        child = Child(self.ctx, name, factory,
                      {"bitrate": self.bitrate, "loop": loop, **options}, self.lifetime)
        self.all.append(child)
        return child

    def stop_all(self) -> None:
        for child in reversed(self.all):
            child.stop()


def loadavg() -> float | None:
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


def mark_all(children: list[Child]) -> list[Any]:
    """Ask every child for its counters at (nearly) the same moment."""
    for child in children:
        child.send("mark")
    return [child.receive("mark", CALL_TIMEOUT_S) for child in children]


def wait_for_video(loads: list[Child], n: int, timeout: float, say: Progress,
                   what: str = "subscribers") -> int:
    """Wait until `n` video streams have frames; returns how many do at the end."""
    deadline = time.monotonic() + timeout
    while True:
        frames: dict[str, int] = {}
        for load in loads:
            frames.update(load.call("status", CALL_TIMEOUT_S))
        receiving = sum(1 for count in frames.values() if count > 0)
        if receiving >= n:
            return receiving
        if time.monotonic() > deadline:
            say(f"only {receiving}/{n} {what} receive video after {timeout:.0f} s; "
                "measuring anyway")
            return receiving
        time.sleep(0.25)


def measure_window(children: list[Child], seconds: float, warmup: float,
                   say: Progress) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """Warm up, then mark every child at both ends of the window."""
    say(f"warming up {warmup:g} s…")
    time.sleep(warmup)
    say(f"measuring {seconds:g} s…")
    load_before = loadavg()
    drops_before = udp_receive_buffer_errors()
    start = mark_all(children)
    time.sleep(seconds)
    end = mark_all(children)
    drops_after = udp_receive_buffer_errors()
    machine = {"loadavg_1m": load_before,
               "udp_rcvbuf_errors": (None if drops_before is None or drops_after is None
                                     else drops_after - drops_before)}
    return start, end, machine


def rate(value: float, seconds: float) -> float:
    return value / seconds if seconds > 0 else 0.0


def render(rows: list[dict[str, Any]], columns: list[Column], head: int = 2) -> str:
    """A plain-text table; a failed row shows its first `head` columns and its error."""
    cells = [[title for _, title, _ in columns]]
    for row in rows:
        if row.get("error"):
            cells.append([*(str(row.get(key, "")) for key, _, _ in columns[:head]),
                          f"error: {row['error']}"])
            continue
        cells.append(["-" if row.get(key) is None else fmt.format(row[key])
                      for key, _, fmt in columns])
    widths = [max(len(line[i]) for line in cells if len(line) == len(columns))
              for i in range(len(columns))]
    lines = []
    for line in cells:
        if len(line) != len(columns):
            lines.append("  ".join(line))
        else:
            lines.append("  ".join(c.rjust(w) if i else c.ljust(w)
                                   for i, (c, w) in enumerate(zip(line, widths, strict=True))))
    return "\n".join(lines)


def peers_figures(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum what the `bench.counting.Peers` processes counted between two marks."""
    fps: list[float] = []
    publisher_fps: list[float] = []
    lost = verified = failed = packets = packets_lost = published = 0
    cpu = 0.0
    for b, a in zip(before, after, strict=True):
        window = a["t"] - b["t"]
        cpu += a["cpu"] - b["cpu"]
        for key, frames in a["frames"].items():
            fps.append(rate(frames - b["frames"].get(key, 0), window))
            lost += a["gaps"][key] - b["gaps"].get(key, 0)
        for name, frames in a["published_frames"].items():
            publisher_fps.append(rate(frames - b["published_frames"].get(name, 0), window))
        if a["sample"] is not None:
            sample0 = b["sample"] or {}
            verified += a["sample"]["verified"] - sample0.get("verified", 0)
            failed += a["sample"]["verify_failed"] - sample0.get("verify_failed", 0)
        packets += a["packets"] - b["packets"]
        packets_lost += a["packets_lost"] - b["packets_lost"]
        published += a["published_packets"] - b["published_packets"]
    return {"fps": fps, "publisher_fps": publisher_fps, "lost_frames": lost,
            "verified_frames": verified, "verify_failures": failed, "packets": packets,
            "packets_lost": packets_lost, "published_packets": published, "load_cpu": cpu}


def sfu_and_peers_row(sfu0: dict[str, Any], sfu1: dict[str, Any], loads0: list[dict[str, Any]],
                      loads1: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures the multi-stream modes share, from the SFU's and the peers' marks."""
    seconds = sfu1["t"] - sfu0["t"]
    cpu = sfu1["cpu"] - sfu0["cpu"]
    sent = sfu1["sent"] - sfu0["sent"]
    peers = peers_figures(loads0, loads1)
    fps = peers["fps"]
    return {
        "us_per_packet": round(cpu * 1e6 / sent, 1) if sent else None,
        "packets_per_s": round(rate(sent, seconds), 1),
        "cpu_s_per_s": round(rate(cpu, seconds), 3),
        "fps_min": round(min(fps), 1) if fps else 0.0,
        "fps_mean": round(sum(fps) / len(fps), 1) if fps else 0.0,
        "video_streams": len(fps),
        "lost_frames": peers["lost_frames"],
        "verified_frames": peers["verified_frames"],
        "verify_failures": peers["verify_failures"],
        "seconds": round(seconds, 2),
        "publisher_fps": (round(min(peers["publisher_fps"]), 1)
                          if peers["publisher_fps"] else None),
        "received_packets_per_s": round(rate(sfu1["received"] - sfu0["received"], seconds), 1),
        "published_packets_per_s": round(rate(peers["published_packets"], seconds), 1),
        "subscriber_packets_per_s": round(rate(peers["packets"], seconds), 1),
        "subscriber_packets_lost": peers["packets_lost"],
        "waiting_keyframe": sfu1.get("waiting_keyframe"),
        "load_cpu_s_per_s": round(rate(peers["load_cpu"], seconds), 3),
        "load_us_per_packet": (round(peers["load_cpu"] * 1e6 / peers["packets"], 1)
                               if peers["packets"] else None),
    }
