"""The lobby and the lock through the real /ws: locking sends an invitee to the lobby,
hosts admit or turn away, a waiter who drops keeps their place, non-hosts are refused."""

from __future__ import annotations

from tests.integration.conftest import Site, wait_until
from web.keys import LIVE_MEETINGS, LOBBY


async def test_lock_sends_an_invitee_to_the_lobby_until_a_host_admits_them(site: Site) -> None:
    tokens = {n: site.account(n) for n in ("chu-tri", "an", "binh", "chi")}
    meeting = site.meeting("chu-tri", ["an", "binh", "chi"])
    host, an, binh, chi = (site.client(n, tokens[n], i) for i, n in enumerate(tokens))
    try:
        for client in (host, an):
            await client.connect()
            await client.join(meeting)
        assert (await host.expect("lock_state"))["can_control"] is True
        assert (await an.expect("lock_state"))["can_control"] is False

        # A participant who is not a host may not lock, admit or turn away.
        for message in ({"type": "lock", "locked": True},
                        {"type": "lobby_admit", "entry_id": None}):
            await an.send(message)
            await wait_until(lambda: bool(an.errors), 10, "the refusal")
            error = an.errors.pop()
            assert (error["code"], error["extra"]["rule"]) == ("forbidden", "host_only")
        assert not site.server.app[LOBBY].locked(meeting)

        mark_an = len(an.messages)
        await host.send({"type": "lock", "locked": True})
        state = await an.expect("lock_state", after=mark_an)
        assert state["locked"] is True

        mark = len(host.messages)
        await binh.connect()
        await binh.send({"type": "join", "meeting_id": meeting})
        waiting = await binh.expect("lobby_waiting")
        assert waiting["reason"] == "locked"
        knock = await host.expect("lobby", after=mark)
        assert knock["knocked"] == "Binh"
        assert [e["entry_id"] for e in knock["entries"]] == [waiting["entry_id"]]
        live = site.server.app[LIVE_MEETINGS].live[meeting]
        assert {p.username for p in live.participants.values()} == {"chu-tri", "an"}
        assert not any(m["type"] == "joined" for m in binh.messages)
        assert not any(m["type"] == "participant_joined" for m in an.messages)

        # An unknown entry is refused; the meeting goes on.
        await host.send({"type": "lobby_admit", "entry_id": "lo-nobody"})
        await wait_until(lambda: bool(host.errors), 10, "the refusal")
        assert host.errors.pop()["code"] == "not_found"

        await host.send({"type": "lobby_admit", "entry_id": waiting["entry_id"]})
        joined = await binh.expect("joined")
        assert {p["username"] for p in joined["participants"]} == {"chu-tri", "an", "binh"}
        await binh.expect("chat_history")

        # Let in once, they are no newcomer: back after a lost connection, straight in.
        await binh.close()
        binh = site.client("binh", tokens["binh"], 2)
        await binh.connect()
        await binh.join(meeting)

        # Turned away: told so, and never in the meeting.
        await chi.connect()
        await chi.send({"type": "join", "meeting_id": meeting})
        await chi.expect("lobby_waiting")
        await host.send({"type": "lobby_deny", "entry_id": None})
        denied = await chi.expect("error")
        assert (denied["code"], denied["fatal"]) == ("lobby_denied", True)
        assert "chi" not in {p.username for p in live.participants.values()}
        assert site.server.app[LOBBY].listing(meeting).entries == []

        # Unlocked, an invitee joins straight away.
        await host.send({"type": "lock", "locked": False})
        await wait_until(lambda: not site.server.app[LOBBY].locked(meeting), 10, "unlocked")
        assert host.errors == [] and an.errors == [] and binh.errors == []
    finally:
        for client in (host, an, binh, chi):
            await client.close()


async def test_a_waiter_who_drops_keeps_their_place_for_a_while(site: Site) -> None:
    tokens = {n: site.account(n) for n in ("chu-tri", "an", "binh")}
    meeting = site.meeting("chu-tri", ["an", "binh"])
    host = site.client("chu-tri", tokens["chu-tri"], 0)
    first, second = site.client("an", tokens["an"], 1), site.client("binh", tokens["binh"], 2)
    lobby = site.server.app[LOBBY]
    again = site.client("an", tokens["an"], 3)
    try:
        await host.connect()
        await host.join(meeting)
        await host.send({"type": "lock", "locked": True})
        await wait_until(lambda: lobby.locked(meeting), 10, "locked")
        for client in (first, second):
            await client.connect()
            await client.send({"type": "join", "meeting_id": meeting})
            await client.expect("lobby_waiting")
        entry = (await first.expect("lobby_waiting"))["entry_id"]
        order = [e.entry_id for e in lobby.listing(meeting).entries]
        assert order[0] == entry and len(order) == 2

        await first.close()  # a reload, or the network gone
        held = next(e for e in lobby._of(meeting).entries.values() if e.key == "an")
        await wait_until(lambda: held.waiter is None, 10, "the socket seen gone")
        assert [e.entry_id for e in lobby.listing(meeting).entries] == order
        await again.connect()
        await again.send({"type": "join", "meeting_id": meeting})
        back = await again.expect("lobby_waiting")
        assert back["entry_id"] == entry
        assert [e.entry_id for e in lobby.listing(meeting).entries] == order

        # Gone for longer than the place is kept: they leave the lobby, hosts are told.
        lobby.keep_place_s = 0.2
        await again.close()
        await wait_until(lambda: [e.entry_id for e in lobby.listing(meeting).entries]
                         == order[1:], 10, "the place given up")
        await host.expect("lobby", after=len(host.messages) - 1)
    finally:
        for client in (host, first, second, again):
            await client.close()
