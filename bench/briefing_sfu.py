"""The briefing's media plane and meeting: `WorkerPool`, driven as signaling drives it.

This child process holds the pool (the SFU under test) and, in the role of the
server, the meeting: the product's own `LiveMeeting` and `Participant`s, its tile
order (`TileOrdering`, `signaling.live.last_n`) and its visibility policy
(`Visibility`, which pauses every camera consumer a page does not show). The pool's
`ActiveSpeaker` events move the speaker onto everyone's first page, exactly as
`signaling.live.events` does; each page answers a new tile order by saying which
cameras it shows (its first page, without itself), as the meeting page does.

Only the worker processes' CPU time counts as the SFU's; this process's own is
reported apart (`control_cpu`), as in the workers mode.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sfu.api import ActiveSpeaker, SfuEvent, StatsSample
from sfu.config import SfuSettings
from sfu.ids import ProducerId
from signaling.ids import MeetingId, ParticipantId, Username
from signaling.live import protocol as p
from signaling.live.participants import LiveMeeting, Participant
from signaling.live.tile_order import TileOrdering
from signaling.live.tiles_protocol import TileOrder, Visible, VisibleTile
from signaling.live.visibility import Visibility
from signaling.schedule.meetings import Meeting

from .control import bench_host, cpu_seconds
from .sfus import PoolSfu, process_cpu_seconds

CONSENT_TIMEOUT_S = 30
"""The SFU's ICE consent timeout in this benchmark: the capacity window's sunk
subscribers answer no consent check, and the window must end before it lapses."""


def briefing_settings(consumer_limit: int | None) -> SfuSettings:
    """The pool's settings; `consumer_limit` spreads one meeting over the workers when
    the pool supports it (`[sfu] worker_consumer_limit`)."""
    extra: dict[str, Any] = {}
    names = {f.name for f in dataclasses.fields(SfuSettings)}
    if consumer_limit and "worker_consumer_limit" in names:
        extra["worker_consumer_limit"] = consumer_limit
    return SfuSettings(announced_addresses=[bench_host()],
                       consent_timeout_seconds=CONSENT_TIMEOUT_S, **extra)


def spreads() -> bool:
    """Whether this pool can spread one meeting over several workers."""
    return "worker_consumer_limit" in {f.name for f in dataclasses.fields(SfuSettings)}


def _meeting() -> Meeting:
    now = datetime.now(UTC)
    return Meeting(id=MeetingId("briefing"), title="Giao ban", organizer=Username("chu-tri"),
                   start=now, end=now + timedelta(hours=1), invitees=(), state="live",
                   created_at=now)


class BriefingSfu(PoolSfu):
    """One meeting on `WorkerPool`; requests name participants, not transports."""

    def __init__(self, options: dict[str, Any]) -> None:
        from sfu.pool import WorkerPool

        super().__init__(options)
        self.settings = briefing_settings(options.get("consumer_limit"))
        self.pool = WorkerPool(self.settings, int(options["workers"]), self.run_dir,
                               log_level="WARNING")
        self.visible = bool(options.get("visibility", True))
        per_page = int(options.get("per_page", 9))
        self.tiles = TileOrdering(per_page)
        self.visibility = Visibility(self.pool, per_page)
        self.live: LiveMeeting | None = None
        self.names: dict[ProducerId, str] = {}
        """producer id -> its participant."""
        self.speaker_log: list[tuple[float, str | None]] = []
        """(monotonic time, participant) of every ActiveSpeaker event."""
        self.tasks: set[asyncio.Task[None]] = set()
        self.latest: dict[str, Any] = {}
        self.samples = 0

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _meeting(self) -> LiveMeeting:
        assert self.live is not None, "start first"
        return self.live

    async def op_start(self, rooms: int = 1) -> None:
        await self.pool.start()
        router = await self.pool.create_router()
        self.rooms = [router]
        self.live = LiveMeeting(meeting=_meeting(), router_id=router)
        self.pool.add_listener(self._on_event)

    def _on_event(self, event: SfuEvent) -> None:
        if isinstance(event, StatsSample):
            self._sampled(event)
        if not isinstance(event, ActiveSpeaker) or self.live is None:
            return
        name = self.names.get(event.producer_id) if event.producer_id else None
        self.speaker_log.append((time.monotonic(), name))
        if name is not None:  # onto everyone's first page
            self._spawn(self.tiles.spoke(self.live, name))

    def _page(self, name: str) -> Any:
        """What the participant's page does with the server's messages: on a new tile
        order it shows its first page, without itself, and says so with `visible`."""

        async def send(message: p.ServerMessage) -> None:
            if not isinstance(message, TileOrder) or not self.visible:
                return
            participant = self._meeting().participants[ParticipantId(name)]
            others = [pid for pid in message.order if pid != name][:message.per_page]
            visible = Visible(tiles=tuple(VisibleTile(pid, "small") for pid in others))
            self._spawn(self.visibility.show(participant, visible))

        return send

    async def op_join(self, name: str, offer: str) -> str:
        """The participant joins and publishes a camera and a microphone."""
        live = self._meeting()
        transport = await self.pool.create_transport(live.router_id, "publish")
        result = await self.pool.publish(transport, offer)
        participant = Participant(id=ParticipantId(name), meeting_id=live.meeting.id,
                                  username=name, display_name=name, send=self._page(name),
                                  publish_transport=transport, live_meeting=live)
        for producer in result.producers:
            source = "camera" if producer.kind == "video" else "microphone"
            participant.tracks[producer.producer_id] = p.TrackInfo(
                producer.producer_id, name, name, producer.kind, source)
            self.names[producer.producer_id] = name
        live.participants[participant.id] = participant
        await self.tiles.refresh(live, joined=participant)
        return str(result.answer_sdp)

    async def op_subscribe(self, name: str, microphones: list[str]) -> dict[str, Any]:
        """A subscribe transport to every other camera and to the `microphones` of
        those who speak; returns the offer and which participant each m-line carries."""
        live = self._meeting()
        participant = live.participants[ParticipantId(name)]
        transport = await self.pool.create_transport(live.router_id, "subscribe")
        participant.subscribe_transport = transport
        for other in list(live.participants.values()):
            if other is participant:
                continue
            for producer_id, track in other.tracks.items():
                if track.kind == "audio" and other.id not in microphones:
                    continue  # a muted microphone that never speaks carries nothing
                participant.consumers[producer_id] = await self.pool.consume(
                    transport, producer_id)
                if self.visible:
                    async with live.lock:
                        await self.visibility.consumer_added(live, participant, producer_id)
        offer = await self.pool.create_offer(transport)
        mids = {c.mid: self.names[c.producer_id] for c in offer.consumers}
        return {"sub": str(transport), "offer": offer.offer_sdp, "mids": mids}

    async def op_shown(self) -> dict[str, list[str]]:
        """Whose camera each participant receives: the unpaused camera consumers."""
        live = self._meeting()
        out: dict[str, list[str]] = {}
        for participant in live.participants.values():
            out[participant.id] = sorted(
                self.names[pid] for pid in participant.consumers
                if (track := live.track(pid)) is not None and track.kind == "video"
                and pid not in participant.hidden)
        return out

    async def op_settled(self) -> bool:
        """Whether every page's `visible` has been applied."""
        return not self.tasks

    async def op_speakers(self) -> list[tuple[float, str | None]]:
        return list(self.speaker_log)

    async def op_placement(self) -> dict[str, Any]:
        status = self.pool.status()
        return {"pids": [w.pid for w in self.pool.workers],
                "streams": [w.streams for w in status],
                "spread": sum(1 for w in status if w.streams > 0) > 1,
                "can_spread": spreads()}

    def _sampled(self, sample: StatsSample) -> None:
        """Keep the router's latest figures, with the workers' CPU time as they arrive.

        The pool emits them every `stats_interval_ms`: a saturated worker answers a
        stats request late, but its own samples still come, each a consistent mark."""
        worker_cpu = [process_cpu_seconds(w.pid) for w in self.pool.workers]
        self.latest = {
            "t": time.monotonic(), "cpu": sum(worker_cpu), "worker_cpu": worker_cpu,
            "control_cpu": cpu_seconds(),
            "sent": sum(s.packets for s in sample.streams if s.direction == "outbound"),
            "received": sum(s.packets for s in sample.streams if s.direction == "inbound"),
            "speaker_ticks": sample.speaker.ticks,
        }
        self.samples += 1

    async def op_mark(self) -> dict[str, Any]:
        """The next sample's figures (within a stats interval)."""
        seen = self.samples
        deadline = time.monotonic() + 10 * self.settings.stats_interval_ms / 1000
        while self.samples == seen and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if self.samples == seen:
            raise RuntimeError("the pool sent no stats sample")
        return dict(self.latest)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await super().close()
