"""ICE consent timing from `[sfu] consent_timeout_seconds` (a pure rule over aioice's
two module settings)."""

from __future__ import annotations

from collections.abc import Iterator

import aioice.ice
import pytest

from sfu import aiortc_adapter as adapter


@pytest.fixture(autouse=True)
def restore() -> Iterator[None]:
    before = aioice.ice.CONSENT_INTERVAL, aioice.ice.CONSENT_FAILURES
    yield
    aioice.ice.CONSENT_INTERVAL, aioice.ice.CONSENT_FAILURES = before


@pytest.mark.parametrize("seconds", [5, 8, 15, 30, 60, 300])
def test_a_silent_peer_is_given_up_after_about_the_timeout(seconds: int) -> None:
    adapter.use_consent_timeout(seconds)
    assert adapter.consent_timeout() == pytest.approx(seconds, rel=0.1)


@pytest.mark.parametrize("seconds", [5, 15, 30])
def test_one_late_answer_is_never_a_loss(seconds: int) -> None:
    adapter.use_consent_timeout(seconds)
    assert aioice.ice.CONSENT_FAILURES >= 6
    assert aioice.ice.CONSENT_INTERVAL >= 0.2
