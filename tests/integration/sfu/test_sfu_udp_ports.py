"""`[sfu] udp_ports`: every ICE socket of the SFU takes its port from the range, in every
worker process and in-process; when the range is used up, the participant who needed a
port is told why, and the others keep their media."""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

import aioice.ice
import aioice.turn
import pytest

from sfu.aiortc_adapter import AiortcIncompatible, check_compatibility
from sfu.aiortc_peer import ice_protocols
from sfu.config import SfuSettings, port_range
from sfu.engine import Engine
from sfu.pool import WorkerPool
from signaling.config import load_config
from signaling.errors import ConfigError
from tests.integration.conftest import StartSite, site_config, wait_until
from tests.integration.live.test_meeting_media import (
    frames_from,
    join_and_publish,
    start_meeting,
)
from web.keys import SFU

EPHEMERAL_FLOOR = 32768
"""Linux hands out ports from 32768 up to sockets bound to port 0 (the test's own
peers): a range below it is never taken by them."""


def free_range(size: int) -> tuple[int, int]:
    """`size` consecutive UDP ports on 127.0.0.1 that nothing holds now."""
    for _ in range(200):
        first = random.randrange(20000, EPHEMERAL_FLOOR - size)
        held: list[socket.socket] = []
        try:
            for port in range(first, first + size):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                held.append(sock)
                sock.bind(("127.0.0.1", port))
            return first, first + size - 1
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
    raise AssertionError("no free range of UDP ports")


def udp_ports_of(pid: int) -> list[int]:
    """The local ports of every UDP socket process `pid` holds (from /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    ports = []
    for table in ("udp", "udp6"):
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            if fields[9] in inodes:
                ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


async def test_every_worker_binds_its_ice_sockets_in_the_range(
        tmp_path: Path, start_site: StartSite) -> None:
    first, last = free_range(40)
    settings = SfuSettings(announced_addresses=["127.0.0.1"], workers=2,
                           udp_ports=f"{first}-{last}")
    site = await start_site(site_config(tmp_path, settings))
    pool = site.server.app[SFU]
    assert isinstance(pool, WorkerPool)
    clients = []
    try:
        # Two meetings: the second router is placed on the other, less loaded worker.
        for names in (["an", "binh"], ["chi", "dung"]):
            meeting_id, pair = await start_meeting(site, names)
            clients += pair
            for c in pair:
                await join_and_publish(c, meeting_id)

        def everyone_decodes() -> bool:
            return all(frames_from(a, b.username) >= 10 and frames_from(b, a.username) >= 10
                       for a, b in (clients[0:2], clients[2:4]))

        await wait_until(everyone_decodes, 30, "each pair to decode the other")
        per_worker = {w.pid: udp_ports_of(w.pid) for w in pool.workers}
        assert all(per_worker.values()), f"a worker holds no ICE socket: {per_worker}"
        everything = [port for ports in per_worker.values() for port in ports]
        assert len(everything) >= 8, per_worker  # publish + subscribe, 4 participants
        outside = [p for p in everything if not first <= p <= last]
        assert outside == [], f"UDP sockets outside {first}-{last}: {per_worker}"
        assert all(c.errors == [] for c in clients)
    finally:
        for c in clients:
            await c.close()


async def test_exhausted_range_refuses_the_newcomer_only(
        tmp_path: Path, start_site: StartSite) -> None:
    first, last = free_range(8)
    settings = SfuSettings(announced_addresses=["127.0.0.1"], in_process=True,
                           udp_ports=f"{first}-{last}")
    site = await start_site(site_config(tmp_path, settings))
    engine = site.server.app[SFU]
    assert isinstance(engine, Engine)
    meeting_id, clients = await start_meeting(site, ["an", "binh", "chi"])
    early, other, newcomer = clients
    blockers: list[socket.socket] = []
    try:
        for c in (early, other):
            await join_and_publish(c, meeting_id)
        await wait_until(lambda: frames_from(early, "binh") >= 10
                         and frames_from(other, "an") >= 10, 20, "the first two to meet")
        sfu_ports = [protocol.transport.get_extra_info("sockname")[1]
                     for router in engine.routers.values()
                     for transport in router.transports.values()
                     for t in transport.pc.getTransceivers()
                     for protocol in ice_protocols(t.sender.transport)]
        assert sfu_ports and all(first <= p <= last for p in sfu_ports), sfu_ports
        # Whatever the SFU does not hold, another program takes now.
        for port in range(first, last + 1):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                sock.close()
                continue
            blockers.append(sock)
        assert len(blockers) == (last - first + 1) - len(set(sfu_ports))

        await newcomer.connect()
        await newcomer.join(meeting_id)
        sdp = await newcomer.publisher.offer()
        await newcomer.send({"type": "publish", "sdp": sdp,
                             "tracks": newcomer.publisher.tracks()})
        await wait_until(lambda: any(e.get("request") == "publish"
                                     for e in newcomer.errors), 10, "the publish refusal")
        for error in newcomer.errors:  # receiving and publishing both refused
            assert error["code"] == "media_unavailable", error
            assert "'sfu.udp_ports'" in error["detail"], error
            assert f"({first}-{last})" in error["detail"], error
        assert {e.get("request") for e in newcomer.errors} == {None, "publish"}

        before = (frames_from(early, "binh"), frames_from(other, "an"))
        await wait_until(lambda: frames_from(early, "binh") >= before[0] + 30
                         and frames_from(other, "an") >= before[1] + 30, 20,
                         "the first two to keep decoding each other")
        assert early.errors == [] and other.errors == []
    finally:
        for sock in blockers:
            sock.close()
        for c in clients:
            await c.close()


async def test_the_start_up_check_covers_what_port_binding_hooks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await check_compatibility()
    monkeypatch.delattr(aioice.ice, "server_reflexive_candidate")
    monkeypatch.delattr(aioice.turn, "UDP_SOCKET_BUFFER_SIZE")
    with pytest.raises(AiortcIncompatible) as refused:
        await check_compatibility()
    assert "aioice.ice.server_reflexive_candidate is missing" in str(refused.value)
    assert "aioice.turn.UDP_SOCKET_BUFFER_SIZE is missing" in str(refused.value)


def test_udp_ports_must_be_a_range_of_unprivileged_ports() -> None:
    for bad, reason in (("40000", "is not a range"), ("40000-", "is not a range"),
                        ("a-b", "is not a range"), ("40199-40000", "between 1024 and 65535"),
                        ("80-100", "between 1024 and 65535"), ("60000-70000", "65535")):
        with pytest.raises(ConfigError, match=rf"^'sfu.udp_ports': .*{reason}"):
            load_config(None, env={"GIAOBAN_SFU_UDP_PORTS": bad})
    config = load_config(None, env={"GIAOBAN_SFU_UDP_PORTS": "40000-40199"})
    assert port_range(config.sfu.udp_ports) == (40000, 40199)
    assert port_range("") is None
