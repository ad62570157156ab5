"""A meeting spread over two SFU worker processes, through the real site: signaling
does not know where a participant's media lives, and when the worker serving only
some of the participants dies, only those are told to rejoin."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from sfu.config import SfuSettings
from sfu.pool import WorkerPool
from tests.integration.conftest import StartSite, site_config, wait_until
from tests.integration.live.test_meeting_media import frames_from, join_and_publish, start_meeting
from web.keys import LIVE_MEETINGS, SFU

REJOIN_DELAY_S = 1.0
"""What the browser waits before its first automatic rejoin (BACKOFF_FIRST_MS)."""


async def test_the_second_worker_dying_moves_only_its_participants(
        tmp_path: Path, start_site: StartSite) -> None:
    # The first two participants' consumers fill the home worker: the third, who only
    # watches (so that the test's peers stay light), is served by the other worker,
    # from pipes.
    site = await start_site(site_config(tmp_path, SfuSettings(
        announced_addresses=["127.0.0.1"], workers=2, stats_interval_ms=500,
        worker_consumer_limit=2)))
    names = ["an", "binh", "chi"]
    meeting_id, clients = await start_meeting(site, names)
    replacement = None
    try:
        for c in clients[:2]:
            await join_and_publish(c, meeting_id)
        await clients[2].connect()
        await clients[2].join(meeting_id)
        publishers = names[:2]

        def everyone_receives(minimum: int) -> bool:
            return all(frames_from(c, o) >= minimum for c in clients for o in publishers
                       if o != c.username)

        await wait_until(lambda: everyone_receives(15), 30, "everyone decoding the others")
        for c in clients:
            for i, other in enumerate(publishers):
                if other != c.username:
                    assert set(c.subscriber.video[other].indexes) == {i}
        pool = site.server.app[SFU]
        assert isinstance(pool, WorkerPool)
        live = site.server.app[LIVE_MEETINGS].live[meeting_id]
        home = pool._owner[live.router_id]
        served = {c.username: pool._owner[live.participants[c.participant_id]
                                          .subscribe_transport] for c in clients}
        assert served["an"] is home and served["binh"] is home
        other = served["chi"]
        assert other is not home
        chi = clients[2]

        os.kill(other.pid, signal.SIGKILL)
        error = await chi.expect("error", timeout=10)
        assert error["code"] == "media_lost" and error["extra"] == {"rejoin": True}
        # The others stay in the same live meeting and keep their media.
        stayed = clients[:2]
        frames = {c.username: frames_from(c, "an" if c.username != "an" else "binh")
                  for c in stayed}
        await wait_until(lambda: all(
            frames_from(c, "an" if c.username != "an" else "binh") >= frames[c.username] + 30
            for c in stayed), 10, "the home worker's participants still decoding")
        assert site.server.app[LIVE_MEETINGS].live[meeting_id] is live
        for c in stayed:
            assert not [m for m in c.messages if m["type"] == "error"], c.username

        await asyncio.sleep(REJOIN_DELAY_S)
        await chi.close()
        replacement = site.client(chi.username, chi.token, chi.index)
        replacement.subscriber.expected_index.update({n: i for i, n in enumerate(names)})
        await replacement.connect()
        await replacement.join(meeting_id)
        await wait_until(lambda: all(frames_from(replacement, o) >= 15 for o in publishers),
                         30, "the participant who moved decoding the others again")
        for i, name in enumerate(publishers):
            assert set(replacement.subscriber.video[name].indexes) == {i}
    finally:
        for c in clients + ([replacement] if replacement else []):
            await c.close()
