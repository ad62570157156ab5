"""SFU worker processes: placement, load reports, and recovery from a killed worker."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import pytest

from sfu.pool import WorkerPool
from sfu.status import STATUS_FILE, read_status
from signaling.store import Store
from tests.integration.conftest import Site, wait_until
from tests.integration.live.test_meeting_media import frames_from, join_and_publish, start_meeting
from web.keys import CONFIG, LIVE_MEETINGS, RECORDINGS, SFU, STORE

REJOIN_DELAY_S = 1.0
"""What the browser waits before its first automatic rejoin (BACKOFF_FIRST_MS)."""


def pool_of(site: Site) -> WorkerPool:
    pool = site.server.app[SFU]
    assert isinstance(pool, WorkerPool)
    return pool


def open_attendance(store: Store, meeting_id: str) -> list[str]:
    rows = store.fetch_all("SELECT participant_id FROM attendance "
                       "WHERE meeting_id = ? AND left_at IS NULL", (meeting_id,))
    return sorted(str(r["participant_id"]) for r in rows)


async def test_meetings_go_to_the_least_loaded_worker(workers_site: Site) -> None:
    site = workers_site
    first, first_clients = await start_meeting(site, ["an", "binh"])
    second, second_clients = await start_meeting(site, ["chi", "dung"])
    clients = first_clients + second_clients
    try:
        for c in first_clients:
            await join_and_publish(c, first)
        def first_worker_reported() -> bool:
            busy = [w for w in pool_of(site).workers if w.routers]
            return len(busy) == 1 and busy[0].load is not None and busy[0].load.streams > 0

        await wait_until(first_worker_reported, 10, "the first worker to report its streams")
        for c in second_clients:
            await join_and_publish(c, second)
        live = site.server.app[LIVE_MEETINGS].live
        pool = pool_of(site)
        owners = {pool._owner[live[m].router_id].index for m in (first, second)}
        assert owners == {0, 1}, "the second meeting must go to the idle worker"
        # Load reports reach the status file that `giaoban sfu status` reads.
        path = site.server.app[CONFIG].data_path / "run" / STATUS_FILE
        def both_workers_reported() -> bool:
            if not path.exists():
                return False
            workers = read_status(path)["workers"]
            return [w["worker"] for w in workers] == [0, 1] and all(
                w["streams"] > 0 and w["packets_per_s"] > 0 for w in workers)

        await wait_until(both_workers_reported, 10, "both workers' load in the status file")
        workers = read_status(path)["workers"]
        assert [w["worker"] for w in workers] == [0, 1]
        assert all(w["alive"] and w["packets_per_s"] > 0 and w["pid"] > 0 for w in workers)
    finally:
        for c in clients:
            await c.close()


@pytest.mark.parametrize("policy", ["automatic", "on_demand"])
async def test_a_killed_worker_is_restarted_and_its_meeting_recovers(workers_site: Site,
                                                                      policy: str) -> None:
    site = workers_site
    names = ["an", "binh"]
    meeting_id, clients = await start_meeting(site, names)
    site.server.app[RECORDINGS].set_policy(meeting_id, policy)
    store = site.server.app[STORE]
    replacements = []
    try:
        for c in clients:
            await join_and_publish(c, meeting_id)
        await wait_until(lambda: all(frames_from(c, o) >= 15 for c in clients for o in names
                                     if o != c.username), 20, "media before the kill")
        if policy == "on_demand":  # the organizer starts it
            mark = len(clients[0].messages)
            await clients[0].send({"type": "recording", "action": "start"})
            await wait_until(lambda: any(m["type"] == "recording_state" and m.get("recording")
                                         for m in clients[0].messages[mark:]), 5,
                             "the recording to start")
        old_participants = sorted(str(c.participant_id) for c in clients)
        assert open_attendance(store, meeting_id) == old_participants
        pool = pool_of(site)
        before = site.server.app[LIVE_MEETINGS].live[meeting_id]
        assert before.recording
        router_id = before.router_id
        worker = pool._owner[router_id]
        killed_pid = worker.pid

        os.kill(killed_pid, signal.SIGKILL)
        killed_at = time.monotonic()

        # Each participant is told to join again by itself, as the browser does.
        for c in clients:
            error = await c.expect("error", timeout=5)
            assert error["code"] == "media_lost" and error["extra"] == {"rejoin": True}
        await asyncio.sleep(REJOIN_DELAY_S)
        for c in clients:
            await c.close()
        replacements = [site.client(c.username, c.token, c.index) for c in clients]
        for r in replacements:
            r.subscriber.expected_index.update({n: i for i, n in enumerate(names)})
            await join_and_publish(r, meeting_id)
        await wait_until(lambda: all(frames_from(r, o) >= 5 for r in replacements
                                     for o in names if o != r.username),
                         5 - (time.monotonic() - killed_at), "media again within 5 s")
        for r in replacements:
            for other in names:
                if other != r.username:
                    assert set(r.subscriber.video[other].indexes) == {names.index(other)}

        # Recording goes on in the meeting's new live meeting, on a live worker.
        after = site.server.app[LIVE_MEETINGS].live[meeting_id]
        assert after is not before and after.recording
        assert before.recording_reason == "interrupted"
        # The supervisor started the worker again.
        await wait_until(lambda: worker.alive and worker.pid != killed_pid, 10,
                         "the killed worker to be restarted")
        assert worker.restarts == 1
        # No phantoms: the old participants' attendance is closed, the new ones are open.
        assert open_attendance(store, meeting_id) == sorted(
            str(r.participant_id) for r in replacements)
        rows = store.fetch_all("SELECT participant_id FROM attendance WHERE meeting_id = ? "
                           "AND left_at IS NOT NULL", (meeting_id,))
        assert sorted(str(r["participant_id"]) for r in rows) == old_participants
        print(json.dumps({"media_again_after_s": round(time.monotonic() - killed_at, 2)}))
    finally:
        for c in clients + replacements:
            await c.close()


async def test_people_joining_at_once_meet_in_one_live_meeting(workers_site: Site) -> None:
    site = workers_site
    meeting_id, clients = await start_meeting(site, ["an", "binh", "chi"])
    try:
        for c in clients:
            await c.connect()
        # Creating the router takes a round trip to a worker; nobody may start another.
        joined = await asyncio.gather(*(c.join(meeting_id) for c in clients))
        live_meeting = site.server.app[LIVE_MEETINGS].live[meeting_id]
        assert sorted(live_meeting.participants) == sorted(j["participant_id"] for j in joined)
        assert pool_of(site)._owner[live_meeting.router_id].routers == {live_meeting.router_id}
        routers = {w.index: len(w.routers) for w in pool_of(site).workers}
        assert sum(routers.values()) == 1, routers
    finally:
        for c in clients:
            await c.close()
