"""Told once per loss: however many reports of one loss arrive together (each transport
closing, then the router), the participant gets one `media_lost`, even while their
socket is slow to take it; a participant who rejoins is told again at their next loss."""

from __future__ import annotations

import asyncio
import json

from signaling.ids import MeetingId, ParticipantId
from signaling.live import protocol as p
from signaling.live.background import BackgroundTasks
from signaling.live.losses import MEDIA_LOST, MediaLoss
from signaling.live.participants import Participant


class SlowSocket:
    """A socket that takes a while to accept each message, as when a large offer is
    still being compressed and written ahead of it."""

    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []

    async def send(self, message: p.ServerMessage) -> None:
        await asyncio.sleep(0.01)
        self.sent.append(json.loads(p.encode(message)))

    def media_lost(self) -> int:
        return sum(m["type"] == "error" and m["code"] == MEDIA_LOST for m in self.sent)


def participant(socket: SlowSocket, number: int) -> Participant:
    return Participant(id=ParticipantId(f"pa-{number}"), meeting_id=MeetingId("m-1"),
                       username="binh", display_name="Bình", send=socket.send)


async def test_one_loss_reported_three_times_together_is_told_once() -> None:
    tasks = BackgroundTasks()
    left: list[str] = []

    async def leave(who: Participant, reason: str) -> None:  # as Membership.leave does
        who.left = True
        left.append(who.id)

    losses = MediaLoss(tasks, leave)
    socket = SlowSocket()
    first = participant(socket, 1)
    # The worker died: both transports and the router are reported in one go.
    for detail in ("The media connection was lost.", "The media connection was lost.",
                   "The media server restarted."):
        losses.report(first, detail)
    await asyncio.wait_for(tasks.settle(), 10)
    assert socket.media_lost() == 1 and left == [first.id]
    # Reports after the participant was taken out change nothing.
    losses.report(first, "The media connection was lost.")
    await asyncio.wait_for(tasks.settle(), 10)
    assert socket.media_lost() == 1

    # The rejoined participant is a new one: their next loss is told again, once.
    again = participant(socket, 2)
    losses.report(again, "The media connection was lost.")
    losses.report(again, "The media server restarted.")
    await asyncio.wait_for(tasks.settle(), 10)
    assert socket.media_lost() == 2 and left == [first.id, again.id]
