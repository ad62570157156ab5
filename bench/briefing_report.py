"""`--mode briefing`'s figures: the rows, the comparison without the visibility policy,
the table with the targets, and the mode's options."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from .measure import Column, rate, render

DEFAULT_PARTICIPANTS = 150
DEFAULT_SPEAKERS = 2
DEFAULT_PER_PAGE = 9
DEFAULT_SWITCH_EVERY = 20.0
DEFAULT_BASELINE = 16
DEFAULT_THUMBNAIL_BITRATE = 150_000
PER_PROCESS = 25

TARGETS = {"fps_min_speaker": 29.0, "lost_frames": 0, "speaker_switch_s": 1.5,
           "scaling": 1.7}
"""The speaker's camera at ≥ 29 fps for every subscriber that shows it, no lost frame,
the new speaker's camera at everyone within 1.5 s, 2 workers ≥ 1.7× one."""


@dataclass(frozen=True, slots=True)
class Briefing:
    """What one run simulates."""

    participants: int
    speakers: int
    workers: int
    per_page: int
    visibility: bool
    switch_every: float
    flood: float
    thumbnail_bitrate: int


def make_briefing_row(spec: Briefing, start: list[Any], end: list[Any],
                      delivered: int) -> dict[str, Any]:
    """The capacity window's figures; start/end are the marks of [pool, *publishers]."""
    sfu0, sfu1 = start[0], end[0]
    seconds = sfu1["t"] - sfu0["t"]
    cpu = sfu1["cpu"] - sfu0["cpu"]
    sent = sfu1["sent"] - sfu0["sent"]
    load = sum(b["cpu"] - a["cpu"] for a, b in zip(start[1:], end[1:], strict=True))
    return {
        "impl": "giaoban", "participants": spec.participants, "speakers": spec.speakers,
        "workers": spec.workers, "visibility": spec.visibility, "tiles_per_page": spec.per_page,
        "forwarded_pps": round(rate(sent, seconds), 1),
        "sfu_cpu": round(rate(cpu, seconds), 3),
        "us_per_packet": round(cpu * 1e6 / sent, 1) if sent else None,
        "worker_cpu_s_per_s": [round(rate(b - a, seconds), 3)
                               for a, b in zip(sfu0["worker_cpu"], sfu1["worker_cpu"],
                                               strict=True)],
        "delivered_per_s": round(rate(delivered, seconds), 1),
        "received_packets_per_s": round(rate(sfu1["received"] - sfu0["received"], seconds), 1),
        "publishers_cpu_s_per_s": round(rate(load, seconds), 3),
        "flood": spec.flood, "seconds": round(seconds, 2),
    }


def _turn_figures(turn: dict[str, Any], speakers: list[str]) -> dict[str, Any]:
    """One turn's frame rates (per shown camera), lost frames and switch time."""
    fps_speaker: list[float] = []
    fps_thumbnail: list[float] = []
    lost = verified = failed = unshown = 0
    sfu0, sfu1 = turn["start"][0], turn["end"][0]
    frames0: dict[str, int] = {}
    frames1: dict[str, int] = {}
    gaps0: dict[str, int] = {}
    gaps1: dict[str, int] = {}
    window = sfu1["t"] - sfu0["t"]
    for a, b in zip(turn["start"][1:], turn["end"][1:], strict=True):
        frames0.update(a["frames"])
        frames1.update(b["frames"])
        gaps0.update(a["gaps"])
        gaps1.update(b["gaps"])
        if b["sample"] is not None:
            verified += b["sample"]["verified"] - (a["sample"] or {}).get("verified", 0)
            failed += b["sample"]["verify_failed"] - (a["sample"] or {}).get("verify_failed", 0)
    shown = {key for keys in turn["shown"].values() for key in keys}
    speaker_keys = {f"{name}/{mids[who]}" for name, mids in turn["subscriber_of"].items()
                    for who in speakers if who in mids}
    for key, frames in frames1.items():
        got = frames - frames0.get(key, 0)
        if key not in shown:
            unshown += got
            continue
        (fps_speaker if key in speaker_keys else fps_thumbnail).append(rate(got, window))
        lost += gaps1.get(key, 0) - gaps0.get(key, 0)
    arrivals = turn["arrival"]
    late = [t - turn["switched"] if t is not None else None for t in arrivals.values()]
    return {
        "fps_speaker": fps_speaker, "fps_thumbnail": fps_thumbnail, "lost": lost,
        "verified": verified, "failed": failed, "unshown": unshown,
        "switch_s": (None if not late or None in late else max(x for x in late if x is not None)),
        "switch_missing": sum(1 for x in late if x is None),
        "detect_s": (turn["detected"] - turn["switched"]
                     if turn["detected"] is not None else None),
        "forwarded": sfu1["sent"] - sfu0["sent"], "cpu": sfu1["cpu"] - sfu0["cpu"],
        "window": window, "streams": len(shown) / max(1, len(turn["shown"])),
    }


def check_row(check: dict[str, Any]) -> dict[str, Any]:
    """The real-time phase's figures, over every turn."""
    turns = [_turn_figures({**turn, "subscriber_of": check["subscriber_of"]}, check["speakers"])
             for turn in check["turns"]]
    speaker = [f for t in turns for f in t["fps_speaker"]]
    thumbs = [f for t in turns for f in t["fps_thumbnail"]]
    switches = [t["switch_s"] for t in turns if t["detect_s"] is not None or t["switch_missing"]]
    window = sum(t["window"] for t in turns)
    forwarded = sum(t["forwarded"] for t in turns)
    cpu = sum(t["cpu"] for t in turns)
    participants = max(1, len(check["subscriber_of"]))
    detect = [t["detect_s"] for t in turns if t["detect_s"] is not None]
    return {
        "fps_min_speaker": round(min(speaker), 1) if speaker else None,
        "fps_min_thumbnail": round(min(thumbs), 1) if thumbs else None,
        "lost_frames": sum(t["lost"] for t in turns),
        "speaker_switch_s": (None if not switches or None in switches
                             else round(max(s for s in switches if s is not None), 2)),
        "switch_missing": sum(t["switch_missing"] for t in turns),
        "speaker_detect_s": round(max(detect), 2) if detect else None,
        "shown_per_subscriber": round(sum(t["streams"] for t in turns) / max(1, len(turns)), 1),
        "unshown_frames": sum(t["unshown"] for t in turns),
        "verified_frames": sum(t["verified"] for t in turns),
        "verify_failures": sum(t["failed"] for t in turns),
        "check_forwarded_pps": round(rate(forwarded, window), 1),
        "check_sfu_cpu": round(rate(cpu, window), 3),
        "check_pps_per_participant": round(rate(forwarded, window) / participants, 1),
        "check_cpu_per_participant": round(rate(cpu, window) / participants, 5),
        "check_seconds": round(window, 2),
    }


def compare(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """How much more a participant costs without the visibility policy: the baseline
    row's forwarded packets/s and SFU CPU per participant over the policy's (same
    worker count), and each worker count's forwarding capacity over one worker's."""
    ok = [r for r in rows if not r.get("error")]
    out: dict[str, Any] = {}
    policy = {r["workers"]: r for r in ok if r["visibility"]}
    for row in (r for r in ok if not r["visibility"]):
        base = policy.get(row["workers"])
        if base and base["check_pps_per_participant"] and base["check_cpu_per_participant"]:
            out["without_visibility"] = {
                "participants": row["participants"], "against": base["participants"],
                "pps_per_participant": round(row["check_pps_per_participant"]
                                             / base["check_pps_per_participant"], 2),
                "cpu_per_participant": round(row["check_cpu_per_participant"]
                                             / base["check_cpu_per_participant"], 2)}
    one = policy.get(1)
    if one and one["forwarded_pps"]:
        out["scaling"] = {str(w): round(r["forwarded_pps"] / one["forwarded_pps"], 2)
                          for w, r in sorted(policy.items())}
    return out


def _target(value: Any, ok: bool) -> str:
    return f"{value} {'✓' if ok else '✗'}"


def marked(row: dict[str, Any]) -> dict[str, Any]:
    """The row with each figure that has a target marked met (✓) or missed (✗)."""
    if row.get("error"):
        return row
    fps, switch = row.get("fps_min_speaker"), row.get("speaker_switch_s")
    return {**row, "policy": "visible" if row["visibility"] else "all",
            "worker_cpu": "+".join(f"{c:.2f}" for c in row["worker_cpu_s_per_s"]),
            "fps_mark": _target(fps, fps is not None and fps >= TARGETS["fps_min_speaker"]),
            "lost_mark": _target(row["lost_frames"], row["lost_frames"] == 0),
            "switch_mark": _target(switch, switch is not None
                                   and switch <= TARGETS["speaker_switch_s"])}


COLUMNS: list[Column] = [
    ("participants", "P", "{}"), ("workers", "workers", "{}"), ("policy", "policy", "{}"),
    ("spread", "spread", "{}"), ("shown_per_subscriber", "shown", "{}"),
    ("check_forwarded_pps", "rt pkt/s", "{:.0f}"), ("check_sfu_cpu", "rt cpu", "{:.3f}"),
    ("forwarded_pps", "cap pkt/s", "{:.0f}"), ("sfu_cpu", "cap cpu", "{:.3f}"),
    ("worker_cpu", "per worker", "{}"), ("us_per_packet", "µs/pkt", "{:.1f}"),
    ("fps_mark", "speaker fps ≥29", "{}"), ("fps_min_thumbnail", "thumb fps", "{}"),
    ("lost_mark", "lost =0", "{}"), ("switch_mark", "switch s ≤1.5", "{}"),
    ("verified_frames", "verified", "{}")]


def briefing_table(rows: list[dict[str, Any]], comparison: dict[str, Any]) -> str:
    text = render([marked(r) for r in rows], COLUMNS)
    scaling = comparison.get("scaling", {})
    if len(scaling) > 1:
        text += "\n\nforwarding capacity relative to 1 worker (target ≥1.7× for 2): " + ", ".join(
            f"{w} worker{'s' if w != '1' else ''}: {r:.2f}×" for w, r in scaling.items())
    without = comparison.get("without_visibility")
    if without:
        text += (f"\nwithout the visibility policy (P={without['participants']}) against with "
                 f"it (P={without['against']}), per participant: "
                 f"{without['pps_per_participant']:.2f}× the forwarded packets, "
                 f"{without['cpu_per_participant']:.2f}× the SFU CPU")
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("briefing mode")
    group.add_argument("--speakers", type=int, default=DEFAULT_SPEAKERS,
                       help=f"participants who take turns speaking, with a 640x480 30 fps "
                            f"camera (default {DEFAULT_SPEAKERS})")
    group.add_argument("--tiles-per-page", type=int, default=DEFAULT_PER_PAGE,
                       help=f"tiles on a page (default {DEFAULT_PER_PAGE})")
    group.add_argument("--switch-every", type=float, default=DEFAULT_SWITCH_EVERY,
                       help=f"seconds between speaker changes (default "
                            f"{DEFAULT_SWITCH_EVERY:g})")
    group.add_argument("--baseline-participants", type=int, default=DEFAULT_BASELINE,
                       help=f"participants of the row without the visibility policy "
                            f"(default {DEFAULT_BASELINE}; 0: no such row)")
    group.add_argument("--no-visibility", action="store_true",
                       help="every row without the visibility policy")
    group.add_argument("--thumbnail-bitrate", type=int, default=DEFAULT_THUMBNAIL_BITRATE,
                       help=f"VP8 bit/s of the thumbnail cameras (default "
                            f"{DEFAULT_THUMBNAIL_BITRATE})")


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.participants is None:
        args.participant_counts = [DEFAULT_PARTICIPANTS]
    if args.per_process is None:
        args.per_process = PER_PROCESS
    if args.seconds is None:
        args.seconds = 10.0
    if not 0 <= args.speakers <= min(args.participant_counts):
        parser.error("--speakers must be between 0 and the number of participants")
    if args.tiles_per_page < 1 or args.baseline_participants < 0:
        parser.error("--tiles-per-page must be at least 1, --baseline-participants not "
                     "negative")
    if args.baseline_participants and args.baseline_participants < args.speakers:
        parser.error("--baseline-participants must be at least --speakers")
    if args.switch_every < 4:
        parser.error("--switch-every must be at least 4 seconds")
    if args.flood < 1 or args.warmup + args.seconds > 25:
        parser.error("briefing: --flood must be at least 1, and --warmup + --seconds at "
                     "most 25 (the sunk subscribers' ICE consent lapses)")


def config(args: argparse.Namespace) -> dict[str, Any]:
    """The briefing's part of the report's `config`."""
    return {"load_cpus": None, "speakers": args.speakers, "tiles_per_page": args.tiles_per_page,
            "switch_every": args.switch_every, "flood": args.flood,
            "baseline_participants": args.baseline_participants,
            "visibility": not args.no_visibility, "thumbnail_bitrate": args.thumbnail_bitrate,
            "media": "speakers 640x480 VP8 30 fps + Opus 48 kHz; others 320x240 VP8 15 fps "
                     "+ a muted microphone",
            "publisher": "replayed pre-encoded VP8 (bench/replay.py)"}
