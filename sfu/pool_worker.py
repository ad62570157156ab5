"""The worker pool's handle on one SFU worker process: its process, its control
channel, the requests waiting for an answer, and what the pool placed on it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp

from .api import SfuEvent, WorkerError, WorkerLoad, WorkerUnavailableError
from .ids import ConsumerId, ProducerId, RouterId, TransportId
from .wire import WireError, decode_error, decode_event, decode_result, encode_params

logger = logging.getLogger(__name__)

START_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 30.0

_request_ids = itertools.count(1)


@dataclass(eq=False)
class Worker:
    index: int
    socket_path: Path
    process: asyncio.subprocess.Process | None = None
    session: aiohttp.ClientSession | None = None
    ws: aiohttp.ClientWebSocketResponse | None = None
    alive: bool = False
    started_at: float = 0.0
    restarts: int = 0
    load: WorkerLoad | None = None
    pending: dict[int, tuple[str, asyncio.Future[Any]]] = field(default_factory=dict)
    routers: set[RouterId] = field(default_factory=set)
    """The routers whose home is this worker."""
    satellites: set[RouterId] = field(default_factory=set)
    """The routers opened here for subscribers of meetings homed on another worker."""
    consumers: dict[ConsumerId, tuple[TransportId, ProducerId]] = field(default_factory=dict)
    """The consumers on this worker, with their transport and producer."""
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def consumer_count(self) -> int:
        return len(self.consumers)

    @property
    def pid(self) -> int:
        return self.process.pid if self.process is not None else 0

    def status(self) -> WorkerLoad:
        load = self.load or WorkerLoad(worker=self.index, pid=self.pid, alive=self.alive,
                                       routers=0, streams=0, packets_per_s=0.0,
                                       cpu_percent=0.0)
        return replace(load, pid=self.pid, alive=self.alive, routers=len(self.routers))

    # ------------------------------------------------------------ process

    async def launch(self, argv: list[str]) -> None:
        """Start the process and connect to its control socket."""
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        self.process = await asyncio.create_subprocess_exec(*argv)
        self.started_at = time.monotonic()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_S
        while True:
            if self.process.returncode is not None:
                raise OSError(f"exited with {self.process.returncode} while starting")
            try:
                self.session = aiohttp.ClientSession(
                    connector=aiohttp.UnixConnector(path=str(self.socket_path)))
                self.ws = await self.session.ws_connect(
                    "http://sfu-worker/control", heartbeat=None, max_msg_size=16 * 1024 * 1024)
                break
            except (aiohttp.ClientError, OSError):
                if self.session is not None:
                    await self.session.close()
                if loop.time() > deadline:
                    self.process.kill()
                    raise TimeoutError("no control socket") from None
                await asyncio.sleep(0.05)
        self.alive = True
        self.ready.set()
        logger.info("SFU worker %d started (pid %d)", self.index, self.pid)

    async def read(self, on_event: Callable[[Worker, SfuEvent], None]) -> None:
        """Take the worker's answers and events until its control channel ends."""
        assert self.ws is not None
        try:
            async for message in self.ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(message.data)
                    if "event" in data:
                        on_event(self, decode_event(data))
                    else:
                        self._settle(data)
                except (ValueError, WireError) as exc:
                    logger.warning("SFU worker %d sent a malformed message: %s", self.index,
                                   exc)
        finally:
            # A control channel that ends means the worker is gone or unusable.
            if self.process is not None and self.process.returncode is None:
                self.process.kill()

    def _settle(self, message: dict[str, Any]) -> None:
        entry = self.pending.pop(message.get("id", -1), None)
        if entry is None:
            return
        method, future = entry
        if future.done():
            return
        if "error" in message:
            future.set_exception(decode_error(message["error"]))
        else:
            try:
                future.set_result(decode_result(method, message.get("result")))
            except WireError as exc:
                future.set_exception(WorkerError(str(exc)))

    async def lost(self) -> None:
        """The process died: fail what waits for it and drop its control channel."""
        self.alive = False
        self.ready.clear()
        self.load = None
        for _, future in self.pending.values():
            if not future.done():
                future.set_exception(WorkerUnavailableError(f"SFU worker {self.index} died"))
        self.pending.clear()
        if self.session is not None:
            await self.session.close()
        self.ws = self.session = None

    async def stop(self) -> None:
        """Close the control channel (the worker then shuts down), then reap it."""
        if self.ws is not None:
            await self.ws.close()
        if self.session is not None:
            await self.session.close()
        process = self.process
        if process is None or process.returncode is not None:
            return
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            logger.warning("SFU worker %d did not stop in 5 s; killing it", self.index)
            process.kill()
            await process.wait()

    # ------------------------------------------------------------ requests

    async def call(self, method: str, **params: Any) -> Any:
        if not self.alive or self.ws is None:
            raise WorkerUnavailableError(f"SFU worker {self.index} is restarting")
        request_id = next(_request_ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = (method, future)
        try:
            await self.ws.send_str(json.dumps({"id": request_id, "method": method,
                                               "params": encode_params(method, params)}))
            async with asyncio.timeout(CALL_TIMEOUT_S):
                return await future
        except (ConnectionError, aiohttp.ClientError) as exc:
            raise WorkerUnavailableError(f"SFU worker {self.index}: {exc}") from exc
        except TimeoutError:
            raise WorkerUnavailableError(
                f"SFU worker {self.index} did not answer {method} in time") from None
        finally:
            self.pending.pop(request_id, None)
