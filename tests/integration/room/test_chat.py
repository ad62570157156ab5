"""Chat through the real /ws: everyone sees one order, it is all in the database and
still there after a restart; bad chat input gets its clear error and the meeting goes on."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sfu.config import SfuSettings
from signaling.live.chat import ChatStore
from tests.integration.client import MeetingClient
from tests.integration.conftest import Site, StartSite, site_config, wait_until
from web.keys import SESSIONS, STORE

PEERS = ("an", "binh", "chi", "dung", "giang")
EACH = 10


def chat_lines(client: MeetingClient) -> list[dict[str, Any]]:
    return [m["message"] for m in client.messages if m["type"] == "chat_message"]


async def joined_clients(site: Site, names: tuple[str, ...]) -> tuple[str, list[MeetingClient]]:
    tokens = {name: site.account(name) for name in names}
    meeting = site.meeting(names[0], list(names[1:]))
    clients = [site.client(name, tokens[name], i) for i, name in enumerate(names)]
    for client in clients:
        await client.connect()
        await client.join(meeting)
    return meeting, clients


async def test_fifty_messages_from_five_peers_arrive_everywhere_in_one_order_and_persist(
    tmp_path: Path, start_site: StartSite,
) -> None:
    config = site_config(tmp_path, SfuSettings(announced_addresses=["127.0.0.1"],
                                               in_process=True))
    site = await start_site(config)
    meeting, clients = await joined_clients(site, PEERS)
    barrier = asyncio.Barrier(len(clients))

    async def talk(client: MeetingClient) -> None:
        await barrier.wait()
        for n in range(EACH):
            await client.send({"type": "chat", "text": f"{client.username} says {n}"})
            await asyncio.sleep(0.4)  # within the chat rate (3 a second)

    try:
        await asyncio.gather(*(talk(c) for c in clients))
        total = len(PEERS) * EACH
        await wait_until(lambda: all(len(chat_lines(c)) == total for c in clients), 20,
                         "every message at every peer")
        orders = [[line["id"] for line in chat_lines(c)] for c in clients]
        assert all(order == orders[0] for order in orders)
        assert orders[0] == sorted(orders[0]) and len(set(orders[0])) == total
        for client in clients:
            assert client.errors == [], client.errors
            mine = [line["text"] for line in chat_lines(client)
                    if line["author"] == client.username]
            assert mine == [f"{client.username} says {n}" for n in range(EACH)]
    finally:
        for client in clients:
            await client.close()
    await site.server.close()

    # Restarted on the same data: every message is there, and a late joiner gets them.
    again = await start_site(config)
    stored = ChatStore(again.server.app[STORE]).for_meeting(meeting)
    assert [m.id for m in stored] == orders[0]
    assert all(m.recipients == "everyone" and not m.author_guest for m in stored)
    assert {m.author_username for m in stored} == set(PEERS)
    session = again.server.app[SESSIONS].create("binh")
    late = again.client("binh", str(session.token), 9)
    try:
        await late.connect()
        await late.join(meeting)
        history = await late.expect("chat_history")
        assert [line["id"] for line in history["messages"]] == orders[0]
        assert history["messages"][0]["text"].endswith("says 0")
    finally:
        await late.close()


async def test_bad_chat_input_gets_a_clear_error_and_the_meeting_goes_on(site: Site) -> None:
    meeting, (an, binh) = await joined_clients(site, ("an", "binh"))
    store = ChatStore(site.server.app[STORE])
    try:
        await an.send({"type": "chat", "text": "x" * 2001})
        error = await an.expect("error")
        assert (error["code"], error["request"], error["extra"]["rule"]) == (
            "chat_refused", "chat", "chat_too_long")
        assert "2000" in error["detail"]
        await an.send({"type": "chat", "text": "   \n "})
        await wait_until(lambda: len(an.errors) == 2, 10, "the empty message refused")
        assert an.errors[1]["extra"]["rule"] == "chat_empty"
        await an.send({"type": "chat", "text": "hello", "to": "nobody"})
        await wait_until(lambda: len(an.errors) == 3, 10, "a bad recipient refused")
        assert an.errors[2]["code"] == "invalid_message"
        assert store.for_meeting(meeting) == []

        # Too fast: the first few go through, the rest are refused, none dropped silently.
        for n in range(12):
            await an.send({"type": "chat", "text": f"fast {n}"})
        await wait_until(lambda: len(chat_lines(an)) + len(an.errors) - 3 == 12, 10,
                         "an answer to every message")
        refused = [e for e in an.errors[3:] if e["extra"].get("rule") == "chat_rate"]
        sent = chat_lines(an)
        assert refused and sent and len(refused) + len(sent) == 12
        assert "too fast" in refused[0]["detail"]
        assert [m.body for m in store.for_meeting(meeting)] == [line["text"] for line in sent]
        await wait_until(lambda: len(chat_lines(binh)) == len(sent), 10, "binh hears them")

        # The meeting goes on: binh still chats, and an does once the rate allows.
        await binh.send({"type": "chat", "text": "still here"})
        await wait_until(lambda: chat_lines(an)[-1]["text"] == "still here", 10, "binh's")
        assert binh.errors == []
    finally:
        await an.close()
        await binh.close()


async def test_private_messages_reach_only_the_hosts_and_the_author(site: Site) -> None:
    meeting, (organizer, an, binh) = await joined_clients(site, ("chu-tri", "an", "binh"))
    try:
        await an.send({"type": "chat", "text": "for the chair", "to": "hosts"})
        await wait_until(lambda: len(chat_lines(organizer)) == 1 and len(chat_lines(an)) == 1,
                         10, "the private message at the host and its author")
        await binh.send({"type": "chat", "text": "to all"})
        await wait_until(lambda: len(chat_lines(organizer)) == 2, 10, "the public one")
        assert [line["text"] for line in chat_lines(binh)] == ["to all"]
        assert chat_lines(organizer)[0]["to"] == "hosts"
    finally:
        for client in (organizer, an, binh):
            await client.close()
