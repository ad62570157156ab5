"""/metrics for Prometheus, built at each scrape from the live figures.

Who may read it: with `[quality] metrics_token` empty (the default), only clients on
this machine (loopback addresses); with a token set, any client that sends
`Authorization: Bearer <token>`, and nobody else. The figures name no person.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from signaling.errors import Forbidden, Unauthorized
from signaling.live.meetings import LiveMeetings
from signaling.quality.monitor import QualityMonitor
from web.client_address import client_address
from web.keys import CONFIG, LIVE_MEETINGS, METRICS_REGISTRY, QUALITY


class GiaobanCollector(Collector):
    def __init__(self, monitor: QualityMonitor, live_meetings: LiveMeetings) -> None:
        self._monitor = monitor
        self._live_meetings = live_meetings

    def collect(self) -> Iterator[Metric]:
        monitor = self._monitor
        meetings = self._live_meetings.snapshot()
        counts = monitor.counts()
        yield GaugeMetricFamily("giaoban_meetings", "Live meetings on this server.",
                                value=len(meetings))
        yield GaugeMetricFamily("giaoban_participants", "Participants in live meetings.",
                                value=sum(len(m.participants) for m in meetings))
        loads = [load for load, _ in monitor.workers.values()]
        yield GaugeMetricFamily("giaoban_streams",
                                "Producers and consumers on the SFU workers.",
                                value=sum(load.streams for load in loads))
        yield GaugeMetricFamily("giaoban_streams_poor", "Participant streams judged Poor.",
                                value=counts["poor"])
        yield GaugeMetricFamily("giaoban_streams_warning",
                                "Participant streams judged Warning.", value=counts["warning"])
        by_state = GaugeMetricFamily("giaoban_participant_streams",
                                     "Participant streams by quality state.", labels=["state"])
        for state in ("good", "warning", "poor"):
            by_state.add_metric([state], counts[state])
        yield by_state
        yield CounterMetricFamily("giaoban_forwarded_packets",
                                  "RTP packets the SFU forwarded to subscribers.",
                                  value=monitor.forwarded_packets)
        pps = GaugeMetricFamily("giaoban_sfu_packets_per_second",
                                "Packets received and forwarded per second, per SFU worker.",
                                labels=["worker"])
        cpu = GaugeMetricFamily("giaoban_sfu_worker_cpu_percent",
                                "CPU use of each SFU worker, percent of one core.",
                                labels=["worker"])
        up = GaugeMetricFamily("giaoban_sfu_worker_up", "1 while an SFU worker is alive.",
                               labels=["worker"])
        for number, (load, _) in sorted(monitor.workers.items()):
            pps.add_metric([str(number)], load.packets_per_s)
            cpu.add_metric([str(number)], load.cpu_percent)
            up.add_metric([str(number)], 1 if load.alive else 0)
        yield pps
        yield cpu
        yield up
        reports = CounterMetricFamily("giaoban_quality_reports",
                                      "Browser quality reports, taken or dropped by reason.",
                                      labels=["result"])
        reports.add_metric(["accepted"], monitor.gate.accepted)
        for reason, count in sorted(monitor.gate.dropped.items()):
            reports.add_metric([reason], count)
        yield reports
        yield CounterMetricFamily("giaoban_quality_alerts",
                                  "Alerts raised for streams that stayed Poor.",
                                  value=monitor.alerts_raised)
        yield GaugeMetricFamily("giaoban_quality_alerts_active", "Alerts not cleared yet.",
                                value=len(monitor.alerts))
        webhook = monitor.webhook
        yield CounterMetricFamily("giaoban_quality_webhook_failures",
                                  "Alerts the webhook could not deliver after every retry.",
                                  value=webhook.failed if webhook is not None else 0)


def may_read_metrics(request: web.Request) -> None:
    """Raise unless this request may read /metrics (see the module docstring)."""
    token = request.app[CONFIG].quality.metrics_token
    if token:
        sent = request.headers.get("Authorization", "")
        if not sent.startswith("Bearer "):
            raise Unauthorized("Send the metrics token as 'Authorization: Bearer <token>'")
        if not hmac.compare_digest(sent.removeprefix("Bearer ").encode(), token.encode()):
            raise Forbidden("The metrics token is wrong")
        return
    try:
        loopback = ipaddress.ip_address(client_address(request)).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise Forbidden("/metrics answers only this machine unless a metrics token is set")


async def metrics(request: web.Request) -> web.StreamResponse:
    may_read_metrics(request)
    body = generate_latest(request.app[METRICS_REGISTRY])
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


def setup_metrics(app: web.Application) -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GiaobanCollector(app[QUALITY], app[LIVE_MEETINGS]))
    app[METRICS_REGISTRY] = registry
    app.router.add_get("/metrics", metrics, name="metrics")
