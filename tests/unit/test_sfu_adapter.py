"""The aiortc adapter refuses to run when a hooked internal has moved."""

from __future__ import annotations

import pytest
from aiortc import RTCRtpSender

from sfu import aiortc_adapter
from sfu.aiortc_adapter import AiortcIncompatible, check_compatibility


async def test_installed_aiortc_passes() -> None:
    await check_compatibility()


async def test_a_moved_internal_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(RTCRtpSender, "_send_keyframe")
    with pytest.raises(AiortcIncompatible, match=r"RTCRtpSender\._send_keyframe is missing"):
        await check_compatibility()


async def test_another_version_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aiortc_adapter.aiortc, "__version__", "9.9.9")
    with pytest.raises(AiortcIncompatible, match="9.9.9.*1.16.0"):
        await check_compatibility()


def test_host_addresses_are_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    import aioice.ice

    monkeypatch.setattr(aioice.ice, "get_host_addresses", aioice.ice.get_host_addresses)
    aiortc_adapter.use_host_addresses(["127.0.0.1", "::1"])
    assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False) == ["127.0.0.1"]
    assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True) == ["127.0.0.1", "::1"]
