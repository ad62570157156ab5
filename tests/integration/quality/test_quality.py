"""Media quality monitoring end to end: real aiortc peers over /ws, one of them on a
really lossy and jittery path; the monitor, the alert webhook, the dashboard socket,
the history, the report pages and /metrics, all through a real server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer

from sfu.config import SfuSettings
from signaling.config import Config, HttpSettings
from signaling.quality.settings import QualitySettings
from tests.integration.conftest import Site, wait_until
from tests.integration.impair import Impairment
from web.app import create_app
from web.keys import QUALITY, STORE

LOSS = 0.15


class Hook:
    """A webhook receiver on 127.0.0.1 that fails its first request."""

    def __init__(self) -> None:
        self.attempts: list[dict[str, Any]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts.append(await request.json())
        return web.Response(status=503 if len(self.attempts) == 1 else 204)


@pytest.fixture
async def hook(aiohttp_server: AiohttpServer) -> Hook:
    receiver = Hook()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    receiver.url = str((await aiohttp_server(app)).make_url("/hook"))
    return receiver


async def start_site(tmp_path: Path, quality: QualitySettings) -> Site:
    config = Config(data_dir=str(tmp_path / "data"), http=HttpSettings(host="127.0.0.1"),
                    sfu=SfuSettings(announced_addresses=["127.0.0.1"], stats_interval_ms=1000),
                    quality=quality)
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    return Site(server=server, base_url=str(server.make_url("")).rstrip("/"))


async def it_snapshot(site: Site, token: str) -> dict[str, Any]:
    async with aiohttp.ClientSession(cookies={"giaoban_session": token}) as http, \
            http.ws_connect(site.base_url + "/it/ws") as ws:
        message = await ws.receive_json(timeout=5)
        assert message["type"] == "snapshot", message
        return dict(message)


def streams_of(monitor: Any, participant_id: str) -> dict[str, Any]:
    track = monitor.participants.get(participant_id)
    return {} if track is None else dict(track.streams)


@pytest.mark.timeout(120)
async def test_a_lossy_participant_is_poor_and_a_clean_one_stays_good(
        tmp_path: Path, hook: Hook) -> None:
    site = await start_site(tmp_path, QualitySettings(
        alert_after_seconds=2, webhook_url=hook.url, warning_samples=2,
        dashboard_interval_ms=500))
    try:
        await lossy_meeting(site, hook)
    finally:
        await site.server.close()


async def lossy_meeting(site: Site, hook: Hook) -> None:
    app = site.server.app
    monitor = app[QUALITY]
    monitor.webhook.backoff_s = 0.2  # type: ignore[union-attr]
    lossy_token, clean_token = site.account("lan"), site.account("minh")
    it_token = site.account("kythuat", role="it")
    meeting = site.meeting("lan", ["minh"])
    lossy, clean = site.client("lan", lossy_token, 1), site.client("minh", clean_token, 2)
    impairment = Impairment(loss=LOSS, max_delay_s=0.1)
    try:
        for c in (lossy, clean):
            await c.connect()
            await c.join(meeting)
            await c.publish()
        await wait_until(lambda: len(lossy.subscriber.pc.getTransceivers()) >= 2
                         and lossy.subscriber.pc.connectionState == "connected", 20,
                         "the lossy participant's subscribe connection")
        assert impairment.apply(lossy.publisher.pc) >= 1
        assert impairment.apply(lossy.subscriber.pc) >= 1
        lossy_id, clean_id = str(lossy.participant_id), str(clean.participant_id)

        clean_states: list[str] = []
        clean_trouble: list[Any] = []
        mic_losses: list[float] = []
        mic_seen: set[float] = set()

        def judged() -> bool:
            clean_track = monitor.participants.get(clean_id)
            lossy_track = monitor.participants.get(lossy_id)
            if clean_track is None or lossy_track is None:
                return False
            clean_states.append(clean_track.state)
            if clean_track.state != "good":
                clean_trouble.append({k: (s.classifier.reasons, s.reading.figures)
                                      for k, s in clean_track.streams.items()
                                      if s.classifier.state != "good"})
            mic = lossy_track.streams.get("up:microphone")
            down = lossy_track.streams.get("down:audio")
            if mic is not None and mic.series and mic.series[-1][0] not in mic_seen:
                mic_seen.add(mic.series[-1][0])
                mic_losses.append(mic.series[-1][2] or 0.0)
                lossy_states.append((lossy_track.state, mic.classifier.state,
                                     down.classifier.state if down else "none",
                                     mic.classifier.reasons,
                                     down.reading.figures if down else None))
            return len(mic_losses) >= 9 and bool(monitor.alerts)

        lossy_states: list[tuple[Any, ...]] = []
        await wait_until(judged, 45, "several samples of the lossy participant, and an alert")
        # Judged on every sample once impaired: Poor most of the time, never Good, each
        # Poor microphone sample for what the path does (loss, jitter, delay).
        judged_states = lossy_states[3:]
        assert all(s[0] == "poor" for s in judged_states), lossy_states
        assert sum(s[1] == "poor" for s in judged_states) >= len(judged_states) // 2, lossy_states
        assert all(s[2] != "good" for s in judged_states), lossy_states
        assert all(set(s[3]) <= {"loss", "jitter", "rtt"} for s in judged_states
                   if s[1] == "poor"), lossy_states
        # The loss seen at the SFU is near the injected rate.
        recent = mic_losses[-6:]
        mean = sum(recent) / len(recent)
        assert 0.5 * LOSS * 100 <= mean <= 1.6 * LOSS * 100, mic_losses
        lossy_streams = streams_of(monitor, lossy_id)
        downs = [s.reading.figures.loss_percent for s in lossy_streams.values()
                 if s.reading.key == "down:audio"]
        assert downs and downs[0] is not None and 3 <= downs[0] <= 35, downs
        assert impairment.dropped > 50

        # The clean participant stayed Good the whole time, on every stream.
        clean_streams = streams_of(monitor, clean_id)
        assert set(clean_streams) >= {"up:microphone", "up:camera", "down:audio", "down:video"}
        assert all(s.classifier.state == "good" for s in clean_streams.values()), {
            k: (s.classifier.state, s.classifier.reasons, s.reading.figures)
            for k, s in clean_streams.items()}
        assert clean_states and set(clean_states) == {"good"}, clean_trouble[:3]

        # Everyone in the meeting is told, for the tiles.
        def told() -> list[dict[str, str]]:
            return [{q["username"]: q["state"] for q in m["participants"]}
                    for m in clean.messages if m["type"] == "quality"]

        await wait_until(lambda: {"lan": "poor", "minh": "good"} in told(), 10,
                         "a quality message naming the lossy participant Poor")
        assert all(states["minh"] == "good" for states in told())

        # The alert reached the webhook on the second attempt.
        def attempts_of_first_alert() -> list[dict[str, Any]]:
            return [a for a in hook.attempts if a["id"] == hook.attempts[0]["id"]]

        await wait_until(lambda: len(attempts_of_first_alert()) >= 2, 15, "the webhook's retry")
        first, second = attempts_of_first_alert()[:2]
        assert first == second
        assert second["event"] == "quality_alert" and second["username"] == "lan"
        assert second["meeting_id"] == meeting and second["state"] == "poor"
        assert monitor.webhook is not None and monitor.webhook.delivered >= 1

        # The IT dashboard lists the meeting, the Poor participant first.
        snap = await it_snapshot(site, it_token)
        (shown,) = snap["meetings"]
        assert shown["meeting_id"] == meeting and shown["state"] == "poor"
        assert [p["username"] for p in shown["participants"]] == ["lan", "minh"]
        assert [p["state"] for p in shown["participants"]] == ["poor", "good"]
        assert snap["totals"]["poor"] >= 1 and snap["alerts"]
        assert snap["workers"] and snap["workers"][0]["streams"] >= 8

        # Prometheus sees it too.
        async with aiohttp.ClientSession() as http, \
                http.get(site.base_url + "/metrics") as response:
            assert response.status == 200
            text = await response.text()
        metrics = {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines()
                   if line and not line.startswith("#")}
        assert metrics["giaoban_participants"] == 2 and metrics["giaoban_meetings"] == 1
        assert metrics["giaoban_streams_poor"] >= 1
        assert metrics["giaoban_forwarded_packets_total"] > 100
        assert metrics["giaoban_quality_alerts_total"] >= 1
    finally:
        for c in (lossy, clean):
            await c.close()

    # After the meeting, its history is merged into buckets and the report shows it.
    await wait_until(lambda: not monitor.participants, 10, "the participants to be forgotten")
    await wait_until(lambda: bool(monitor.history.samples(meeting))
                     and unmerged(site, meeting) == 0, 10, "the history to be merged")
    assert {r.username for r in monitor.history.samples(meeting)} == {"lan", "minh"}
    async with aiohttp.ClientSession(cookies={"giaoban_session": it_token}) as http:
        async with http.get(f"{site.base_url}/it/meetings/{meeting}") as response:
            assert response.status == 200
            page = await response.text()
        assert 'data-participant="lan" data-state="poor"' in page
        assert 'data-testid="report-worst"' in page
        async with http.get(f"{site.base_url}/it/meetings/{meeting}/quality.csv") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/csv")
            rows = (await response.text()).lstrip("\ufeff").splitlines()
        assert rows[0].startswith("time,participant,")
        assert any(",lan," in r and ",poor," in r for r in rows)
        assert any(",minh," in r for r in rows)


def unmerged(site: Site, meeting: str) -> int:
    row = site.server.app[STORE].fetch_one(
        "SELECT COUNT(*) FROM quality_samples WHERE meeting_id = ? AND merged = 0", (meeting,))
    return int(row[0]) if row is not None else -1


@pytest.mark.timeout(60)
async def test_reports_over_the_socket_are_capped_and_never_answered(tmp_path: Path) -> None:
    site = await start_site(tmp_path, QualitySettings(report_max_bytes=1024,
                                                      report_min_interval_ms=1000))
    monitor = site.server.app[QUALITY]
    token = site.account("lan")
    meeting = site.meeting("lan", [])
    client = site.client("lan", token, 1)
    good = {"type": "quality_report", "streams": [
        {"direction": "outbound", "kind": "video", "source": "camera", "fps": 30}],
        "pairs": [{"transport": "publish", "rtt_ms": 8, "local_type": "host"}]}
    try:
        await client.connect()
        await client.send(good)  # before joining
        await client.join(meeting)
        await client.send(good)
        await client.send(good)  # too soon after the previous one
        await client.send({**good, "streams": [{"direction": "up"}]})
        await client.send({**good, "pad": "x" * 2000})  # malformed and over the cap
        await client.send_raw(json.dumps({**good, "streams": good["streams"] * 8,
                                          "pairs": good["pairs"] * 2}) + " " * 1024)
        await asyncio.sleep(1.1)
        await client.send(good)
        await wait_until(lambda: monitor.gate.accepted == 2, 5, "two reports taken")
        assert monitor.gate.dropped == {"malformed": 2, "oversized": 1, "too_frequent": 1,
                                        "not_joined": 1}
        # Nothing was answered and the meeting goes on.
        await client.send({"type": "mute", "kind": "audio", "muted": True})
        await client.expect("mute_changed")
        assert client.errors == []
        assert [m["type"] for m in client.messages].count("error") == 0
    finally:
        await client.close()
        await site.server.close()


@pytest.mark.timeout(60)
async def test_only_it_and_admin_see_quality_and_metrics_access_is_explicit(
        tmp_path: Path) -> None:
    site = await start_site(tmp_path, QualitySettings())
    leader, it, admin = site.account("lan", "leader"), site.account("ky", "it"), \
        site.account("quan", "admin")
    meeting = site.meeting("lan", [])
    try:
        for token, allowed in ((leader, False), (it, True), (admin, True)):
            async with aiohttp.ClientSession(cookies={"giaoban_session": token}) as http:
                for path in ("/it", "/it/meetings", f"/it/meetings/{meeting}",
                             f"/it/meetings/{meeting}/quality.csv"):
                    async with http.get(site.base_url + path, allow_redirects=False) as r:
                        assert (r.status == 200) == allowed, (path, r.status)
                        if not allowed:
                            assert r.status == 403
                if not allowed:  # the permission matrix refuses the handshake itself
                    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                        await http.ws_connect(site.base_url + "/it/ws")
                    assert refused.value.status == 403
                    continue
                async with http.ws_connect(site.base_url + "/it/ws") as ws:
                    first = await ws.receive_json(timeout=5)
                    assert (first["type"] == "snapshot") == allowed, first
                    if allowed:
                        await ws.send_str(json.dumps({"type": "watch", "participant_id": "x"}))
                        answer = await ws.receive_json(timeout=5)
                        while answer["type"] == "snapshot":
                            answer = await ws.receive_json(timeout=5)
                        assert answer == {"type": "detail", "detail": None}
                        await ws.send_str("nonsense")
                        answer = await ws.receive_json(timeout=5)
                        while answer["type"] == "snapshot":
                            answer = await ws.receive_json(timeout=5)
                        assert answer["type"] == "error"
        async with aiohttp.ClientSession() as http:
            async with http.get(site.base_url + "/it", allow_redirects=False) as r:
                assert r.status == 302 and r.headers["Location"].startswith("/login")
            async with http.get(site.base_url + "/it/meetings/nope",
                                allow_redirects=False) as r:
                # Anonymous: sent to sign in, and shown nothing of the page itself.
                assert r.status == 302 and r.headers["Location"].startswith("/login")
                assert "giaoban" not in (await r.text()).lower()
            # Loopback-only by default: this client is on 127.0.0.1.
            async with http.get(site.base_url + "/metrics") as r:
                assert r.status == 200
                assert "giaoban_forwarded_packets_total" in await r.text()
    finally:
        await site.server.close()

    site = await start_site(tmp_path / "b", QualitySettings(metrics_token="s" * 24))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(site.base_url + "/metrics") as r:
                assert r.status == 401
                assert r.headers["Content-Type"].startswith("application/problem+json")
            async with http.get(site.base_url + "/metrics",
                                headers={"Authorization": "Bearer " + "t" * 24}) as r:
                assert r.status == 403
            async with http.get(site.base_url + "/metrics",
                                headers={"Authorization": "Bearer " + "s" * 24}) as r:
                assert r.status == 200
                text = await r.text()
        for name in ("giaoban_participants", "giaoban_forwarded_packets_total",
                     "giaoban_streams_poor", "giaoban_meetings", "giaoban_streams"):
            assert f"\n{name} " in text, name
    finally:
        await site.server.close()

