"""Alerts POSTed as JSON to a configured URL, with retries and exponential backoff."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

log = logging.getLogger(__name__)


class Webhook:
    """Delivers each alert in its own task; `close()` cancels what is still pending."""

    def __init__(self, url: str, retries: int, timeout_s: float, backoff_s: float = 1.0) -> None:
        self.url = url
        self.retries = retries
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.backoff_s = backoff_s
        self.delivered = 0
        self.failed = 0
        """Alerts given up on after every attempt failed."""
        self.attempts = 0
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[bool]] = set()
        self._closed = False

    def send(self, payload: dict[str, Any]) -> asyncio.Task[bool] | None:
        if self._closed:
            return None
        task = asyncio.create_task(self.deliver(payload), name="quality-webhook")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def deliver(self, payload: dict[str, Any]) -> bool:
        """POST `payload`; on failure try again `retries` times, waiting 1, 2, 4 ... backoffs."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
            self.attempts += 1
            try:
                async with self._session.post(self.url, json=payload) as response:
                    if 200 <= response.status < 300:
                        self.delivered += 1
                        return True
                    problem = f"HTTP {response.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            log.warning("quality webhook attempt %d of %d failed: %s", attempt + 1,
                        self.retries + 1, problem)
        self.failed += 1
        log.error("quality webhook: alert not delivered after %d attempts", self.retries + 1)
        return False

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
