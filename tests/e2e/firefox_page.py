"""One headless Firefox ESR page, driven from Python through tests/e2e/firefox/drive.mjs.

The Node script drives Debian's `firefox-esr` over WebDriver BiDi with puppeteer-core
(installed by `make firefox-driver`, which `make test` runs); each method here is one
JSON command on its stdin, answered by one JSON line on its stdout.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

DRIVER_DIR = Path(__file__).resolve().parent / "firefox"
DRIVER = DRIVER_DIR / "drive.mjs"
FIREFOX = "/usr/bin/firefox-esr"


class FirefoxError(RuntimeError):
    """A command the page could not carry out, with the driver's own message."""


def missing() -> str | None:
    """What is missing to drive Firefox here, or None when nothing is."""
    if not Path(FIREFOX).exists():
        return f"{FIREFOX} is missing: run `make test`, which installs firefox-esr"
    if shutil.which("node") is None:
        return "node is missing: run `make test`, which installs nodejs"
    if not (DRIVER_DIR / "node_modules" / "puppeteer-core").is_dir():
        return "puppeteer-core is missing: run `make firefox-driver` (part of `make test`)"
    return None


class FirefoxPage:
    def __init__(self, process: asyncio.subprocess.Process, version: str) -> None:
        self._process = process
        self.version = version
        self._next = 0

    @classmethod
    async def launch(cls, origin: str, log: Path) -> FirefoxPage:
        """Start Firefox with one page; requests to any origin but `origin` are noted."""
        process = await asyncio.create_subprocess_exec(
            "node", str(DRIVER), origin, cwd=DRIVER_DIR, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=log.open("wb"), limit=16 * 1024 * 1024)
        page = cls(process, "")
        hello = await page._read(60)
        page.version = str(hello["value"])
        return page

    async def _read(self, timeout: float) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = await asyncio.wait_for(self._process.stdout.readline(), timeout)
        if not line:
            raise FirefoxError(f"the Firefox driver exited ({await self._process.wait()})")
        reply: dict[str, Any] = json.loads(line)
        return reply

    async def command(self, op: str, timeout: float = 30, **args: Any) -> Any:
        assert self._process.stdin is not None
        self._next += 1
        self._process.stdin.write(json.dumps({"id": self._next, "op": op, **args}).encode()
                                  + b"\n")
        await self._process.stdin.drain()
        reply = await self._read(timeout)
        if not reply.get("ok"):
            raise FirefoxError(f"{op}: {reply.get('error')}")
        return reply.get("value")

    async def goto(self, url: str) -> None:
        await self.command("goto", url=url)

    async def fill(self, selector: str, value: str) -> None:
        await self.command("fill", selector=selector, value=value)

    async def click(self, selector: str) -> None:
        await self.command("click", selector=selector)

    async def wait_for(self, function_source: str, what: str, timeout: float = 15) -> None:
        """Wait until the function returns something true in the page (a navigation in
        between is no error)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                if await self.evaluate(function_source):
                    return
            except FirefoxError:
                pass  # the page navigated while being read
            if asyncio.get_running_loop().time() > deadline:
                raise FirefoxError(f"waited {timeout} s for {what}")
            await asyncio.sleep(0.2)

    async def wait_for_path(self, path: str) -> None:
        await self.wait_for(f"() => location.pathname === {json.dumps(path)}", f"page {path}")

    async def evaluate(self, function_source: str) -> Any:
        """The value of the (possibly async) function `function_source`, called in the page."""
        return await self.command("eval", expr=function_source)

    async def screenshot(self, path: Path) -> None:
        await self.command("screenshot", path=str(path))

    async def problems(self) -> list[str]:
        return list(await self.command("problems"))

    async def close(self) -> None:
        """Close the browser and wait for the driver to exit; idempotent."""
        if self._process.returncode is not None:
            return
        try:
            await self.command("close", timeout=20)
        except (FirefoxError, TimeoutError, BrokenPipeError, ConnectionError):
            pass
        try:
            await asyncio.wait_for(self._process.wait(), 20)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()
