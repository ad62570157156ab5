"""What the /it dashboard shows, as JSON: live meetings, participants and streams (worst
first), SFU workers, alerts and report counts; plus one participant's charts on request."""

from __future__ import annotations

from typing import Any

from signaling.live.snapshot import LiveMeetingSnapshot
from signaling.quality.classify import SEVERITY
from signaling.quality.monitor import ParticipantTrack, QualityMonitor, StreamTrack, _round

STREAM_ORDER = ("up:microphone", "up:camera", "up:screen", "down:audio", "down:video")
WORKER_STALE_FACTOR = 3


def _stream(key: str, stream: StreamTrack) -> dict[str, Any]:
    r = stream.reading
    f = r.figures
    return {
        "key": key, "kind": r.kind, "state": stream.classifier.state,
        "reasons": list(stream.classifier.reasons),
        "bitrate_kbps": _round(f.bitrate_bps / 1000), "loss_percent": _round(f.loss_percent, 2),
        "jitter_ms": _round(f.jitter_ms), "rtt_ms": _round(f.rtt_ms), "mos": _round(f.mos, 2),
        "fps": _round(f.fps), "frame_loss_percent": _round(f.frame_loss_percent),
        "nacks": r.nacks, "plis": r.plis, "paused": r.paused,
        "width": r.width, "height": r.height, "quality_limitation": r.quality_limitation,
        "freezes": r.freezes, "concealed_percent": _round(r.concealed_percent),
        "alert": stream.alert is not None,
    }


def _candidate(track: ParticipantTrack | None) -> dict[str, Any] | None:
    if track is None or track.client is None:
        return None
    pairs = {pair.transport: pair for pair in track.client.pairs}
    pair = pairs.get("publish") or pairs.get("subscribe")
    if pair is None:
        return None
    return {"local_type": pair.local_type, "remote_type": pair.remote_type,
            "rtt_ms": _round(pair.rtt_ms),
            "available_outgoing_kbps": _round(None if pair.available_outgoing_bps is None
                                              else pair.available_outgoing_bps / 1000)}


def _meeting(monitor: QualityMonitor, meeting: LiveMeetingSnapshot) -> dict[str, Any]:
    people: list[dict[str, Any]] = []
    for lp in meeting.participants:
        track = monitor.participants.get(lp.participant_id)
        streams = track.streams if track is not None else {}
        people.append({
            "participant_id": lp.participant_id, "username": lp.username,
            "display_name": lp.display_name,
            "state": track.state if track is not None else "good",
            "audio_muted": lp.audio_muted, "video_muted": lp.video_muted,
            "candidate": _candidate(track),
            "streams": [_stream(k, streams[k]) for k in STREAM_ORDER if k in streams],
        })
    people.sort(key=lambda x: (-SEVERITY[str(x["state"])], str(x["display_name"]),
                               str(x["participant_id"])))
    state = people[0]["state"] if people else "good"
    return {"meeting_id": meeting.meeting_id, "title": meeting.title, "state": state,
            "report_url": f"/it/meetings/{meeting.meeting_id}", "participants": people}


def detail(monitor: QualityMonitor, participant_id: str) -> dict[str, Any] | None:
    """One participant's recent figures per stream, as columns for the charts."""
    track = monitor.participants.get(participant_id)
    if track is None:
        return None
    series: dict[str, Any] = {}
    for key in STREAM_ORDER:
        stream = track.streams.get(key)
        if stream is None:
            continue
        columns = list(zip(*stream.series)) if stream.series else [()] * 7
        series[key] = dict(zip(("t", "bitrate", "loss", "jitter", "rtt", "mos", "fps"),
                               ([_round(v, 2) for v in col] for col in columns)))
    return {"participant_id": participant_id, "username": track.username,
            "display_name": track.display_name, "state": track.state, "series": series}


def snapshot(monitor: QualityMonitor, meetings: list[LiveMeetingSnapshot], now: float,
             stats_interval_s: float, watch: str | None = None) -> dict[str, Any]:
    shown = [_meeting(monitor, m) for m in meetings]
    shown.sort(key=lambda m: (-SEVERITY[str(m["state"])], str(m["title"]), str(m["meeting_id"])))
    workers = []
    for number, (load, seen) in sorted(monitor.workers.items()):
        stale = now - seen > WORKER_STALE_FACTOR * stats_interval_s
        workers.append({"worker": number, "pid": load.pid, "alive": load.alive and not stale,
                        "routers": load.routers, "streams": load.streams,
                        "packets_per_s": round(load.packets_per_s, 1),
                        "cpu_percent": round(load.cpu_percent, 1),
                        "seen_s_ago": round(now - seen, 1)})
    worker_series = {
        str(number): {"t": [p[0] for p in points], "cpu": [round(p[1], 1) for p in points],
                      "pps": [round(p[2], 1) for p in points]}
        for number, points in sorted(monitor.worker_series.items())}
    counts = monitor.counts()
    return {
        "type": "snapshot", "at": now,
        "totals": {"meetings": len(meetings), **counts},
        "meetings": shown,
        "workers": workers, "worker_series": worker_series,
        "alerts": [a.as_json() for a in sorted(monitor.alerts.values(),
                                               key=lambda a: a.raised_at, reverse=True)],
        "recent_alerts": [a.as_json() for a in list(monitor.recent_alerts)[:10]],
        "reports": {"accepted": monitor.gate.accepted, "dropped": dict(monitor.gate.dropped)},
        "detail": detail(monitor, watch) if watch else None,
    }
