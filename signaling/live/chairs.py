"""Who chairs each meeting while it runs, and what its hosts decided that outlives a
live meeting: the co-hosts named or dropped live, the people removed (who may not join
again) and whether a host ended it (then nobody joins it again: the stored meeting is
marked ended too, signaling/schedule/service.py `end_now`).

The rule itself is signaling/accounts/hosts.py; this reads its inputs (the meeting,
the secretaries, the live co-hosts) and keeps the state in memory on this node.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from signaling.accounts.accounts import Account
from signaling.accounts.hosts import HostReason, MeetingHosts, host_reason
from signaling.errors import Forbidden, NotFound
from signaling.ids import MeetingId
from signaling.schedule.meetings import ENDED_BY_HOST, Meeting, MeetingEnded

SecretariesOf = Callable[[str], Sequence[str]]
"""The secretaries of a leader, by username."""


class NotHost(Forbidden):
    title, code = "Only hosts may do this", "not_host"


class NotOwner(Forbidden):
    title, code = "Only the organizer may do this", "not_owner"


class UnknownParticipant(NotFound):
    title, code = "No such participant", "unknown_participant"


class MutedByHost(Forbidden):
    title, code = "Muted by a host", "muted_by_host"


class Removed(Forbidden):
    title, code = "Removed from the meeting", "removed"


@dataclass
class ChairState:
    """What the hosts of one meeting decided while it ran."""

    cohosts: set[str] = field(default_factory=set)
    """Named live."""
    dropped: set[str] = field(default_factory=set)
    """Co-hosts named when scheduling whom an owner dropped live."""
    removed: set[str] = field(default_factory=set)
    """Usernames a host removed: their joins are refused."""
    ended: bool = False
    """A host ended the meeting: every join is refused (the stored meeting says so too)."""


class Chairs:
    def __init__(self, secretaries_of: SecretariesOf | None = None) -> None:
        self._secretaries_of: SecretariesOf = secretaries_of or (lambda _: ())
        self._states: dict[MeetingId, ChairState] = {}

    def state(self, meeting_id: MeetingId) -> ChairState:
        return self._states.setdefault(meeting_id, ChairState())

    def hosts(self, meeting: Meeting) -> MeetingHosts:
        state = self.state(meeting.id)
        leaders = [meeting.organizer, *([meeting.on_behalf_of] if meeting.on_behalf_of else []),
                   *([meeting.chosen_chair] if meeting.chosen_chair else [])]
        secretaries = frozenset(s for leader in leaders for s in self._secretaries_of(leader))
        cohosts = (set(meeting.cohosts) - state.dropped) | state.cohosts
        return MeetingHosts(meeting.organizer, meeting.on_behalf_of, secretaries,
                            frozenset(cohosts), meeting.chosen_chair)

    def reason(self, meeting: Meeting, account: Account) -> HostReason | None:
        return host_reason(self.hosts(meeting), account.username, account.role, account.kind)

    def check_join(self, meeting: Meeting, account: Account) -> HostReason | None:
        """The joiner's host reason; Removed or MeetingEnded when they may not join."""
        state = self.state(meeting.id)
        reason = self.reason(meeting, account)
        if account.username in state.removed:
            raise Removed("A host removed you from this meeting; you cannot join it again.")
        if state.ended:
            raise MeetingEnded(ENDED_BY_HOST)
        return reason
