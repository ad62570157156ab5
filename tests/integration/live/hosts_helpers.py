"""Shared set-up of the host control tests: a meeting with a host and participants who
talk through the real SFU, and the SFU's own forwarding counters."""

from __future__ import annotations

import asyncio
from typing import Any

from signaling.ids import MeetingId
from tests.integration.client import MeetingClient
from tests.integration.conftest import Site
from web.keys import LIVE_MEETINGS, MEETINGS, SESSIONS, SFU


async def chaired_meeting(site: Site, host: str, others: list[str], *,
                          cohosts: tuple[str, ...] = (),
                          media: bool = True) -> tuple[str, list[MeetingClient]]:
    """`host` organizes a meeting inviting `others` (some named co-hosts); everyone joins
    and, with `media`, publishes a talking microphone and a camera."""
    names = [host, *others]
    tokens = {name: site.account(name) for name in names}
    meeting = site.server.app[MEETINGS].create("Giao ban tuần", host, invitees=others,
                                               cohosts=cohosts)
    clients = [site.client(name, tokens[name], i) for i, name in enumerate(names)]
    for client in clients:
        await client.connect()
        await client.join(str(meeting.id))
        if media:
            await client.publish()
    return str(meeting.id), clients


def producer_of(client: MeetingClient, kind: str) -> str:
    published = [m for m in client.messages if m["type"] == "published"]
    return next(t["producer_id"] for m in published for t in m["tracks"] if t["kind"] == kind)


async def forwarded(site: Site, meeting_id: str, producer_id: str) -> int:
    """Packets of one producer the SFU has forwarded to every subscriber, by its counters."""
    live_meeting = site.server.app[LIVE_MEETINGS].live[MeetingId(meeting_id)]
    sample = await site.server.app[SFU].stats(live_meeting.router_id)
    return sum(s.packets for s in sample.streams
               if s.direction == "outbound" and s.producer_id == producer_id)


async def paused(site: Site, meeting_id: str, producer_id: str) -> bool:
    live_meeting = site.server.app[LIVE_MEETINGS].live[MeetingId(meeting_id)]
    sample = await site.server.app[SFU].stats(live_meeting.router_id)
    return any(s.paused for s in sample.streams
               if s.direction == "inbound" and s.stream_id == producer_id)


async def flowing(site: Site, meeting_id: str, producer_id: str, what: str) -> None:
    """Wait (bounded) until the SFU has forwarded more of this producer."""
    start = await forwarded(site, meeting_id, producer_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10.0
    while await forwarded(site, meeting_id, producer_id) <= start + 20:
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def still(site: Site, meeting_id: str, producer_id: str, what: str) -> None:
    """The SFU forwards nothing of this producer over the next second."""
    before = await forwarded(site, meeting_id, producer_id)
    await asyncio.sleep(1.0)
    assert await forwarded(site, meeting_id, producer_id) == before, what


async def reply_to(client: MeetingClient, message: dict[str, Any],
                   expect: str | None = None) -> dict[str, Any]:
    """Send a message and return the error answering it (or, with `expect`, the first
    message of that type after it)."""
    mark = len(client.messages)
    await client.send(message)
    if expect is not None:
        return await client.expect(expect, after=mark)
    while True:
        error = await client.expect("error", after=mark)
        if error.get("request") in (message["type"], None):  # None: it did not parse
            return error
        mark = client.messages.index(error) + 1


def signed_in(site: Site, username: str, index: int) -> MeetingClient:
    """A new client of an existing account, with a new session."""
    return site.client(username, str(site.server.app[SESSIONS].create(username).token), index)
