"""The alert webhook against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer

from signaling.quality.webhook import Webhook


async def serve(aiohttp_server: AiohttpServer,
                statuses: list[int]) -> tuple[TestServer, str, list[tuple[float, Any]]]:
    seen: list[tuple[float, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append((time.monotonic(), await request.json()))
        return web.Response(status=statuses[min(len(seen), len(statuses)) - 1])

    app = web.Application()
    app.router.add_post("/hook", handle)
    server = await aiohttp_server(app)
    return server, str(server.make_url("/hook")), seen


async def test_a_failed_post_is_retried_with_growing_waits(aiohttp_server: AiohttpServer) -> None:
    _, url, seen = await serve(aiohttp_server, [500, 502, 200])
    hook = Webhook(url, retries=3, timeout_s=2, backoff_s=0.1)
    try:
        task = hook.send({"event": "quality_alert", "username": "lan"})
        assert task is not None
        assert await task is True
        assert [body for _, body in seen] == [{"event": "quality_alert", "username": "lan"}] * 3
        waits = [b - a for (a, _), (b, _) in zip(seen, seen[1:])]
        assert waits[0] >= 0.09 and waits[1] >= 0.19
        assert (hook.delivered, hook.failed, hook.attempts) == (1, 0, 3)
    finally:
        await hook.close()


async def test_an_unreachable_hook_gives_up_after_the_retries(
        aiohttp_server: AiohttpServer) -> None:
    server, url, seen = await serve(aiohttp_server, [503])
    hook = Webhook(url, retries=2, timeout_s=2, backoff_s=0.05)
    try:
        assert await hook.deliver({"event": "quality_alert"}) is False
        assert len(seen) == 3 and (hook.delivered, hook.failed) == (0, 1)
    finally:
        await server.close()
    # Nothing listens any more: connection errors are retried and counted too.
    assert await hook.deliver({"event": "quality_alert"}) is False
    assert hook.failed == 2
    slow = hook.send({"event": "quality_alert"})
    await asyncio.sleep(0)
    await hook.close()  # cancels what is pending, closes the session; idempotent
    await hook.close()
    assert slow is not None and slow.cancelled()
    assert hook.send({"event": "late"}) is None
