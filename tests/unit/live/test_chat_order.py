"""Chat order when sockets are slow: every participant gets the meeting's messages in
the order the store numbered them, however their sends interleave."""

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
from signaling.live.chat import ChatStore, LiveChat
from signaling.live.participants import LiveMeeting, Participant, Send
from signaling.live.protocol_chat_lobby import ChatMessageSent
from signaling.schedule.meetings import MeetingService
from signaling.store import Store

PEOPLE = ("an", "binh", "chi", "dung")


async def test_racing_senders_reach_everyone_in_one_order(store: Store) -> None:
    accounts = AccountService(store, seats=10)
    for name in PEOPLE:
        accounts.create(name, name.title(), "official", f"password-{name}")
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    meeting = MeetingService(store, tz, meeting_rooms(store, Config().rooms, tz)).create(
        "Giao ban", "an", start=datetime(2030, 1, 1, 2, tzinfo=UTC), invitees=list(PEOPLE[1:]))
    live = LiveMeeting(meeting=meeting, router_id=RouterId("ro-test"))
    received: dict[str, list[int]] = {name: [] for name in PEOPLE}
    rng = random.Random(7)

    def sender(name: str) -> Send:
        async def send(message: p.ServerMessage) -> None:
            await asyncio.sleep(rng.random() / 200)  # a socket that takes its time
            if isinstance(message, ChatMessageSent):
                received[name].append(message.message.id)
        return send

    for name in PEOPLE:
        pid = ParticipantId(f"pa-{name}")
        live.participants[pid] = Participant(id=pid, meeting_id=meeting.id, username=name,
                                             display_name=name, send=sender(name),
                                             live_meeting=live)
    chat = LiveChat(ChatStore(store), lambda participant: False)
    barrier = asyncio.Barrier(len(PEOPLE))

    async def talk(participant: Participant) -> None:
        await barrier.wait()
        for n in range(5):
            await chat.send(participant, participant.display_name, False, "everyone", f"{n}")

    await asyncio.gather(*(talk(x) for x in list(live.participants.values())))
    stored = [m.id for m in chat.store.for_meeting(meeting.id)]
    assert len(stored) == 20
    assert all(ids == stored for ids in received.values()), received
