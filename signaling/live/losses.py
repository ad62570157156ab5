"""Participants whose media path is gone (a transport closed by itself, their router
lost with its worker, a transport the SFU no longer knows): each is told once to join
again by itself, then taken out, so the meeting record shows no one who is not there.

Anyone who finds a participant's media broken reports it here and goes on with the
others; nobody else's request fails because of it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from signaling.live import protocol as p
from signaling.live.background import BackgroundTasks
from signaling.live.participants import Participant

logger = logging.getLogger(__name__)

MEDIA_LOST = "media_lost"
"""Error code telling a client to join again by itself (its media path is gone)."""

Leave = Callable[[Participant, str], Awaitable[None]]


class MediaLoss:
    def __init__(self, tasks: BackgroundTasks, leave: Leave) -> None:
        self._tasks = tasks
        self._leave = leave

    def report(self, participant: Participant, detail: str) -> None:
        """Tell the participant to rejoin and take them out, in the background; a
        participant already reported (or leaving) is told nothing more."""
        if participant.left or participant.lost:
            return
        participant.lost = True
        logger.warning("participant %s (%s): media lost: %s", participant.id,
                       participant.username, detail)
        self._tasks.spawn(self._rejoin(participant, detail))

    async def _rejoin(self, participant: Participant, detail: str) -> None:
        await participant.tell(p.Error(
            code=MEDIA_LOST, title="Media connection lost", detail=detail + " Reconnecting.",
            fatal=True, extra={"rejoin": True}))
        await self._leave(participant, "media lost")
