"""The pure rules of chat, hosts and guests: what a message may hold, who reads it,
who is a host, who waits in the lobby."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from signaling.accounts.accounts import Account
from signaling.errors import ChatRefused
from signaling.ids import MeetingId, Username
from signaling.live.chat import TEXT_MAX, ChatMessage, check_text, visible_to
from signaling.live.guest_links import check_guest_name, guest_id_of
from signaling.live.lobby import Lobby
from signaling.schedule.meetings import Meeting

T = datetime(2030, 1, 1, 2, tzinfo=UTC)
MEETING = Meeting(id=MeetingId("m1"), title="Giao ban", organizer=Username("thu-truong"),
                  start=T, end=T, invitees=(Username("an"),), state="scheduled", created_at=T,
                  on_behalf_of=Username("bo-truong"))


def account(username: str, role: str = "official", kind: str = "staff") -> Account:
    return Account(username=Username(username), display_name=username, role=role,  # type: ignore[arg-type]
                   active=True, created_at=T, kind=kind)  # type: ignore[arg-type]


def test_chat_text_is_kept_as_sent_within_its_limits() -> None:
    assert check_text("  xin chào\n  dòng hai\t ") == "xin chào\n  dòng hai"
    assert check_text("a\u0000b\u202ec") == "abc"
    assert check_text("x" * TEXT_MAX) == "x" * TEXT_MAX
    with pytest.raises(ChatRefused) as too_long:
        check_text("x" * (TEXT_MAX + 1))
    assert too_long.value.extra["rule"] == "chat_too_long"
    with pytest.raises(ChatRefused) as empty:
        check_text(" \n\u0007 ")
    assert empty.value.extra["rule"] == "chat_empty"


def test_a_private_message_reads_only_for_hosts_and_its_author() -> None:
    private = ChatMessage(1, "m1", "an", "An", False, "hosts", "riêng", T)
    public = ChatMessage(2, "m1", "guest:gu-1", "Khách", True, "everyone", "chung", T)
    assert visible_to(private, "an", host=False)
    assert visible_to(private, "binh", host=True)
    assert not visible_to(private, "binh", host=False)
    assert visible_to(public, "binh", host=False)
    assert public.author == "Khách" and private.author == "an"


def test_who_waits_in_the_lobby() -> None:
    live = {"m1"}
    lobby = Lobby(lambda meeting_id: meeting_id in live)
    assert lobby.must_wait("m1", "an", guest=False, host=False) is None
    assert lobby.must_wait("m1", "guest:gu-1", guest=True, host=False) == "guest"
    lobby._of("m1").locked = True
    assert lobby.must_wait("m1", "an", guest=False, host=False) == "locked"
    assert lobby.must_wait("m1", "chu-tri", guest=False, host=True) is None
    lobby.entered("m1", "an")
    assert lobby.must_wait("m1", "an", guest=False, host=False) is None
    live.clear()  # the meeting ended: its next session starts unlocked, nobody let in
    assert not lobby.locked("m1")
    assert lobby.must_wait("m1", "guest:gu-1", guest=True, host=False) == "guest"
    assert "an" not in lobby._of("m1").entered
    assert Lobby(lambda _: True, guests_wait=False).must_wait(
        "m1", "guest:gu-1", guest=True, host=False) is None


def test_guest_names_and_ids() -> None:
    assert check_guest_name("  Lê   Thị  Khách ", " Sở  Y tế ") == ("Lê Thị Khách", "Sở Y tế")
    for name, unit in (("", ""), ("x" * 101, ""), ("a", "u" * 101), ("a\u0007b", "")):
        with pytest.raises(Exception, match="name"):
            check_guest_name(name, unit)
    assert guest_id_of("guest:gu-12") == "gu-12" and guest_id_of("an") is None
