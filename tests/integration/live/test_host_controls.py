"""Host controls through the real /ws and the real SFU, with real aiortc peers: what a
host does reaches the media (the SFU's own counters) and the pages, and only a host
can do it."""

from __future__ import annotations

from tests.integration.conftest import Site, wait_until
from tests.integration.live.hosts_helpers import (
    chaired_meeting,
    flowing,
    paused,
    producer_of,
    reply_to,
    signed_in,
    still,
)
from tests.integration.live.test_meeting_media import audio_from


async def test_a_host_mutes_a_talking_participant_and_nobody_hears_them(site: Site) -> None:
    meeting, clients = await chaired_meeting(site, "minh", ["lan", "hoa"])
    host, lan, hoa = clients
    try:
        mic = producer_of(lan, "audio")
        await flowing(site, meeting, mic, "lan's voice to reach the others")
        await wait_until(lambda: audio_from(hoa, "lan") > 20, 10, "hoa to hear lan")
        mark = len(lan.messages)
        await host.send({"type": "mute_participant", "participant_id": lan.participant_id})
        action = await lan.expect("host_action", after=mark)
        assert action == {"type": "host_action", "action": "muted", "by": "Minh"}
        changed = await hoa.expect("mute_changed", after=0)
        assert (changed["participant_id"], changed["kind"], changed["muted"]) == (
            lan.participant_id, "audio", True)
        # The producer is paused before lan's page is told: from then on nothing of it
        # is forwarded to anyone.
        assert await paused(site, meeting, mic)
        await still(site, meeting, mic, "lan's audio forwarded after a host muted lan")
        # lan cannot unmute until a host asks.
        refused = await reply_to(lan, {"type": "mute", "kind": "audio", "muted": False})
        assert refused["code"] == "muted_by_host", refused
        await still(site, meeting, mic, "lan unmuted against the host")
        assert host.errors == [] and hoa.errors == []
        # Joining again (a reload) keeps the host's mute.
        again = signed_in(site, "lan", 1)
        clients.append(again)
        await again.connect()
        joined = await again.join(meeting)
        assert (joined["mic_off_on_entry"], joined["audio_held"]) == (True, True)
        refused = await reply_to(again, {"type": "mute", "kind": "audio", "muted": False})
        assert refused["code"] == "muted_by_host", refused
    finally:
        for client in clients:
            await client.close()


async def test_asking_to_unmute_is_only_a_request(site: Site) -> None:
    meeting, clients = await chaired_meeting(site, "minh", ["lan"])
    host, lan = clients
    try:
        mic = producer_of(lan, "audio")
        await host.send({"type": "mute_participant", "participant_id": lan.participant_id})
        await lan.expect("host_action")
        mark = len(lan.messages)
        await host.send({"type": "ask_unmute", "participant_id": lan.participant_id})
        asked = await lan.expect("host_action", after=mark)
        assert asked["action"] == "unmute_requested"
        await still(site, meeting, mic, "asking to unmute unmuted lan")
        assert await paused(site, meeting, mic)
        # Declined: still muted, and the host is told.
        mark = len(host.messages)
        await lan.send({"type": "unmute_answer", "accepted": False})
        answer = await host.expect("unmute_answered", after=mark)
        assert answer == {"type": "unmute_answered", "participant_id": lan.participant_id,
                          "accepted": False}
        await still(site, meeting, mic, "declining unmuted lan")
        # An answer nobody asked for is refused.
        refused = await reply_to(lan, {"type": "unmute_answer", "accepted": True})
        assert refused["code"] == "bad_request", refused
        # Asked again and accepted: lan talks again.
        await host.send({"type": "ask_unmute", "participant_id": lan.participant_id})
        await lan.expect("host_action", after=len(lan.messages) - 1)
        mark = len(host.messages)
        await lan.send({"type": "unmute_answer", "accepted": True})
        assert (await host.expect("unmute_answered", after=mark))["accepted"] is True
        await flowing(site, meeting, mic, "lan's voice after accepting")
    finally:
        for client in clients:
            await client.close()


async def test_mute_all_spares_the_hosts(site: Site) -> None:
    meeting, clients = await chaired_meeting(site, "minh", ["lan", "hoa", "tuan"],
                                             cohosts=("tuan",))
    host, lan, hoa, tuan = clients
    try:
        joined = await tuan.expect("joined")
        assert joined["host"] is True and joined["owner"] is False
        for client in clients:
            await flowing(site, meeting, producer_of(client, "audio"), client.username)
        await host.send({"type": "mute_all"})
        await lan.expect("host_action")
        await hoa.expect("host_action")
        for muted in (lan, hoa):
            await still(site, meeting, producer_of(muted, "audio"), f"{muted.username} heard")
        for spared in (host, tuan):
            await flowing(site, meeting, producer_of(spared, "audio"), spared.username)
            assert not [m for m in spared.messages if m["type"] == "host_action"]
    finally:
        for client in clients:
            await client.close()
