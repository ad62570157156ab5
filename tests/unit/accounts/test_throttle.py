"""Sign-in throttling per account name and address, per account name, and per source
address, with a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from signaling.accounts.throttle import LoginThrottle, ThrottleRules, rules_from
from signaling.config import LoginSettings
from signaling.errors import TooManyRequests
from signaling.store import Store

RULES = ThrottleRules(account_max_failures=3, address_max_failures=5,
                      window=timedelta(minutes=15), lockout=timedelta(minutes=10),
                      account_total_max_failures=4)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(store: Store, clock: Clock) -> LoginThrottle:
    return LoginThrottle(store, RULES, now=clock)


def test_an_account_is_locked_after_its_failures_and_says_for_how_long(
    throttle: LoginThrottle, clock: Clock
) -> None:
    for _ in range(2):
        throttle.failed("lan", "10.0.0.1")
        throttle.check("lan", "10.0.0.1")
    throttle.failed("LAN ", "10.0.0.2")
    throttle.failed("LAN ", "10.0.0.2")  # the name is normalised
    with pytest.raises(TooManyRequests) as info:
        throttle.check("lan", "10.0.0.9")  # four from any addresses: locked for all
    assert info.value.status == 429
    assert info.value.extra["retry_after"] == 600
    assert info.value.extra["minutes"] == 10
    assert "Try again in 10 minutes" in info.value.detail
    throttle.check("minh", "10.0.0.9")  # other accounts are not affected
    clock.now += timedelta(minutes=9, seconds=30)
    with pytest.raises(TooManyRequests) as info:
        throttle.check("lan", "10.0.0.9")
    assert info.value.extra["retry_after"] == 30 and info.value.extra["minutes"] == 1
    clock.now += timedelta(seconds=31)
    throttle.check("lan", "10.0.0.9")


def test_guesses_from_one_address_lock_that_address_out_of_the_account_only(
    throttle: LoginThrottle, clock: Clock
) -> None:
    for _ in range(3):
        throttle.failed("bo-truong", "10.0.0.66")
    with pytest.raises(TooManyRequests) as info:
        throttle.check("bo-truong", "10.0.0.66")
    assert info.value.extra["minutes"] == 10
    throttle.check("bo-truong", "10.0.0.5")  # the minister's own machine signs in
    throttle.succeeded("bo-truong", "10.0.0.5")
    with pytest.raises(TooManyRequests):
        throttle.check("bo-truong", "10.0.0.66")  # still locked for the guesser
    throttle.check("other", "10.0.0.66")  # three failures: below the address's five


def test_an_address_is_locked_whatever_names_it_tries(throttle: LoginThrottle) -> None:
    for i in range(5):
        throttle.failed(f"user{i}", "10.0.0.7")
    with pytest.raises(TooManyRequests):
        throttle.check("someone-else", "10.0.0.7")
    throttle.check("someone-else", "10.0.0.8")


def test_failures_older_than_the_window_are_forgotten(
    throttle: LoginThrottle, clock: Clock
) -> None:
    throttle.failed("lan", "a")
    throttle.failed("lan", "b")
    clock.now += timedelta(minutes=16)
    throttle.failed("lan", "c")
    throttle.check("lan", "d")  # one failure in the current window, not three


def test_success_clears_the_account_but_not_the_address(throttle: LoginThrottle) -> None:
    for _ in range(2):
        throttle.failed("lan", "10.0.0.1")
    throttle.succeeded("lan", "10.0.0.1")
    throttle.failed("lan", "10.0.0.1")
    throttle.failed("lan", "10.0.0.1")
    throttle.check("lan", "10.0.0.1")  # 2 since the success: below 3
    throttle.failed("lan", "10.0.0.1")  # the address's fifth
    with pytest.raises(TooManyRequests):
        throttle.check("other", "10.0.0.1")


def test_counts_are_shared_by_every_store_on_the_file(store: Store, clock: Clock) -> None:
    second = Store.open(store.path)
    try:
        first_node = LoginThrottle(store, RULES, now=clock)
        second_node = LoginThrottle(second, RULES, now=clock)
        first_node.failed("lan", "x")
        second_node.failed("lan", "x")
        first_node.failed("lan", "x")
        with pytest.raises(TooManyRequests):
            second_node.check("lan", "x")
    finally:
        second.close()


def test_purge_forgets_finished_records(throttle: LoginThrottle, clock: Clock) -> None:
    for _ in range(3):
        throttle.failed("lan", "x")
    assert throttle.purge() == 0
    clock.now += timedelta(minutes=20)
    assert throttle.purge() == 3  # the pair, the name and the address


def test_rules_from_configuration() -> None:
    rules = rules_from(LoginSettings(account_max_failures=4, address_max_failures=9,
                                     window_minutes=30, lockout_minutes=5,
                                     account_total_max_failures=40))
    assert rules == ThrottleRules(4, 9, timedelta(minutes=30), timedelta(minutes=5), 40)
