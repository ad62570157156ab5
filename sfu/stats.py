"""Figures for every producer and consumer of a router, read off the forwarding counters.

Sampling only reads counters that the forwarding path keeps anyway; it never runs on
that path. Rates (bitrate, loss fraction) are computed between the periodic samples of
the same stream, so one `StatsSampler` belongs to one router; an on-demand sample
gives fresh counters with the rates of the last periodic one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .api import SpeakerFigures, StatsSample, StreamStats
from .consumer import Consumer
from .ids import RouterId
from .producer import Producer


@dataclass(slots=True)
class _Previous:
    at: float
    bytes: int
    expected: int
    lost: int
    bitrate: float = 0.0
    loss: float = 0.0


class StatsSampler:
    def __init__(self, router_id: RouterId) -> None:
        self.router_id = router_id
        self._previous: dict[str, _Previous] = {}
        self._periodic = True

    def sample(self, producers: list[Producer], consumers: list[Consumer],
               periodic: bool = True,
               speaker: SpeakerFigures | None = None) -> StatsSample:
        """Read every stream; a periodic sample also moves the rate window on."""
        self._periodic = periodic
        now = time.monotonic()
        streams = [self._producer(p, now) for p in producers]
        paused = {p.id for p in producers if p.paused}
        streams += [self._consumer(c, now, c.paused or c.producer_id in paused)
                    for c in consumers]
        if periodic:
            live = {s.stream_id for s in streams}
            self._previous = {k: v for k, v in self._previous.items() if k in live}
        return StatsSample(router_id=self.router_id, at=time.time(), streams=tuple(streams),
                           speaker=speaker or SpeakerFigures())

    def _rates(self, key: str, now: float, total_bytes: int, expected: int,
               lost: int) -> tuple[float, float]:
        """(bits per second, loss fraction) since the previous sample of `key`."""
        previous = self._previous.get(key)
        if not self._periodic:
            return (0.0, 0.0) if previous is None else (previous.bitrate, previous.loss)
        bitrate, loss = 0.0, 0.0
        if previous is not None and now > previous.at:
            bitrate = (total_bytes - previous.bytes) * 8 / (now - previous.at)
            expected_delta = expected - previous.expected
            lost_delta = lost - previous.lost
            if expected_delta > 0 and lost_delta > 0:
                loss = min(1.0, lost_delta / expected_delta)
        self._previous[key] = _Previous(now, total_bytes, expected, lost, bitrate, loss)
        return bitrate, loss

    def _producer(self, producer: Producer, now: float) -> StreamStats:
        counts = (producer.tap.stream_counts(producer.media_ssrc)
                  if producer.media_ssrc is not None else None)
        expected, received, jitter_s = counts if counts is not None else (0, 0, 0.0)
        lost = max(0, expected - received)
        bitrate, loss = self._rates(producer.id, now, producer.bytes, expected, lost)
        return StreamStats(
            stream_id=producer.id, direction="inbound", kind=producer.kind,
            transport_id=producer.transport_id, producer_id=producer.id,
            packets=producer.packets, bytes=producer.bytes, bitrate_bps=bitrate,
            packets_lost=lost, loss_fraction=loss, jitter_ms=jitter_s * 1000, rtt_ms=None,
            nacks=producer.tap.nacks_sent, plis=producer.keyframe_requests_sent,
            keyframes=producer.keyframes, paused=producer.paused)

    def _consumer(self, consumer: Consumer, now: float, paused: bool) -> StreamStats:
        """`paused`: whether the consumer, or its producer, is paused."""
        report = consumer.feedback.report()
        lost, fraction, jitter_units, rtt_s = report if report is not None else (0, 0.0, 0.0,
                                                                                None)
        bitrate, _ = self._rates(consumer.id, now, consumer.bytes, consumer.packets, lost)
        return StreamStats(
            stream_id=consumer.id, direction="outbound", kind=consumer.kind,
            transport_id=consumer.transport_id, producer_id=consumer.producer_id,
            packets=consumer.packets, bytes=consumer.bytes, bitrate_bps=bitrate,
            packets_lost=max(0, lost), loss_fraction=fraction,
            jitter_ms=jitter_units / consumer.clock_rate * 1000,
            rtt_ms=None if rtt_s is None else rtt_s * 1000,
            nacks=consumer.feedback.nacks, plis=consumer.keyframe_requests,
            keyframes=consumer.keyframes, paused=paused,
            dropped_waiting_keyframe=consumer.dropped_waiting_keyframe,
            undeliverable=consumer.undeliverable)
