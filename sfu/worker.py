"""One SFU worker process: an in-process Engine behind a control WebSocket.

`python -m sfu.worker --socket PATH --index N --settings JSON` serves the engine on a
Unix socket. Its one client is the supervisor in the signaling process (see
`sfu.pool`): requests come in, results and every SFU event go out (see `sfu.wire`).
When the supervisor goes away, the worker exits; it also dies with its parent.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import logging
import os
import signal
import sys
from typing import Any

from aiohttp import WSMsgType, web

from .api import BadRequestError, SfuError, SfuEvent, WorkerError
from .engine import Engine
from .wire import (
    WireError,
    decode_params,
    decode_recorder_settings,
    decode_settings,
    encode_error,
    encode_event,
    to_json,
)

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


class WorkerServer:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.stopped = asyncio.Event()
        self._ws: web.WebSocketResponse | None = None
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        engine.add_listener(self._on_event)

    async def disconnect(self) -> None:
        if self._ws is not None:
            await self._ws.close()

    def _on_event(self, event: SfuEvent) -> None:
        self._outbox.put_nowait(encode_event(event))

    async def control(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None, max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        if self._ws is not None:
            await ws.close(message=b"another supervisor is connected")
            return ws
        self._ws = ws
        writer = asyncio.create_task(self._write(ws), name="control-writer")
        tasks: set[asyncio.Task[None]] = set()
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                task = asyncio.create_task(self._handle(message.data))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            writer.cancel()
            self.stopped.set()  # without its supervisor a worker has no purpose
        return ws

    async def _write(self, ws: web.WebSocketResponse) -> None:
        while True:
            message = await self._outbox.get()
            await ws.send_str(json.dumps(message))

    async def _handle(self, text: str) -> None:
        try:
            request = json.loads(text)
            request_id = request["id"]
            method = request["method"]
            params = request.get("params") or {}
        except (ValueError, KeyError, TypeError):
            logger.warning("worker: malformed control request dropped")
            return
        try:
            result = await self._run(str(method), params)
            reply: dict[str, Any] = {"id": request_id, "result": to_json(result)}
        except SfuError as exc:
            reply = {"id": request_id, "error": encode_error(exc)}
        self._outbox.put_nowait(reply)

    async def _run(self, method: str, params: Any) -> Any:
        """Carry out one request on the engine; every failure is an SfuError."""
        try:
            arguments = decode_params(method, params)
        except WireError as exc:
            raise BadRequestError(str(exc)) from exc
        try:
            return await getattr(self.engine, method)(**arguments)
        except SfuError:
            raise
        except TypeError as exc:
            raise BadRequestError(str(exc)) from exc
        except Exception as exc:
            logger.exception("worker: %s failed", method)
            raise WorkerError(str(exc)) from exc


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


PARENT_CHECK_S = 1.0


async def _watch_parent(parent: int, stopped: asyncio.Event) -> None:
    """Stop when the supervisor is gone.

    The death signal misses a supervisor that died before it was set, and it follows
    the thread that started the worker rather than the process; the parent's pid is the
    rule that always holds."""
    while not stopped.is_set():
        if os.getppid() != parent:
            logger.warning("SFU worker: supervisor %d is gone; stopping", parent)
            stopped.set()
            return
        await asyncio.sleep(PARENT_CHECK_S)


async def serve(socket_path: str, index: int, settings_json: str,
                recording_json: str = "{}", parent: int = 0) -> None:
    engine = Engine(decode_settings(json.loads(settings_json)), worker=index,
                    recording=decode_recorder_settings(json.loads(recording_json)))
    await engine.start()
    server = WorkerServer(engine)
    app = web.Application()
    app.router.add_get("/control", server.control)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(socket_path)
    site = web.UnixSite(runner, socket_path)
    await site.start()
    logger.info("SFU worker %d (pid %d) serving on %s", index, os.getpid(), socket_path)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, server.stopped.set)
    watch = (asyncio.create_task(_watch_parent(parent, server.stopped), name="parent-watch")
             if parent else None)
    try:
        await server.stopped.wait()
    finally:
        if watch is not None:
            watch.cancel()
        await engine.close()
        await server.disconnect()
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Giao Ban SFU worker process")
    parser.add_argument("--socket", required=True, help="Unix socket path to serve on")
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--settings", required=True, help="SfuSettings as JSON")
    parser.add_argument("--recording", default="{}", help="RecorderSettings as JSON")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--parent", type=int, default=0,
                        help="the supervisor's pid: the worker stops when it is gone")
    args = parser.parse_args(argv)
    _die_with_parent()
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format=f"%(asctime)s worker-{args.index} %(levelname)s %(name)s: "
                               "%(message)s")
    # ICE's per-candidate-pair chatter is for debugging only.
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("aioice").setLevel(logging.WARNING)
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(args.socket, args.index, args.settings, args.recording, args.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
