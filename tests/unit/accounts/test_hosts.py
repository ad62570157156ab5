"""The rule of who chairs a meeting (signaling/accounts/hosts.py) and the object rule of
host controls (signaling/accounts/permissions.py `may_control`)."""

from __future__ import annotations

import pytest

from signaling.accounts import permissions
from signaling.accounts.fields import ROLES
from signaling.accounts.hosts import MeetingHosts, host_reason, is_host, may_name_cohosts

HOSTS = MeetingHosts(organizer="org", on_behalf_of="minister",
                     secretaries=frozenset({"sec"}), cohosts=frozenset({"co"}),
                     chair="deputy")


@pytest.mark.parametrize(("username", "role", "reason"), [
    ("org", "official", "organizer"),
    ("minister", "leader", "leader"),
    ("sec", "secretary", "secretary"),
    ("co", "official", "cohost"),
    ("anyone", "admin", "admin"),
    ("anyone", "official", None),
    ("sec", "official", None),  # no longer a secretary: the assignment does not count
    ("minister", "official", "leader"),
    ("deputy", "official", "chair"),
])
def test_who_chairs(username: str, role: str, reason: str | None) -> None:
    assert host_reason(HOSTS, username, role) == reason
    assert is_host(HOSTS, username, role) == (reason is not None)


def test_a_room_device_never_chairs_whatever_its_role() -> None:
    for role in ROLES:
        assert host_reason(HOSTS, "org", role, kind="room") is None


def test_a_meeting_held_for_nobody_has_no_leader() -> None:
    assert host_reason(MeetingHosts(organizer="org"), "minister", "leader") is None


def test_owners_name_cohosts_and_cohosts_do_not() -> None:
    assert [r for r in ("admin", "organizer", "leader", "chair", "secretary", "cohost", None)
            if may_name_cohosts(r)] == ["admin", "organizer", "leader", "chair", "secretary"]


@pytest.mark.parametrize("message", sorted(permissions.MESSAGES))
def test_host_controls_need_a_host_and_co_hosts_need_an_owner(message: str) -> None:
    host_only = message in permissions.HOST_MESSAGES
    assert permissions.may_control(message, host=False, owner=False) == (not host_only)
    assert permissions.may_control(message, host=True, owner=True)
    assert permissions.may_control(message, host=True, owner=False) == (message != "make_cohost")
    if host_only:
        assert permissions.ROOM not in permissions.MESSAGES[message]
