"""Tile orders when sockets are slow: however new speakers and their refreshes
overlap, the last order each page gets is the meeting's current one."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from rooms.calendar import meeting_rooms
from sfu.ids import RouterId
from signaling.accounts.accounts import AccountService
from signaling.config import Config
from signaling.ids import ParticipantId
from signaling.live import protocol as p
from signaling.live.participants import LiveMeeting, Participant, Send
from signaling.live.tile_order import TileOrdering
from signaling.live.tiles_protocol import TileOrder
from signaling.schedule.meetings import MeetingService
from signaling.store import Store

PEOPLE = ("an", "binh", "chi", "dung", "em")


async def test_overlapping_refreshes_leave_every_page_with_the_current_order(
        store: Store) -> None:
    accounts = AccountService(store, seats=10)
    for name in PEOPLE:
        accounts.create(name, name.title(), "official", f"password-{name}")
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    meeting = MeetingService(store, tz, meeting_rooms(store, Config().rooms, tz)).create(
        "Giao ban", "an", start=datetime(2030, 1, 1, 2, tzinfo=UTC), invitees=list(PEOPLE[1:]))
    live = LiveMeeting(meeting=meeting, router_id=RouterId("ro-test"))
    received: dict[str, list[list[str]]] = {name: [] for name in PEOPLE}
    rng = random.Random(11)

    def sender(name: str) -> Send:
        async def send(message: p.ServerMessage) -> None:
            await asyncio.sleep(rng.random() / 200)  # a socket that takes its time
            if isinstance(message, TileOrder):
                received[name].append(list(message.order))
        return send

    for name in PEOPLE:
        pid = ParticipantId(f"pa-{name}")
        live.participants[pid] = Participant(id=pid, meeting_id=meeting.id, username=name,
                                             display_name=name, send=sender(name),
                                             live_meeting=live)
    tiles = TileOrdering(per_page=2)
    await tiles.refresh(live)

    async def speak(barrier: asyncio.Barrier, name: str) -> None:
        await barrier.wait()
        await tiles.spoke(live, f"pa-{name}")

    for round_ in range(20):
        barrier = asyncio.Barrier(3)
        await asyncio.gather(*(speak(barrier, name) for name in rng.sample(PEOPLE, 3)))
        for name in PEOPLE:
            assert received[name][-1] == live.tile_order, (
                f"round {round_}: {name}'s page was left with an older order")
