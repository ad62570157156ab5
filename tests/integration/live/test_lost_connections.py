"""A media connection that ends without anyone leaving: its participant is told to
rejoin and does, and nobody else notices; a newcomer publishing meanwhile is served."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import aioice.ice
import pytest

from sfu import aiortc_adapter as adapter
from sfu.config import SfuSettings
from sfu.engine import Engine
from sfu.pool import WorkerPool
from signaling.live.participants import LiveMeeting
from signaling.store import Store
from tests.integration.client import MeetingClient
from tests.integration.conftest import Site, StartSite, site_config, wait_until
from tests.integration.live.test_meeting_media import frames_from, join_and_publish, start_meeting
from web.keys import LIVE_MEETINGS, SFU, STORE

CONSENT_S = 8
"""The consent timeout of the stalled worker and of its peers."""

CALM_CONSENT_S = 120
"""Elsewhere: a loaded test machine answering consent checks late must not end a
connection these tests did not break."""

NAMES = ["an", "binh", "chi"]


@pytest.fixture
def short_consent() -> Iterator[None]:
    """This process's ICE connections (the test peers, and an in-process SFU) give up
    on a silent other end after about CONSENT_S."""
    before = aioice.ice.CONSENT_INTERVAL, aioice.ice.CONSENT_FAILURES
    adapter.use_consent_timeout(CONSENT_S)
    yield
    aioice.ice.CONSENT_INTERVAL, aioice.ice.CONSENT_FAILURES = before


@pytest.fixture
def loopback_peers() -> Iterator[None]:
    """This process's peers gather on 127.0.0.1 only, like the workers they talk to, so
    each side's consent checks reach the other (an in-process SFU pins this itself)."""
    before = aioice.ice.get_host_addresses
    adapter.use_host_addresses(["127.0.0.1"])
    yield
    aioice.ice.get_host_addresses = before


@pytest.fixture
async def lossy_site(tmp_path: Path, start_site: StartSite) -> Site:
    return await start_site(site_config(tmp_path, SfuSettings(
            announced_addresses=["127.0.0.1"], in_process=True,
            consent_timeout_seconds=CALM_CONSENT_S)))


@pytest.fixture
async def one_worker_site(tmp_path: Path, loopback_peers: None, start_site: StartSite) -> Site:
    return await start_site(site_config(tmp_path, SfuSettings(
            announced_addresses=["127.0.0.1"], workers=1,
            consent_timeout_seconds=CALM_CONSENT_S)))


@pytest.fixture
async def stalling_site(tmp_path: Path, short_consent: None,
                        loopback_peers: None, start_site: StartSite) -> Site:
    return await start_site(site_config(tmp_path, SfuSettings(
            announced_addresses=["127.0.0.1"], workers=1,
            consent_timeout_seconds=CONSENT_S)))


def open_attendance(store: Store, meeting_id: str) -> list[str]:
    rows = store.fetch_all("SELECT participant_id FROM attendance "
                           "WHERE meeting_id = ? AND left_at IS NULL", (meeting_id,))
    return sorted(str(r["participant_id"]) for r in rows)


def closed_attendance(store: Store, meeting_id: str) -> list[str]:
    rows = store.fetch_all("SELECT participant_id FROM attendance "
                           "WHERE meeting_id = ? AND left_at IS NOT NULL", (meeting_id,))
    return sorted(str(r["participant_id"]) for r in rows)


def everyone_decodes(clients: list[MeetingClient], frames: dict[tuple[str, str], int],
                     more: int) -> bool:
    """Each client decoded `more` frames of every other client past `frames`."""
    return all(frames_from(c, o.username) >= frames.get((c.username, o.username), 0) + more
               for c in clients for o in clients if o is not c)


async def expect_media_lost(client: MeetingClient, after: int) -> None:
    error = await client.expect("error", timeout=3 * CONSENT_S + 5, after=after)
    assert error["code"] == "media_lost" and error["extra"] == {"rejoin": True}, error


async def rejoin(site: Site, old: MeetingClient, meeting_id: str) -> MeetingClient:
    """What the page does on media_lost: a new socket and new peers, same person."""
    await old.close()
    new = site.client(old.username, old.token, old.index)
    new.subscriber.expected_index.update({n: i for i, n in enumerate(NAMES + ["dung"])})
    await join_and_publish(new, meeting_id)
    return new


async def publish_while_a_subscriber_breaks(site: Site, live: LiveMeeting,
                                            newcomer: MeetingClient, break_it, gone) -> None:
    """The newcomer's publish waits for the meeting while a subscriber's transport
    breaks and the SFU forgets it; the publish then runs before that subscriber is
    taken out, as on a busy server."""
    async with live.lock:
        sdp = await newcomer.publisher.offer()
        mark = len(newcomer.messages)
        await newcomer.send({"type": "publish", "sdp": sdp,
                             "tracks": newcomer.publisher.tracks()})
        # The publish handler is queued on the meeting's lock before the break.
        await wait_until(lambda: len(getattr(live.lock, "_waiters", None) or ()) >= 1, 10,
                         "the publish to wait for the meeting")
        await break_it()
        await wait_until(gone, 3 * CONSENT_S + 5, "the SFU to forget the broken transport")
    published = await newcomer.expect("published", after=mark, timeout=15)
    await newcomer.publisher.accept(published["sdp"])
    assert [e for e in newcomer.errors] == [], newcomer.errors


async def scenario(site: Site, break_it_for, gone_for) -> None:
    meeting_id, invited = await start_meeting(site, NAMES + ["dung"])
    clients, newcomer = invited[:3], invited[3]
    store = site.server.app[STORE]
    everyone: list[MeetingClient] = list(clients)
    try:
        for c in clients:
            await join_and_publish(c, meeting_id)
        await wait_until(lambda: everyone_decodes(clients, {}, 15), 20, "media before")
        an, binh, chi = clients
        live = site.server.app[LIVE_MEETINGS].live[meeting_id]
        broken = live.participants[binh.participant_id]  # type: ignore[index]
        old_binh = str(binh.participant_id)
        mark = len(binh.messages)
        await newcomer.connect()
        await newcomer.join(meeting_id)
        everyone.append(newcomer)

        await publish_while_a_subscriber_breaks(
            site, live, newcomer, break_it_for(site, live, binh, broken),
            gone_for(site, broken))

        # Everyone but the broken subscriber decodes the newcomer at once.
        await wait_until(lambda: frames_from(an, "dung") >= 10 and frames_from(chi, "dung") >= 10,
                         15, "the others to decode the newcomer")
        # The broken subscriber is told to rejoin, and is taken out meanwhile.
        await expect_media_lost(binh, mark)
        await wait_until(lambda: old_binh in closed_attendance(store, meeting_id), 10,
                         "the lost participant's attendance to close")
        others = {(c.username, o): frames_from(c, o) for c in (an, chi, newcomer)
                  for o in ("an", "chi", "dung") if o != c.username}
        new_binh = await rejoin(site, binh, meeting_id)
        everyone[1] = new_binh
        current = [an, new_binh, chi, newcomer]
        try:
            await wait_until(lambda: everyone_decodes(current, others, 10), 60,
                             "everyone to decode everyone after the rejoin")
        except AssertionError:
            raise AssertionError({(c.username, o.username): frames_from(c, o.username)
                                  for c in current for o in current if o is not c}) from None
        for c in (an, chi, newcomer):
            assert [e for e in c.errors] == [], (c.username, c.errors)
            assert set(c.subscriber.video["binh"].indexes) == {1}
        assert set(new_binh.subscriber.video["dung"].indexes) == {3}
        # Attendance: the lost stay is closed, the rejoined one open, nobody else moved.
        assert closed_attendance(store, meeting_id) == [old_binh]
        assert open_attendance(store, meeting_id) == sorted(
            str(c.participant_id) for c in current)
        assert len(site.server.app[LIVE_MEETINGS].live[meeting_id].participants) == 4
    finally:
        for c in everyone:
            await c.close()


def stop_sfu_ice(site: Site, live: LiveMeeting, client: MeetingClient, broken):
    """Close the participant's subscribe ICE transport inside the in-process SFU."""
    async def run() -> None:
        engine = site.server.app[SFU]
        assert isinstance(engine, Engine)
        transport = engine.routers[live.router_id].transports[broken.subscribe_transport]
        await transport.pc.getTransceivers()[0].sender.transport.transport.stop()
    return run


def engine_forgot(site: Site, broken):
    engine = site.server.app[SFU]
    assert isinstance(engine, Engine)
    return lambda: ("transport", broken.subscribe_transport) not in engine._directory


def close_peer(site: Site, live: LiveMeeting, client: MeetingClient, broken):
    """The subscriber's own connection ends (DTLS says goodbye) while its page stays:
    the worker's transport closes by itself, unasked."""
    async def run() -> None:
        await client.subscriber.pc.close()
    return run


def pool_forgot(site: Site, broken):
    pool = site.server.app[SFU]
    assert isinstance(pool, WorkerPool)
    return lambda: broken.subscribe_transport not in pool._owner


async def test_a_transport_closed_in_the_sfu_rejoins_and_spares_the_others(
        lossy_site: Site) -> None:
    await scenario(lossy_site, stop_sfu_ice, engine_forgot)


async def test_a_transport_the_worker_closes_by_itself_rejoins_and_spares_the_others(
        one_worker_site: Site) -> None:
    await scenario(one_worker_site, close_peer, pool_forgot)


async def test_a_stalled_worker_loses_its_participants_who_rejoin(
        stalling_site: Site) -> None:
    site = stalling_site
    names = NAMES[:2]
    meeting_id, clients = await start_meeting(site, names)
    store = site.server.app[STORE]
    replacements: list[MeetingClient] = []
    pool = site.server.app[SFU]
    assert isinstance(pool, WorkerPool)
    pid = pool.workers[0].pid
    try:
        for c in clients:
            await join_and_publish(c, meeting_id)
        await wait_until(lambda: everyone_decodes(clients, {}, 15), 20, "media before")
        old = sorted(str(c.participant_id) for c in clients)
        os.kill(pid, signal.SIGSTOP)
        try:
            # The peers' consent checks go unanswered: their connections close.
            await wait_until(lambda: all(c.subscriber.pc.connectionState == "closed"
                                         for c in clients), 3 * CONSENT_S + 5,
                             "the peers to give up on the stopped worker")
        finally:
            os.kill(pid, signal.SIGCONT)
        # Each peer rejoins once its connections are gone, as the page does when a
        # connection fails; the server takes the old participant out.
        for c in clients:
            replacements.append(await rejoin(site, c, meeting_id))
        await wait_until(lambda: closed_attendance(store, meeting_id) == old, 30,
                         "the lost stays to close")
        await wait_until(lambda: everyone_decodes(replacements, {}, 15), 20,
                         "media again after the rejoin")
        assert pool.workers[0].pid == pid and pool.workers[0].restarts == 0
        assert open_attendance(store, meeting_id) == sorted(
            str(r.participant_id) for r in replacements)
        assert closed_attendance(store, meeting_id) == old
        live = site.server.app[LIVE_MEETINGS].live[meeting_id]
        assert sorted(live.participants) == sorted(str(r.participant_id) for r in replacements)
    finally:
        for c in clients + replacements:
            await c.close()
