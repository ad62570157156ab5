"""Visibility drives forwarding: real aiortc peers, more of them than a page holds.

Each peer pages as the meeting page does (tests/integration/paging.py). What each one
receives is checked twice: by the SFU's own per-consumer counters, and at the peer by
decoding each publisher's own pattern.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sfu.api import StatsSample
from sfu.config import SfuSettings
from signaling.config import MeetingSettings
from signaling.ids import MeetingId
from tests.integration.conftest import Site, StartSite, site_config, wait_until
from tests.integration.paging import PagingClient
from tests.integration.peers import Publisher
from web.keys import LIVE_MEETINGS, SFU

PEERS = 5
PER_PAGE = 2
PLI_MIN_INTERVAL_MS = 300
NAMES = [f"u{i:02d}" for i in range(PEERS)]


async def start(tmp_path: Path, start_site: StartSite) -> tuple[Site, str, list[PagingClient]]:
    site = await start_site(site_config(
        tmp_path, SfuSettings(announced_addresses=["127.0.0.1"], workers=1,
                              pli_min_interval_ms=PLI_MIN_INTERVAL_MS,
                              consent_timeout_seconds=120),
        meetings=MeetingSettings(tiles_per_page=PER_PAGE)))
    tokens = {name: site.account(name) for name in NAMES}
    meeting_id = site.meeting(NAMES[0], NAMES[1:])
    clients = [PagingClient(site.base_url, tokens[name], name, i,
                            Publisher(index=i, silent=True, fps=10, small=True))
               for i, name in enumerate(NAMES)]
    for client in clients:
        client.subscriber.expected_index.update({n: i % 8 for i, n in enumerate(NAMES)})
    return site, meeting_id, clients


def frames(client: PagingClient, username: str) -> int:
    video = client.subscriber.video.get(username)
    return video.frames if video else 0


async def sample(site: Site, meeting_id: str) -> StatsSample:
    live_meeting = site.server.app[LIVE_MEETINGS].live[MeetingId(meeting_id)]
    return await site.server.app[SFU].stats(live_meeting.router_id)


def video_sent(site: Site, meeting_id: str, stats: StatsSample,
               client: PagingClient) -> dict[str, int]:
    """Video packets the SFU forwarded to `client`, by publisher username."""
    live_meeting = site.server.app[LIVE_MEETINGS].live[MeetingId(meeting_id)]
    me = live_meeting.participants[client.participant_id]  # type: ignore[index]
    by_consumer = {s.stream_id: s.packets for s in stats.streams
                   if s.direction == "outbound" and s.kind == "video"}
    sent: dict[str, int] = {}
    for producer_id, consumer_id in me.consumers.items():
        track = live_meeting.track(producer_id)
        if track is not None and track.kind == "video" and consumer_id in by_consumer:
            sent[track.username] = by_consumer[consumer_id]
    return sent


def keyframe_requests(stats: StatsSample) -> dict[str, int]:
    """Keyframe requests the SFU sent each publisher's camera, by producer id."""
    return {s.producer_id: s.plis for s in stats.streams
            if s.direction == "inbound" and s.kind == "video"}


async def only_shown_are_sent(site: Site, meeting_id: str, clients: list[PagingClient]) -> None:
    """Over the next 60 packets of each shown camera, no hidden camera sends one."""
    before = await sample(site, meeting_id)
    sent_before = {c.username: video_sent(site, meeting_id, before, c) for c in clients}

    def grown(stats: StatsSample) -> bool:
        return all(video_sent(site, meeting_id, stats, c).get(name, 0)
                   >= sent_before[c.username].get(name, 0) + 60
                   for c in clients for name in c.shown())

    deadline = time.monotonic() + 30
    while not grown(after := await sample(site, meeting_id)):
        assert time.monotonic() < deadline, "shown cameras stopped being forwarded"
        await asyncio.sleep(0.2)
    for c in clients:
        now = video_sent(site, meeting_id, after, c)
        hidden = set(now) - set(c.shown())
        assert len(hidden) == PEERS - 1 - len(c.shown())
        for name in hidden:
            assert now[name] == sent_before[c.username][name], (
                f"{c.username} was sent {name}'s camera, which it does not show")


async def decodes(clients: list[PagingClient], what: str, more: int = 4) -> None:
    """Every client decodes `more` further frames of each camera it shows, each
    publisher's own pattern."""
    start = {c.username: {n: frames(c, n) for n in c.shown()} for c in clients}
    await wait_until(lambda: all(frames(c, n) >= start[c.username][n] + more
                                 for c in clients for n in c.shown()), 60, what)
    for c in clients:
        for name in c.shown():
            assert set(c.subscriber.video[name].indexes[-more:]) == {NAMES.index(name) % 8}


async def test_each_peer_receives_only_the_cameras_it_shows(
        tmp_path: Path, start_site: StartSite) -> None:
    site, meeting_id, clients = await start(tmp_path, start_site)
    try:
        for client in clients:
            await client.connect()
            await client.join(meeting_id)
            await client.publish()
        await wait_until(lambda: all(len(c.order) == PEERS for c in clients), 30,
                         "every page to have the whole tile order")
        for c in clients:
            assert len(c.shown()) == PER_PAGE
        await decodes(clients, "each peer decoding the cameras it shows")
        await only_shown_are_sent(site, meeting_id, clients)

        # One peer pages on: it decodes the new page's cameras, and the old stop.
        pager = clients[0]
        old = pager.shown()
        await pager.show(1)
        new = pager.shown()
        assert not set(old) & set(new)
        await decodes([pager], "the next page's cameras after paging")
        await only_shown_are_sent(site, meeting_id, [pager])
        stopped = {n: frames(pager, n) for n in old}
        await asyncio.sleep(1.0)
        assert {n: frames(pager, n) for n in old} == stopped, "an old page's camera still plays"

        # Paging through everyone, fast: keyframe requests per publisher stay within
        # the coalescing window (at most one per PLI_MIN_INTERVAL_MS, plus the first).
        before, began = keyframe_requests(await sample(site, meeting_id)), time.monotonic()
        for step in range(45):
            await pager.show(step % pager.pages())
            await asyncio.sleep(0.05)
        await pager.show(0)
        after, took = keyframe_requests(await sample(site, meeting_id)), time.monotonic() - began
        allowed = int(took * 1000 / PLI_MIN_INTERVAL_MS) + 1
        for producer_id, count in after.items():
            assert count - before.get(producer_id, 0) <= allowed, (
                f"{count - before.get(producer_id, 0)} keyframe requests to {producer_id} "
                f"in {took:.1f}s (at most {allowed})")
        assert sum(after.values()) > sum(before.values()), "paging asked for no keyframe"
        await decodes([pager], "the first page's cameras again")

        # Someone on the last page speaks: they move onto everyone's first page.
        speaker = next(c for c in clients if c.participant_id == clients[1].order[-1])
        speaker.publisher.tone.amplitude = 8000
        listeners = [c for c in clients if c is not speaker]
        await wait_until(lambda: all(speaker.username in c.shown() for c in listeners), 40,
                         "the speaker on every first page")
        await decodes(listeners, "the speaker's camera on every first page")
        await only_shown_are_sent(site, meeting_id, clients)
        for c in clients:
            assert c.errors == []
    finally:
        for client in clients:
            await client.close()
