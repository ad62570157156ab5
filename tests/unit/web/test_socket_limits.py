"""The socket's token buckets and the per-account socket count, with a fake clock."""

from __future__ import annotations

import pytest

from signaling.errors import TooManyRequests
from web.socket_limits import Bucket, MessageLimits, SocketCount


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = Clock()
    bucket = Bucket(3, 2, clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5  # one token back
    assert [bucket.take(), bucket.take()] == [True, False]
    clock.now += 60  # never more than the capacity
    assert sum(bucket.take() for _ in range(10)) == 3


def test_broadcast_messages_have_the_smaller_budget() -> None:
    limits = MessageLimits(Clock())
    for _ in range(10):
        limits.check_any()
        limits.check_kind("mute")
    with pytest.raises(TooManyRequests) as refused:
        limits.check_kind("recording")
    assert refused.value.extra == {"rule": "socket_rate"}
    limits.check_kind("ice")  # the others go on


def test_sockets_are_counted_per_account() -> None:
    count = SocketCount(limit=2)
    count.open("lan")
    count.open("lan")
    count.open("minh")
    with pytest.raises(TooManyRequests):
        count.open("lan")
    count.close("lan")
    count.open("lan")
