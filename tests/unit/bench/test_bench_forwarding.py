"""The forwarding benchmark runs end to end for one subscriber and reports its schema.

Besides the smoke run (real processes, real aiortc peers on 127.0.0.1, about 30 s),
the pure parts are checked without a network: the test picture's frame numbers and
colour survive a VP8 round trip, and the result rows and ratios are computed right.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.forwarding import make_row, ratios
from bench.pattern import FRAME_MOD, PatternSource, frame_gap, read_number, verify

REPO = Path(__file__).resolve().parents[3]

ROW_KEYS = {
    "impl": str, "subscribers": int, "us_per_packet": float, "cpu_per_stream": float,
    "fps_min": float, "lost_frames": int, "packets_per_s": float, "cpu_s_per_s": float,
    "verified_frames": int, "seconds": float,
}


def test_pattern_survives_a_vp8_round_trip() -> None:
    from aiortc.codecs.vpx import Vp8Decoder, Vp8Encoder, VpxPayloadDescriptor
    from aiortc.jitterbuffer import JitterFrame

    source = PatternSource(index=1)
    encoder, decoder = Vp8Encoder(), Vp8Decoder()
    numbers = []
    for number in (0, 1, 2, 40000, 65535):
        payloads, timestamp = encoder.encode(source.frame(number))
        data = b"".join(VpxPayloadDescriptor.parse(p)[1] for p in payloads)
        for frame in decoder.decode(JitterFrame(data=data, timestamp=timestamp)):
            numbers.append(read_number(frame))
            assert verify(frame, 1, number)
            assert not verify(frame, 2, number), "another publisher's colour must not pass"
    assert numbers == [0, 1, 2, 40000, 65535]


def test_frame_gaps_count_skipped_numbers_across_the_wrap() -> None:
    assert frame_gap(10, 11) == 0
    assert frame_gap(10, 14) == 3
    assert frame_gap(FRAME_MOD - 1, 1) == 1
    assert frame_gap(10, 10) == -1
    assert frame_gap(10, 9) == -1


def _sfu(t: float, cpu: float, sent: int) -> dict[str, object]:
    return {"t": t, "cpu": cpu, "sent": sent, "received": sent // 2, "waiting_keyframe": 0}


def _load(t: float, frames: tuple[int, int], gaps: int) -> dict[str, object]:
    """A `bench.counting.Peers` mark of two subscribers, s1 and s2."""
    return {"t": t, "cpu": t / 10,
            "frames": {"s1/1": frames[0], "s2/1": frames[1]},
            "gaps": {"s1/1": gaps, "s2/1": gaps},
            "sample": {"verified": frames[0] // 30, "verify_failed": 0},
            "packets": 7 * sum(frames), "packets_lost": 0, "published_packets": 0,
            "published_frames": {}}


def test_row_and_ratio_arithmetic() -> None:
    start = [_sfu(100.0, 5.0, 1000), {"t": 100.0, "cpu": 1.0, "frames": 0, "packets": 0},
             _load(100.0, (0, 0), 0)]
    end = [_sfu(110.0, 6.0, 5000), {"t": 110.0, "cpu": 2.0, "frames": 300, "packets": 2000},
           _load(110.0, (300, 270), 2)]
    row = make_row("giaoban", 2, start, end)
    assert row["us_per_packet"] == 250.0  # 1 CPU-s over 4000 packets
    assert row["cpu_s_per_s"] == 0.1
    assert row["cpu_per_stream"] == 0.05  # per subscriber (its video + audio)
    assert row["fps_min"] == 27.0 and row["fps_mean"] == 28.5
    assert row["lost_frames"] == 4
    assert row["frames_short_max"] == 30
    assert row["verified_frames"] == 10
    assert row["load_cpu_s_per_s"] == 0.2  # the publisher's 1 CPU-s and the load's 1
    relay = dict(row, impl="mediarelay", cpu_per_stream=0.5)
    assert ratios([row, relay, {"impl": "giaoban", "subscribers": 4, "error": "x"}]) == {"2": 10.0}


@pytest.mark.timeout(200)
def test_smoke_run_prints_one_json_object() -> None:
    """All three SFUs, Janus included (so the run happens in its own network namespace)."""
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "forwarding.py"), "--subscribers", "1",
         "--seconds", "3", "--warmup", "1", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=190)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert set(report) >= {"rows", "ratios", "janus_ratios", "config", "machine"}
    assert report["config"]["address"] == "10.77.0.1", "Janus needs the namespace's address"
    assert [(r["impl"], r["subscribers"]) for r in report["rows"]] == [
        ("giaoban", 1), ("mediarelay", 1), ("janus", 1)]
    for row in report["rows"]:
        for key, kind in ROW_KEYS.items():
            assert isinstance(row[key], kind) or (kind is float and isinstance(row[key], int)), \
                (key, row[key])
        assert row["packets_per_s"] > 50, row
        assert row["fps_min"] > 10, row
        assert row["verified_frames"] >= 1 and row["verify_failures"] == 0, row
    assert set(report["ratios"]) == {"1"} and report["ratios"]["1"] > 0
    assert set(report["janus_ratios"]) == {"1"} and report["janus_ratios"]["1"] > 0
    assert "N=1 giaoban: measuring 3 s" in result.stderr
    assert "N=1 janus: measuring 3 s" in result.stderr


def test_janus_ratio_is_per_forwarded_packet() -> None:
    rows = [{"impl": "giaoban", "subscribers": 16, "us_per_packet": 30.0, "cpu_per_stream": 1},
            {"impl": "janus", "subscribers": 16, "us_per_packet": 36.0, "cpu_per_stream": 1},
            {"impl": "janus", "subscribers": 8, "error": "janus did not start"}]
    assert ratios(rows, "janus", "us_per_packet") == {"16": 1.2}


# ---------------------------------------------------------------- mesh and workers modes


def test_modes_parse_their_own_counts_and_defaults() -> None:
    from bench.forwarding import parse_args

    fanout = parse_args([])
    assert (fanout.mode, fanout.counts, fanout.per_process) == ("fanout", [1, 2, 4, 8, 16], 4)
    mesh = parse_args(["--mode", "mesh", "--participants", "3,5"])
    assert (mesh.participant_counts, mesh.per_process) == ([3, 5], 4)
    assert parse_args(["--mode", "mesh"]).participant_counts == [2, 4, 6, 8]
    workers = parse_args(["--mode", "workers", "--rooms", "2", "--room-subscribers", "6"])
    assert (workers.worker_counts, workers.rooms, workers.room_subscribers,
            workers.per_process, workers.seconds, workers.flood) == ([1, 2], 2, 6, 16, 10.0, 15.0)


@pytest.mark.parametrize("argv, message", [
    (["--mode", "mesh", "--participants", "1,4"], "at least 2 participants"),
    (["--mode", "mesh", "--participants", "a"], "--participants takes numbers"),
    (["--mode", "workers", "--workers", "0"], "--workers needs at least one count"),
    (["--mode", "workers", "--rooms", "0"], "--rooms and --room-subscribers"),
    (["--mode", "ring"], "invalid choice"),
    (["--mode", "workers", "--seconds", "30"], "ICE consent lapses"),
    (["--mode", "workers", "--flood", "0.5"], "--flood must be at least 1"),
    (["--load-cpu", "999"], "--load-cpu takes"),
])
def test_bad_mode_arguments_are_refused_with_a_message(
        argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    from bench.forwarding import parse_args

    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def _peers(t: float, cpu: float, frames: dict[str, int], gaps: dict[str, int],
           published: int, verified: int) -> dict[str, object]:
    return {"t": t, "cpu": cpu, "frames": frames, "gaps": gaps,
            "sample": {"verified": verified, "verify_failed": 0},
            "packets": 20 * sum(frames.values()), "packets_lost": 0,
            "published_packets": 7 * published, "published_frames": {"p1": published}}


def test_mesh_row_counts_every_received_stream() -> None:
    from bench.mesh import make_mesh_row

    start = [_sfu(10.0, 2.0, 0),
             _peers(10.0, 1.0, {"p1/1": 0, "p1/3": 0}, {"p1/1": 0, "p1/3": 0}, 0, 0)]
    end = [_sfu(20.0, 2.5, 10000),
           _peers(20.0, 3.0, {"p1/1": 300, "p1/3": 240}, {"p1/1": 0, "p1/3": 5}, 300, 10)]
    row = make_mesh_row(2, start, end)
    assert (row["participants"], row["forwarded_streams"], row["video_streams"]) == (2, 4, 2)
    assert row["us_per_packet"] == 50.0  # 0.5 CPU-s over 10000 packets
    assert row["packets_per_s"] == 1000.0 and row["cpu_s_per_s"] == 0.05
    assert row["cpu_per_stream"] == 0.025  # per subscriber stream: 2 of them
    assert (row["fps_min"], row["fps_mean"], row["lost_frames"]) == (24.0, 27.0, 5)
    assert row["verified_frames"] == 10 and row["publisher_fps"] == 30.0
    assert row["load_cpu_s_per_s"] == 0.2
    assert row["load_us_per_packet"] == round(2.0 * 1e6 / (20 * 540), 1)


def test_workers_row_sums_the_worker_processes_and_scaling_compares_to_one() -> None:
    from bench.forwarding import workers_table
    from bench.workers import check_figures, make_workers_row, scaling

    def pool(t: float, cpus: list[float], sent: int) -> dict[str, object]:
        return {**_sfu(t, sum(cpus), sent), "worker_cpu": cpus, "control_cpu": t / 100}

    publishers0 = _peers(0.0, 0.0, {}, {}, 0, 0)
    publishers1 = _peers(10.0, 1.0, {}, {}, 300, 0)  # 2100 packets, 21 000/s offered per room
    one = make_workers_row(1, 4, 10, [pool(0.0, [1.0], 0), publishers0],
                           [pool(10.0, [11.0], 100000), publishers1], 101000)
    two = make_workers_row(2, 4, 10, [pool(0.0, [1.0, 1.0], 0), publishers0],
                           [pool(10.0, [8.0, 9.0], 180000), publishers1], 181000)
    assert one["subscribers"] == 40 and one["worker_cpu_s_per_s"] == [1.0]
    assert one["offered_per_s"] == 2100.0 and one["delivered_per_s"] == 10100.0
    assert two["cpu_s_per_s"] == 1.5 and two["worker_cpu_s_per_s"] == [0.7, 0.8]
    assert two["us_per_packet"] == round(15.0 * 1e6 / 180000, 1)
    assert one["load_cpu_s_per_s"] == 0.1
    assert scaling([one, two]) == {"1": 1.0, "2": 1.8}
    assert scaling([two]) == {}, "no ratio without a 1-worker run"
    check = check_figures({"fps": [30.0, 29.5], "lost_frames": 1, "verified_frames": 8,
                           "verify_failures": 0, "packets_lost": 2})
    assert (check["fps_min"], check["video_streams"], check["lost_frames"]) == (29.5, 2, 1)
    text = workers_table([{**one, **check}, {**two, **check},
                          {"impl": "giaoban", "workers": 3, "error": "gone"}],
                         scaling([one, two]))
    assert "0.70+0.80" in text and "2 workers: 1.80×" in text and "error: gone" in text


def test_socket_drops_counts_what_a_full_socket_refused() -> None:
    import socket

    from bench.workers import socket_drops

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 0)  # the kernel's minimum
    sink.bind(("127.0.0.1", 0))
    port = sink.getsockname()[1]
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        before = socket_drops({port})
        for _ in range(200):
            sender.sendto(b"x" * 1200, ("127.0.0.1", port))
        queued = 0
        sink.setblocking(False)
        while True:
            try:
                sink.recv(2000)
            except BlockingIOError:
                break
            queued += 1
        assert socket_drops({port}) - before == 200 - queued
        assert queued < 200, "a minimal buffer cannot hold 200 datagrams"
        # Another socket, sent nothing, has dropped nothing, and adds nothing to a sum.
        quiet = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            quiet.bind(("127.0.0.1", 0))
            other = quiet.getsockname()[1]
            assert socket_drops({other}) == 0
            assert socket_drops({port, other}) == socket_drops({port}) == before + 200 - queued
        finally:
            quiet.close()
    finally:
        sink.close()
        sender.close()


def test_stream_counts_follow_rtp_timestamps() -> None:
    from bench.counting import StreamCount, count_frame

    video = StreamCount("video")
    for timestamp in (4294964296, 4294964296, 0, 3000, 12000, 9000):
        count_frame(video, timestamp)  # wraps; a repeated and an older timestamp are no frame
    assert (video.frames, video.gaps) == (4, 2)
    audio = StreamCount("audio")
    for timestamp in (0, 960, 2880):
        count_frame(audio, timestamp)
    assert (audio.frames, audio.gaps) == (3, 1)


def test_packet_counts_follow_sequence_numbers() -> None:
    from bench.counting import StreamCount, count_packet

    count = StreamCount("video")
    for seq in (65534, 65535, 1, 1, 0, 4):  # wraps; a duplicate and an older one are no loss
        count_packet(count, seq)
    assert count.packets_missing == 3  # 0, then 2 and 3


def test_replayed_picture_decodes_with_numbers_modulo_its_cycle() -> None:
    from aiortc.codecs.vpx import Vp8Decoder
    from aiortc.jitterbuffer import JitterFrame

    from bench.replay import CYCLE, GOP, encoded_cycle

    frames = encoded_cycle(2, 1_500_000)
    assert len(frames) == CYCLE
    decoder = Vp8Decoder()
    numbers = []
    for n in range(CYCLE + 2):  # across the end of the cycle: frame 0 is a keyframe
        for frame in decoder.decode(JitterFrame(data=frames[n % CYCLE], timestamp=n * 3000)):
            numbers.append(read_number(frame))
            if n % GOP == 0:
                assert verify(frame, 2, n % CYCLE)
    assert numbers == [n % CYCLE for n in range(CYCLE + 2)]
    assert frame_gap(CYCLE - 1, 1, CYCLE) == 1 and frame_gap(5, 5, CYCLE) == -1


@pytest.mark.timeout(200)
def test_workers_smoke_run_checks_then_saturates() -> None:
    """One worker, one room of two subscribers: the real-time check sees the replayed
    picture, then the sunk subscribers' sockets count what the SFU forwarded."""
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "forwarding.py"), "--mode", "workers",
         "--workers", "1", "--rooms", "1", "--room-subscribers", "2", "--flood", "3",
         "--seconds", "3", "--warmup", "1", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=190)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    [row] = report["rows"]
    # What the run measured, not how fast this (shared, loaded) machine was: the check
    # decoded the replayed picture, then the flood was forwarded to both sunk sockets.
    # Frame rates, losses and packet rates are the benchmark's figures to report.
    assert row["fps_min"] > 0 and isinstance(row["lost_frames"], int), row
    assert row["verified_frames"] >= 1 and row["verify_failures"] == 0, row
    assert row["sink_sockets"] == 2, row
    assert row["packets_per_s"] > 0 and 0 < row["delivered_per_s"], row
    assert row["delivered_per_s"] <= 1.1 * row["packets_per_s"], row  # no more than sent
    assert report["scaling"] == {"1": 1.0}
