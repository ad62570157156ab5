"""Who chairs a meeting: the one rule of host rights.

A meeting's hosts are its organizer, the leader it is held on behalf of, the person
chosen to chair it when it was scheduled, the secretaries of any of them, the co-hosts
the organizer named (when scheduling, or live from the participant list) and
administrators, who may take the host role in any meeting.
A room's device account never chairs. Everyone else is a participant.

Owners (every host but a co-host) may also name and drop co-hosts. Pure: the caller
reads the secretaries and the live co-hosts; nothing here touches the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

HostReason = Literal["admin", "organizer", "leader", "chair", "secretary", "cohost"]
OWNER_REASONS: frozenset[HostReason] = frozenset(
    {"admin", "organizer", "leader", "chair", "secretary"})
"""Hosts who may name co-hosts: every host but a co-host."""


@dataclass(frozen=True, slots=True)
class MeetingHosts:
    """The people a meeting's host rights follow from."""

    organizer: str
    on_behalf_of: str | None = None
    """The leader the meeting is held for."""
    secretaries: frozenset[str] = frozenset()
    """Secretaries of the organizer, of the leader and of the chosen chair."""
    cohosts: frozenset[str] = frozenset()
    """Named when scheduling or live."""
    chair: str | None = None
    """The person chosen to chair it when it was scheduled."""


def host_reason(hosts: MeetingHosts, username: str, role: str,
                kind: str = "staff") -> HostReason | None:
    """Why this account chairs the meeting, or None when it does not."""
    if kind != "staff":
        return None
    if role == "admin":
        return "admin"
    if username == hosts.organizer:
        return "organizer"
    if hosts.on_behalf_of is not None and username == hosts.on_behalf_of:
        return "leader"
    if hosts.chair is not None and username == hosts.chair:
        return "chair"
    if role == "secretary" and username in hosts.secretaries:
        return "secretary"
    if username in hosts.cohosts:
        return "cohost"
    return None


def is_host(hosts: MeetingHosts, username: str, role: str, kind: str = "staff") -> bool:
    return host_reason(hosts, username, role, kind) is not None


def may_name_cohosts(reason: HostReason | None) -> bool:
    """Whether a host with this reason may name and drop co-hosts."""
    return reason in OWNER_REASONS
