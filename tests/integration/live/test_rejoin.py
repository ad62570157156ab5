"""Joining again: a second join of the same person replaces the first, and a join while
the only SFU worker restarts waits for it instead of being refused."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from sfu.config import SfuSettings
from sfu.pool import WorkerPool
from tests.integration.conftest import Site, StartSite, site_config, wait_until
from tests.integration.live.test_lost_connections import closed_attendance, open_attendance
from tests.integration.live.test_meeting_media import frames_from, join_and_publish, start_meeting
from web.keys import LIVE_MEETINGS, SFU, STORE


@pytest.fixture
async def single_worker_site(tmp_path: Path, start_site: StartSite) -> Site:
    return await start_site(site_config(tmp_path, SfuSettings(announced_addresses=["127.0.0.1"],
                                                  workers=1)))


async def test_a_second_join_of_the_same_person_replaces_the_first(site: Site) -> None:
    meeting_id, (an, binh) = await start_meeting(site, ["an", "binh"])
    store = site.server.app[STORE]
    again = site.client("binh", binh.token, 1)
    again.subscriber.expected_index.update({"an": 0, "binh": 1})
    try:
        await join_and_publish(an, meeting_id)
        await join_and_publish(binh, meeting_id)
        await wait_until(lambda: frames_from(an, "binh") >= 10, 20, "binh's video at an's")
        first_id = binh.participant_id
        mark_an, mark_binh = len(an.messages), len(binh.messages)

        await join_and_publish(again, meeting_id)

        # The first page is told, in words it can show, and its socket is closed.
        error = await binh.expect("error", after=mark_binh)
        assert error["code"] == "replaced" and error["fatal"] and not error.get("extra")
        # One participant, the same one: same id, one attendance row still open.
        assert again.participant_id == first_id
        live = site.server.app[LIVE_MEETINGS].live[meeting_id]
        assert sorted(live.participants) == sorted([an.participant_id, first_id])
        assert open_attendance(store, meeting_id) == sorted([an.participant_id, first_id])
        assert closed_attendance(store, meeting_id) == []
        # The other participant sees no one leave, and decodes the new page's video.
        before = frames_from(an, "binh")
        await wait_until(lambda: frames_from(an, "binh") >= before + 15
                         and frames_from(again, "an") >= 15, 20, "media after the replacement")
        assert not any(m["type"] == "participant_left" for m in an.messages[mark_an:])
        assert an.errors == [] and again.errors == []
        assert set(again.subscriber.video["an"].indexes) == {0}
        # The old page's socket closing later takes nobody out.
        await binh.close()
        await wait_until(lambda: binh._ws is not None and binh._ws.closed, 10,
                         "the old socket to close")
        assert open_attendance(store, meeting_id) == sorted([an.participant_id, first_id])
    finally:
        for c in (an, binh, again):
            await c.close()


async def test_a_join_while_the_only_worker_restarts_waits_for_it(
        single_worker_site: Site) -> None:
    site = single_worker_site
    names = ["an", "binh"]
    meeting_id, clients = await start_meeting(site, names)
    pool = site.server.app[SFU]
    assert isinstance(pool, WorkerPool)
    worker = pool.workers[0]
    replacements = []
    try:
        for c in clients:
            await join_and_publish(c, meeting_id)
        await wait_until(lambda: all(frames_from(c, o) >= 10 for c in clients for o in names
                                     if o != c.username), 20, "media before the kill")
        replacements = [site.client(c.username, c.token, c.index) for c in clients]
        for r in replacements:
            r.subscriber.expected_index.update({n: i for i, n in enumerate(names)})
            await r.connect()
        killed = worker.pid
        os.kill(killed, signal.SIGKILL)
        assert (await clients[0].expect("error", timeout=10))["code"] == "media_lost"
        # Joining at once, while no worker runs: the join waits for the restarted one.
        assert not worker.alive, "the supervisor waits a backoff before restarting it"
        joined = await replacements[0].join(meeting_id)
        assert worker.alive and worker.pid != killed and worker.restarts == 1
        assert joined["participant_id"]
        await replacements[0].publish()
        await join_and_publish_joined(replacements[1], meeting_id)
        await wait_until(lambda: all(frames_from(r, o) >= 10 for r in replacements
                                     for o in names if o != r.username), 20, "media again")
        assert all(r.errors == [] for r in replacements)
        # Both transports and the router were lost at once: each page was told once.
        for c in clients:
            assert [e["code"] for e in c.errors] == ["media_lost"], c.errors
    finally:
        for c in clients + replacements:
            await c.close()


async def join_and_publish_joined(client, meeting_id: str) -> None:
    await client.join(meeting_id)
    await client.publish()


async def test_two_joins_of_one_person_waiting_together_leave_one_participant(
        site: Site) -> None:
    meeting_id, (an, binh) = await start_meeting(site, ["an", "binh"])
    store = site.server.app[STORE]
    first, second = binh, site.client("binh", binh.token, 1)
    try:
        await join_and_publish(an, meeting_id)
        live = site.server.app[LIVE_MEETINGS].live[meeting_id]
        await first.connect()
        await second.connect()
        async with live.lock:  # both joins queue behind the meeting, as after a stall
            await first.send({"type": "join", "meeting_id": meeting_id})
            await second.send({"type": "join", "meeting_id": meeting_id})
            await wait_until(lambda: len(getattr(live.lock, "_waiters", None) or ()) >= 2, 10,
                             "both joins to wait for the meeting")
        one, two = await first.expect("joined"), await second.expect("joined")
        assert one["participant_id"] == two["participant_id"]
        assert (await first.expect("error"))["code"] == "replaced"
        assert sorted(live.participants) == sorted([an.participant_id, one["participant_id"]])
        assert open_attendance(store, meeting_id) == sorted(
            [an.participant_id, one["participant_id"]])
    finally:
        for c in (an, first, second):
            await c.close()


async def test_a_join_whose_socket_closed_while_waiting_is_replaced_by_the_next(
        site: Site) -> None:
    meeting_id, (an, binh) = await start_meeting(site, ["an", "binh"])
    store = site.server.app[STORE]
    dead, live_page = binh, site.client("binh", binh.token, 1)
    try:
        await join_and_publish(an, meeting_id)
        live = site.server.app[LIVE_MEETINGS].live[meeting_id]
        await dead.connect()
        await live_page.connect()
        async with live.lock:  # a page gave up on a join the server had not done yet
            await dead.send({"type": "join", "meeting_id": meeting_id})
            await live_page.send({"type": "join", "meeting_id": meeting_id})
            await wait_until(lambda: len(getattr(live.lock, "_waiters", None) or ()) >= 2, 10,
                             "both joins to wait for the meeting")
            await dead.close()
        joined = await live_page.expect("joined")
        await wait_until(lambda: len(live.participants) == 2
                         and all(not p.left for p in live.participants.values()), 10,
                         "one participant each")
        assert sorted(live.participants) == sorted([an.participant_id, joined["participant_id"]])
        # One stay for binh: the dead page's join handed its row over.
        rows = store.fetch_all("SELECT participant_id, left_at FROM attendance "
                               "WHERE meeting_id = ? AND username = 'binh'", (meeting_id,))
        assert [(r["participant_id"], r["left_at"]) for r in rows] == [
            (joined["participant_id"], None)]
        assert live_page.errors == []
    finally:
        for c in (an, dead, live_page):
            await c.close()
