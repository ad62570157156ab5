"""`--mode briefing`: one large meeting, forwarded by the visibility policy.

P participants each publish a thumbnail camera (320×240, 15 fps) and a muted
microphone; `--speakers` of them (default 2) publish the 640×480 picture at 30 fps
and take turns speaking, the turn passing every `--switch-every` seconds. Every
participant subscribes to every other camera and to the speakers' microphones; the
meeting (`bench.briefing_sfu`) orders the tiles with the product's rule from the
SFU's own `ActiveSpeaker` events and pauses every camera a page does not show, so
each participant receives only the first page of `--tiles-per-page` tiles.

As in the workers mode, a run has two phases:

1. **Check**, in real time: the speaker changes; the time until the new speaker's
   camera reaches every subscriber is measured at the subscribers
   (`speaker_switch_s`); then, over the rest of the turn, every subscriber counts
   the frames of the cameras it shows and one subscriber per load process decodes
   and verifies a speaker's camera.
2. **Capacity**: the subscribers are sunk and frozen, and the shown cameras replay
   `--flood` times faster than real time; the window counts what the workers
   forwarded and the CPU time they spent.

A row without the visibility policy (every subscriber receives every camera) runs
at `--baseline-participants`, and is compared per participant with the policy's.
"""

from __future__ import annotations

import math
import os
import signal
import time
from collections.abc import Callable
from typing import Any

from .briefing_peers import SPEAKER_FPS, THUMBNAIL_FPS
from .briefing_report import Briefing, check_row, make_briefing_row
from .control import Child
from .measure import (
    CALL_TIMEOUT_S,
    LIFETIME_SLACK_S,
    STARTUP_TIMEOUT_S,
    Children,
    Options,
    Progress,
    mark_all,
)
from .workers import CONSENT_BUDGET_S, socket_drops

PEERS = "bench.briefing_peers:BriefingPeers"
PUBLISHERS_PER_PROCESS = 80
SETTLE_S = 2.0
"""After a switch, time for the pages to show the new first page before counting."""
SWITCH_TIMEOUT_S = 10.0


def names(spec: Briefing) -> tuple[list[str], list[str]]:
    """Every participant in the order they join, and the speakers (who join last, so
    that a new speaker is not on the first page before they speak)."""
    everyone = [f"p{i + 1:03d}" for i in range(spec.participants)]
    return everyone, everyone[-spec.speakers:] if spec.speakers else []


def consumer_limit(spec: Briefing) -> int | None:
    """Consumers per worker before a meeting spreads to the next: an even share."""
    if spec.workers < 2:
        return None
    consumers = spec.participants * (spec.participants - 1 + spec.speakers)
    return math.ceil(consumers / spec.workers)


def run_briefing(ctx: Any, spec: Briefing, opts: Options, say: Progress) -> dict[str, Any]:
    """Start the pool and the participants, check, saturate, measure, stop them all."""
    n = spec.participants
    everyone, speakers = names(spec)
    turns = max(1, spec.speakers - 1)
    lifetime = (STARTUP_TIMEOUT_S + 3 * n + turns * (spec.switch_every + SWITCH_TIMEOUT_S)
                + opts.warmup + opts.seconds + LIFETIME_SLACK_S)
    children = Children(ctx, lifetime, opts.bitrate)
    started = time.monotonic()
    try:
        say("starting processes…")
        # The meeting's process only relays (the workers run uvloop themselves); on
        # asyncio's loop, its pipe stays blocking, so a long SDP is read whole.
        sfu = children.spawn(f"sfu-pool-{spec.workers}", "bench.briefing_sfu:BriefingSfu",
                             workers=spec.workers, per_page=spec.per_page,
                             visibility=spec.visibility, consumer_limit=consumer_limit(spec))
        pubs = [children.spawn(f"publishers-{j + 1}", PEERS, "uvloop",
                               thumbnail_bitrate=spec.thumbnail_bitrate)
                for j in range(math.ceil(n / PUBLISHERS_PER_PROCESS))]
        loads = [children.spawn(f"subscribers-{j + 1}", PEERS)
                 for j in range(math.ceil(n / opts.per_process))]
        sfu.call("start", STARTUP_TIMEOUT_S)
        pub_of = {name: pubs[i % len(pubs)] for i, name in enumerate(everyone)}
        index = {name: (2 + speakers.index(name) if name in speakers else 1 + i % 5)
                 for i, name in enumerate(everyone)}
        for pub in pubs:
            mine = [name for name in everyone if pub_of[name] is pub]
            pub.call("prepare", STARTUP_TIMEOUT_S * 3,
                     thumbnails=sorted({index[w] for w in mine if w not in speakers}),
                     speakers=sorted({index[w] for w in mine if w in speakers}))
        say(f"{n} participants join ({len(speakers)} speakers)…")
        for name in everyone:
            pub = pub_of[name]
            offer = pub.call("publish", STARTUP_TIMEOUT_S, name=name, index=index[name],
                             speaker=name in speakers)
            answer = sfu.call("join", CALL_TIMEOUT_S, name=name, offer=offer)
            pub.call("accept", CALL_TIMEOUT_S, name=name, answer=answer)
        if speakers:
            pub_of[speakers[0]].call("talk", CALL_TIMEOUT_S, name=speakers[0], talking=True)
            wait_for_speaker(sfu, speakers[0], 0.0)
        say(f"{n} participants subscribe…")
        subscriber_of: dict[str, tuple[Child, dict[str, str]]] = {}
        sampled: set[int] = set()
        for i, name in enumerate(everyone):
            load = loads[i % len(loads)]
            sub = sfu.call("subscribe", CALL_TIMEOUT_S * 4, name=name, microphones=speakers)
            mids: dict[str, str] = sub["mids"]
            sample = None
            if speakers and id(load) not in sampled and name != speakers[0]:
                sampled.add(id(load))
                sample = next(m for m, who in mids.items()
                              if who == speakers[0] and m in video_mids(sub["offer"]))
            answer = load.call(
                "subscribe", STARTUP_TIMEOUT_S * 2, name=name, offer=sub["offer"],
                mids={m: index[who] for m, who in mids.items()},
                fps={m: SPEAKER_FPS if who in speakers else THUMBNAIL_FPS
                     for m, who in mids.items()}, sample_mid=sample)
            sfu.call("answer", CALL_TIMEOUT_S, sub=sub["sub"], answer=answer)
            subscriber_of[name] = (load, {who: m for m, who in mids.items()
                                          if m in video_mids(sub["offer"])})
        receiving = wait_for_shown(sfu, loads, subscriber_of, 30.0 + n / 2, say)
        setup_s = time.monotonic() - started
        check = check_phase(spec, sfu, pubs, loads, pub_of, subscriber_of, speakers, say)
        placement = sfu.call("placement", CALL_TIMEOUT_S)
        row = capacity_phase(spec, sfu, pubs, loads, pub_of, check["shown_publishers"],
                             opts, say)
        row.update(check_row(check))
        row.update(spread=placement["spread"], can_spread=placement["can_spread"],
                   worker_streams=placement["streams"], receiving=receiving,
                   setup_s=round(setup_s, 1))
        # The names every mode's progress line reads.
        row.update(packets_per_s=row["forwarded_pps"], cpu_s_per_s=row["sfu_cpu"],
                   fps_min=row["fps_min_speaker"], load_cpu_s_per_s=row["publishers_cpu_s_per_s"])
        return row
    finally:
        children.stop_all()


def video_mids(sdp: str) -> set[str]:
    """The mids of the video m-lines of an SDP."""
    mids, video = set(), False
    for line in sdp.splitlines():
        if line.startswith("m="):
            video = line.startswith("m=video")
        elif line.startswith("a=mid:") and video:
            mids.add(line[6:].strip())
    return mids


def wait_for_speaker(sfu: Child, name: str, since: float,
                     timeout: float = SWITCH_TIMEOUT_S) -> float | None:
    """Wait for the SFU's ActiveSpeaker event naming `name` after `since`; its time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for at, who in sfu.call("speakers", CALL_TIMEOUT_S):
            if who == name and at >= since:
                return float(at)
        time.sleep(0.05)
    return None


def shown_keys(sfu: Child, subscriber_of: dict[str, tuple[Child, dict[str, str]]]
               ) -> dict[str, list[str]]:
    """For each subscriber, the stream keys (`name/mid`) of the cameras it receives."""
    shown = sfu.call("shown", CALL_TIMEOUT_S)
    return {name: [f"{name}/{mids[who]}" for who in shown[name] if who in mids]
            for name, (_, mids) in subscriber_of.items()}


def frames_of(loads: list[Child]) -> dict[str, int]:
    frames: dict[str, int] = {}
    for load in loads:
        frames.update(load.call("status", CALL_TIMEOUT_S))
    return frames


def wait_for_shown(sfu: Child, loads: list[Child],
                   subscriber_of: dict[str, tuple[Child, dict[str, str]]], timeout: float,
                   say: Progress) -> int:
    """Wait until every subscriber receives every camera it shows; returns how many
    shown cameras have frames at the end."""
    deadline = time.monotonic() + timeout
    while True:
        if sfu.call("settled", CALL_TIMEOUT_S):
            keys = [k for ks in shown_keys(sfu, subscriber_of).values() for k in ks]
            frames = frames_of(loads)
            receiving = sum(1 for k in keys if frames.get(k, 0) > 0)
            if receiving >= len(keys):
                return receiving
            if time.monotonic() > deadline:
                say(f"only {receiving}/{len(keys)} shown cameras have video after "
                    f"{timeout:.0f} s; measuring anyway")
                return receiving
        time.sleep(0.5)


def check_phase(spec: Briefing, sfu: Child, pubs: list[Child], loads: list[Child],
                pub_of: dict[str, Child],
                subscriber_of: dict[str, tuple[Child, dict[str, str]]], speakers: list[str],
                say: Progress) -> dict[str, Any]:
    """Each speaker change, then its turn in real time; the figures of every turn."""
    turns: list[dict[str, Any]] = []
    for k in range(1, max(2, len(speakers))):
        new = speakers[k] if k < len(speakers) else None
        switched = time.monotonic()
        if new is not None:
            say(f"{speakers[k - 1]} stops, {new} speaks…")
            pub_of[speakers[k - 1]].call("talk", CALL_TIMEOUT_S, name=speakers[k - 1],
                                         talking=False)
            pub_of[new].call("talk", CALL_TIMEOUT_S, name=new, talking=True)
        detected = wait_for_speaker(sfu, new, switched) if new is not None else None
        arrival = switch_arrivals(loads, subscriber_of, new, switched) if new else {}
        time.sleep(max(0.0, switched + SETTLE_S - time.monotonic()))
        shown = shown_keys(sfu, subscriber_of)
        say(f"checking {spec.switch_every - SETTLE_S:g} s in real time…")
        start = mark_all([sfu, *loads])
        time.sleep(max(0.0, switched + spec.switch_every - time.monotonic()))
        end = mark_all([sfu, *loads])
        turns.append({"switched": switched, "detected": detected, "arrival": arrival,
                      "shown": shown, "start": start, "end": end, "new": new})
    subs = sfu.call("shown", CALL_TIMEOUT_S)
    return {"turns": turns, "speakers": speakers,
            "shown_publishers": sorted({who for shown in subs.values() for who in shown}),
            "subscriber_of": {name: mids for name, (_, mids) in subscriber_of.items()}}


def switch_arrivals(loads: list[Child], subscriber_of: dict[str, tuple[Child, dict[str, str]]],
                    new: str, since: float) -> dict[str, float | None]:
    """When the new speaker's camera reached each subscriber (None: not within
    SWITCH_TIMEOUT_S)."""
    keys = {name: f"{name}/{mids[new]}" for name, (_, mids) in subscriber_of.items()
            if new in mids}
    deadline = since + SWITCH_TIMEOUT_S
    while True:
        starts: dict[str, float | None] = {}
        for load in loads:
            starts.update(load.call("starts", CALL_TIMEOUT_S, since=since))
        arrival = {name: starts.get(key) for name, key in keys.items()}
        if all(t is not None for t in arrival.values()) or time.monotonic() > deadline:
            return arrival
        time.sleep(0.1)


def capacity_phase(spec: Briefing, sfu: Child, pubs: list[Child], loads: list[Child],
                   pub_of: dict[str, Child], shown: list[str], opts: Options,
                   say: Progress) -> dict[str, Any]:
    """Sink and freeze the subscribers, flood the shown cameras, measure the workers."""
    say(f"sinking the subscribers, shown cameras at {spec.flood:g}× real time; "
        f"warming up {opts.warmup:g} s…")
    sunk = time.monotonic()
    ports = {port for load in loads for port in load.call("sink", CALL_TIMEOUT_S)}
    frozen = [load.pid for load in loads if load.pid is not None]
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)
    try:
        for pub in pubs:
            pub.call("speed", CALL_TIMEOUT_S, factor=spec.flood,
                     names=[who for who in shown if pub_of[who] is pub])
        time.sleep(opts.warmup)
        say(f"measuring {opts.seconds:g} s…")
        drops0 = socket_drops(ports)
        start = mark_all([sfu, *pubs])
        time.sleep(opts.seconds)
        end = mark_all([sfu, *pubs])
        drops1 = socket_drops(ports)
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
    if time.monotonic() - sunk > CONSENT_BUDGET_S:
        say("warning: the window ended late; ICE consent may have lapsed")
    return make_briefing_row(spec, start, end, drops1 - drops0)


Run = tuple[str, dict[str, Any], Callable[[], dict[str, Any]]]


def plan(ctx: Any, args: Any, opts: Options, say: Callable[[str], Progress]) -> list[Run]:
    """Each participant count with each worker count, then the row without the policy."""
    specs = [Briefing(participants=n, speakers=args.speakers, workers=w,
                      per_page=args.tiles_per_page, visibility=not args.no_visibility,
                      switch_every=args.switch_every, flood=args.flood,
                      thumbnail_bitrate=args.thumbnail_bitrate)
             for n in args.participant_counts for w in args.worker_counts]
    if args.baseline_participants and not args.no_visibility:
        specs.append(Briefing(participants=args.baseline_participants, speakers=args.speakers,
                              workers=args.worker_counts[0], per_page=args.tiles_per_page,
                              visibility=False, switch_every=args.switch_every,
                              flood=args.flood, thumbnail_bitrate=args.thumbnail_bitrate))
    runs: list[Run] = []
    for spec in specs:
        label = (f"P={spec.participants} workers={spec.workers}"
                 f"{'' if spec.visibility else ' without visibility'}")
        ident = {"impl": "giaoban", "participants": spec.participants,
                 "workers": spec.workers, "visibility": spec.visibility}
        runs.append((label, ident,
                     lambda spec=spec, label=label: run_briefing(ctx, spec, opts, say(label))))
    return runs
