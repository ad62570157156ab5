"""Limits on the /ws socket: how fast one connection may send, and how many sockets one
account may hold open.

Every message draws from its connection's bucket; the messages everyone else hears
about (mute, recording) also draw from a smaller one, and chat messages from their own,
so one page cannot flood a meeting.
A message over the limit is refused with a `too_many_requests` error and goes no further.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from signaling.errors import TooManyRequests

TOO_FAST = "Too many messages; slow down"
TOO_MANY_SOCKETS = "Too many open meeting pages for this account; close one and try again"
MAX_SOCKETS_PER_ACCOUNT = 8
"""Open /ws sockets of one account: a few tabs on a laptop and a phone."""
CHAT_TOO_FAST = "You are sending chat messages too fast; wait a moment and send it again"
BROADCAST = frozenset({"mute", "recording", "raise_hand"})
"""Messages the server passes on to everyone in the meeting."""
CHAT_BURST, CHAT_PER_SECOND = 5, 3.0
"""Chat messages one participant may send at once, and then each second."""


@dataclass
class Bucket:
    """A token bucket: `capacity` messages at once, refilled at `rate` per second."""

    capacity: float
    rate: float
    now: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    stamp: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.capacity
        self.stamp = self.now()

    def take(self) -> bool:
        moment = self.now()
        self.tokens = min(self.capacity, self.tokens + (moment - self.stamp) * self.rate)
        self.stamp = moment
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass
class MessageLimits:
    """The buckets of one connection."""

    now: Callable[[], float] = time.monotonic
    every: Bucket = field(init=False)
    broadcast: Bucket = field(init=False)
    chat: Bucket = field(init=False)

    def __post_init__(self) -> None:
        self.every = Bucket(100, 20, self.now)
        self.broadcast = Bucket(10, 2, self.now)
        self.chat = Bucket(CHAT_BURST, CHAT_PER_SECOND, self.now)

    def check_any(self) -> None:
        """TooManyRequests when one more message of any kind, valid or not, is too many."""
        if not self.every.take():
            raise TooManyRequests(TOO_FAST, rule="socket_rate")

    def check_kind(self, message_type: str) -> None:
        """TooManyRequests when one more message passed on to everyone is too many."""
        if message_type in BROADCAST and not self.broadcast.take():
            raise TooManyRequests(TOO_FAST, rule="socket_rate")
        if message_type == "chat" and not self.chat.take():
            raise TooManyRequests(CHAT_TOO_FAST, rule="chat_rate", per_second=CHAT_PER_SECOND)


class SocketCount:
    """Open sockets per account, in this process."""

    def __init__(self, limit: int = MAX_SOCKETS_PER_ACCOUNT) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    def open(self, username: str) -> None:
        """Count one more socket; TooManyRequests when the account holds `limit` already."""
        if self._open.get(username, 0) >= self.limit:
            raise TooManyRequests(TOO_MANY_SOCKETS, rule="too_many_sockets", limit=self.limit)
        self._open[username] = self._open.get(username, 0) + 1

    def close(self, username: str) -> None:
        left = self._open.get(username, 0) - 1
        if left > 0:
            self._open[username] = left
        else:
            self._open.pop(username, None)
