"""Raised hands and bad host controls through the real /ws: the queue keeps its order
under racing raises, and every control that may not be sent gets its own error while
the meeting goes on for everyone else."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.conftest import Site
from tests.integration.live.hosts_helpers import chaired_meeting, flowing, producer_of, reply_to

RACERS = 20


def queues(client: Any) -> list[list[str]]:
    return [[h["participant_id"] for h in m["queue"]] for m in client.messages
            if m["type"] == "hands"]


async def test_the_hand_queue_keeps_its_order_under_racing_raises(site: Site) -> None:
    names = [f"racer{i:02d}" for i in range(RACERS)]
    meeting, clients = await chaired_meeting(site, "chair", names, media=False)
    chair, racers = clients[0], clients[1:]
    barrier = asyncio.Barrier(RACERS)

    async def race(client: Any) -> None:
        await barrier.wait()
        await client.send({"type": "raise_hand", "raised": True})

    try:
        await asyncio.gather(*(race(c) for c in racers))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while any(len(queues(c)[-1] if queues(c) else []) < RACERS for c in clients):
            assert loop.time() < deadline, "not everyone saw every hand"
            await asyncio.sleep(0.1)
        final = queues(chair)[-1]
        assert sorted(final) == sorted(c.participant_id for c in racers)
        last = [m for m in chair.messages if m["type"] == "hands"][-1]["queue"]
        times = [h["raised_at"] for h in last]
        assert times == sorted(times), "the queue is not first raised first"
        for client in clients:
            seen = queues(client)
            assert seen[-1] == final, f"{client.username} sees another order"
            # Each queue a page receives extends the one before: no update overtakes.
            for before, after in zip(seen, seen[1:]):
                assert after[:len(before)] == before, (client.username, before, after)
        # Raising again keeps one's place and tells nobody; lowering takes one out.
        by_id = {c.participant_id: c for c in racers}
        second = by_id[final[1]]
        mark = len(chair.messages)
        await second.send({"type": "raise_hand", "raised": True})
        await second.send({"type": "raise_hand", "raised": False})
        lowered = await chair.expect("hands", after=mark)
        assert [h["participant_id"] for h in lowered["queue"]] == [final[0], *final[2:]]
        mark = len(chair.messages)
        await chair.send({"type": "lower_hand", "participant_id": final[0]})
        lowered = await chair.expect("hands", after=mark)
        assert [h["participant_id"] for h in lowered["queue"]] == final[2:]
        told = await by_id[final[0]].expect("host_action")
        assert told["action"] == "hand_lowered"
        # A hand goes with its participant.
        mark = len(chair.messages)
        await by_id[final[2]].close()
        left = await chair.expect("hands", after=mark)
        assert [h["participant_id"] for h in left["queue"]] == final[3:]
        mark = len(chair.messages)
        await chair.send({"type": "lower_all_hands"})
        assert (await chair.expect("hands", after=mark))["queue"] == []
        assert chair.errors == []
    finally:
        for client in clients:
            await client.close()


async def test_every_bad_control_gets_its_error_and_the_meeting_goes_on(site: Site) -> None:
    meeting, clients = await chaired_meeting(site, "minh", ["lan", "hoa"])
    host, lan, hoa = clients
    _, others = await chaired_meeting(site, "other-chair", ["stranger"], media=False)
    try:
        stranger = others[1].participant_id
        target = {"participant_id": hoa.participant_id}
        controls: list[dict[str, Any]] = [
            {"type": "mute_participant", **target}, {"type": "mute_all"},
            {"type": "ask_unmute", **target},
            {"type": "stop_video", **target, "source": "camera"},
            {"type": "lower_hand", **target}, {"type": "lower_all_hands"},
            {"type": "remove_participant", **target},
            {"type": "spotlight", **target, "source": "camera"},
            {"type": "end_meeting"}, {"type": "make_cohost", **target, "cohost": True},
        ]
        for control in controls:  # from someone who does not chair
            refused = await reply_to(lan, control)
            assert (refused["code"], refused["fatal"]) == ("not_host", False), refused
        for who in ("pa-nobody", stranger):  # unknown, and in another meeting
            for control in controls:
                if "participant_id" not in control:
                    continue
                refused = await reply_to(host, {**control, "participant_id": who})
                assert refused["code"] == "unknown_participant", (control, refused)
                assert refused["extra"] == {"participant_id": who}
        refused = await reply_to(host, {"type": "mute_participant"})
        assert refused["code"] == "invalid_message", refused
        refused = await reply_to(host, {"type": "stop_video", **target, "source": "mic"})
        assert refused["code"] == "invalid_message", refused
        refused = await reply_to(host, {"type": "remove_participant",
                                        "participant_id": host.participant_id})
        assert refused["code"] == "bad_request", refused
        refused = await reply_to(lan, {"type": "raise_hand", "raised": "yes"})
        assert refused["code"] == "invalid_message", refused
        # Nothing happened to anyone, and everyone still hears everyone.
        assert not [m for c in clients for m in c.messages
                    if m["type"] in ("host_action", "mute_changed", "spotlight", "hands")]
        for client in clients:
            await flowing(site, meeting, producer_of(client, "audio"), client.username)
        assert hoa.errors == []
    finally:
        for client in [*clients, *others]:
            await client.close()
