"""Removing a participant, ending the meeting, spotlight, stopping video, co-hosts named
live and the microphone off on entry: real server, real /ws, real aiortc peers."""

from __future__ import annotations

import json
from pathlib import Path

from sfu.config import SfuSettings
from signaling.config import MeetingSettings
from tests.integration.conftest import Site, StartSite, site_config, wait_until
from tests.integration.live.hosts_helpers import (
    chaired_meeting,
    flowing,
    forwarded,
    paused,
    producer_of,
    reply_to,
    signed_in,
    still,
)
from tests.integration.peers import Publisher
from web.keys import LIVE_MEETINGS, MEETINGS


async def test_a_removed_participant_loses_media_and_cannot_rejoin(site: Site) -> None:
    meeting, clients = await chaired_meeting(site, "minh", ["lan", "hoa"])
    host, lan, hoa = clients
    again = None
    try:
        mic = producer_of(lan, "audio")
        await flowing(site, meeting, mic, "lan's voice")
        await host.send({"type": "remove_participant", "participant_id": lan.participant_id})
        fatal = await lan.expect("error")
        assert (fatal["code"], fatal["fatal"]) == ("removed", True), fatal
        left = await hoa.expect("participant_left")
        assert left["participant_id"] == lan.participant_id
        await wait_until(lambda: lan._ws is not None and lan._ws.closed, 10,
                         "the server to close lan's socket")
        assert site.server.app[LIVE_MEETINGS].live_usernames() == {"minh", "hoa"}
        assert await forwarded(site, meeting, mic) == 0, "lan's producer is still forwarded"
        # Joining again is refused, with the reason.
        again = signed_in(site, "lan", 1)
        await again.connect()
        refused = await reply_to(again, {"type": "join", "meeting_id": meeting})
        assert refused["code"] == "removed", refused
        assert site.server.app[LIVE_MEETINGS].live_usernames() == {"minh", "hoa"}
        # The meeting goes on for the others.
        await flowing(site, meeting, producer_of(hoa, "audio"), "hoa's voice after")
        assert host.errors == [] and hoa.errors == []
    finally:
        for client in [*clients, *([again] if again else [])]:
            await client.close()


async def test_a_host_cannot_be_removed_and_a_host_ends_the_meeting(site: Site) -> None:
    meeting, clients = await chaired_meeting(site, "minh", ["lan", "tuan"], cohosts=("tuan",),
                                             media=False)
    host, lan, tuan = clients
    try:
        refused = await reply_to(lan, {"type": "end_meeting"})
        assert refused["code"] == "not_host", refused
        refused = await reply_to(tuan, {"type": "remove_participant",
                                        "participant_id": host.participant_id})
        assert refused["extra"]["rule"] == "host_not_removable", refused
        marks = [len(c.messages) for c in clients]
        await tuan.send({"type": "end_meeting"})
        for client, mark in zip(clients, marks):
            fatal = await client.expect("error", after=mark)
            assert (fatal["code"], fatal["fatal"]) == ("meeting_ended", True), fatal
        await wait_until(lambda: not site.server.app[LIVE_MEETINGS].live, 10,
                         "the meeting to close")
        # Nobody opens it again, a host neither (tests/integration/live/
        # test_meeting_end_stored.py: the stored meeting is ended).
        late = signed_in(site, "lan", 1)
        chair = signed_in(site, "minh", 0)
        for comer in (late, chair):
            await comer.connect()
            refused = await reply_to(comer, {"type": "join", "meeting_id": meeting})
            assert refused["code"] == "meeting_ended", refused
            await comer.close()
        assert site.server.app[LIVE_MEETINGS].live_usernames() == set()
    finally:
        for client in clients:
            await client.close()


async def test_stop_video_spotlight_and_cohosts_named_live(site: Site) -> None:
    tokens = {n: site.account(n) for n in ("minh", "lan", "hoa")}
    meeting = str(site.server.app[MEETINGS].create("Giao ban", "minh",
                                                   invitees=["lan", "hoa"]).id)
    host = site.client("minh", tokens["minh"], 0)
    lan = site.client("lan", tokens["lan"], 1, Publisher(index=1, screen_index=5))
    hoa = site.client("hoa", tokens["hoa"], 2)
    clients = [host, lan, hoa]
    try:
        for client in clients:
            await client.connect()
            await client.join(meeting)
        await lan.publish()
        screen = next(t["producer_id"] for m in lan.messages if m["type"] == "published"
                      for t in m["tracks"] if t["source"] == "screen")
        camera = next(t["producer_id"] for m in lan.messages if m["type"] == "published"
                      for t in m["tracks"] if t["source"] == "camera")
        # Spotlight on lan's screen for everyone, then released.
        await host.send({"type": "spotlight", "participant_id": lan.participant_id,
                         "source": "screen"})
        for client in clients:
            spot = await client.expect("spotlight")
            assert spot["spotlight"] == {"participant_id": lan.participant_id,
                                         "source": "screen"}
        refused = await reply_to(hoa, {"type": "spotlight", "participant_id": None})
        assert refused["code"] == "not_host", refused
        # Stopping the screen share closes it and releases its spotlight.
        mark = len(hoa.messages)
        await host.send({"type": "stop_video", "participant_id": lan.participant_id,
                         "source": "screen"})
        assert (await lan.expect("host_action", after=0))["action"] == "screen_stopped"
        gone = await hoa.expect("track_unpublished", after=mark)
        assert gone["producer_id"] == screen
        assert (await hoa.expect("spotlight", after=mark))["spotlight"] is None
        # Stopping the camera pauses it.
        mark = len(lan.messages)
        await host.send({"type": "stop_video", "participant_id": lan.participant_id,
                         "source": "camera"})
        assert (await lan.expect("host_action", after=mark))["action"] == "camera_stopped"
        assert await paused(site, meeting, camera)
        await still(site, meeting, camera, "lan's camera forwarded after a host stopped it")
        refused = await reply_to(host, {"type": "stop_video", "participant_id":
                                        lan.participant_id, "source": "screen"})
        assert refused["code"] == "bad_request", refused
        # The organizer names hoa co-host live: everyone is told, and hoa may now mute.
        mark = len(lan.messages)
        await host.send({"type": "make_cohost", "participant_id": hoa.participant_id,
                         "cohost": True})
        changed = await lan.expect("host_changed", after=mark)
        assert changed == {"type": "host_changed", "participant_id": hoa.participant_id,
                           "host": True}
        mark = len(lan.messages)
        await hoa.send({"type": "mute_participant", "participant_id": lan.participant_id})
        assert (await lan.expect("host_action", after=mark))["action"] == "muted"
        # A co-host does not name co-hosts.
        refused = await reply_to(hoa, {"type": "make_cohost", "participant_id":
                                       lan.participant_id, "cohost": True})
        assert refused["code"] == "not_owner", refused
        assert [e["detail"] for e in host.errors] == ["Lan is not sharing a screen"]
        assert lan.errors == []
    finally:
        for client in clients:
            await client.close()


async def test_newcomers_join_with_the_microphone_off_in_a_large_meeting(
        tmp_path: Path, start_site: StartSite) -> None:
    site = await start_site(site_config(
        tmp_path, SfuSettings(announced_addresses=["127.0.0.1"], in_process=True),
        meetings=MeetingSettings(mute_on_entry_above=2)))
    meeting, clients = await chaired_meeting(site, "minh", ["lan", "hoa"])
    host, lan, hoa = clients
    try:
        joins = [c.messages[[m["type"] for m in c.messages].index("joined")] for c in clients]
        assert [j["mic_off_on_entry"] for j in joins] == [False, False, True]
        mic = producer_of(hoa, "audio")
        assert await paused(site, meeting, mic)
        await still(site, meeting, mic, "hoa's microphone forwarded though it starts off")
        assert json.dumps(hoa.errors) == "[]"
        # Not muted by a host: hoa may turn it on.
        await hoa.send({"type": "mute", "kind": "audio", "muted": False})
        await flowing(site, meeting, mic, "hoa's voice once hoa unmutes")
        assert hoa.errors == [] and host.errors == [] and lan.errors == []
    finally:
        for client in clients:
            await client.close()
