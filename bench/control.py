"""Control channel between the benchmark's driver and its child processes.

Each child (SFU, publisher, load generator) runs an asyncio loop and answers
requests `(op, kwargs)` arriving on a multiprocessing Pipe with `("ok", result)` or
`("error", text)`, one at a time. The driver holds a `Child` per process; every wait
has a timeout, and `Child.stop()` ends the process whatever state it is in.

A child can never outlive the run: it ignores Ctrl-C (the driver cleans up), dies
with the driver (PR_SET_PDEATHSIG), stops when its pipe closes, and stops by itself
after its lifetime.
"""

from __future__ import annotations

import asyncio
import ctypes
import importlib
import os
import signal
import socket
import sys
import time
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnContext
from typing import Any

POLL_S = 0.2
PR_SET_PDEATHSIG = 1


class BenchError(RuntimeError):
    """A child failed, timed out or went away."""


# ---------------------------------------------------------------- child side


def cpu_seconds() -> float:
    """CPU time (user + system) of this whole process, all threads included."""
    times = os.times()
    return times.user + times.system


HOST_ENV = "GIAOBAN_BENCH_HOST"
"""Set by a run in its own network namespace (bench/janus.py) to the address every peer
uses; 127.0.0.1 otherwise."""


def bench_host() -> str:
    return os.environ.get(HOST_ENV, "127.0.0.1")


def pin_loopback() -> None:
    """Make aioice gather host candidates on the bench's one address only (it skips
    loopback otherwise)."""
    import aioice.ice

    host = bench_host()

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [host] if use_ipv4 else []

    aioice.ice.get_host_addresses = get_host_addresses


def enlarge_udp_receive_buffers(size: int = 4 << 20) -> None:
    """Give every UDP socket this loop creates from now on a large receive buffer.

    Only for the load side: a load generator that is descheduled for a moment on a
    busy machine must not drop what the SFU sent it, or the SFU would be blamed.
    The kernel caps the size at net.core.rmem_max.
    """
    loop = asyncio.get_running_loop()
    original = loop.create_datagram_endpoint

    async def create_datagram_endpoint(*args: Any, **kwargs: Any) -> Any:
        transport, protocol = await original(*args, **kwargs)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
        return transport, protocol

    loop.create_datagram_endpoint = create_datagram_endpoint  # type: ignore[method-assign]


def _die_with_parent(parent_pid: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the driver died before prctl took effect
        os._exit(1)


def child_main(factory: str, conn: Connection, options: dict[str, Any], lifetime: float,
               parent_pid: int) -> None:
    """Entry point of every child process; `factory` is "module:callable"."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent_pid)
    if options.get("cpus"):
        os.sched_setaffinity(0, options["cpus"])
    module_name, _, attr = factory.partition(":")
    make = getattr(importlib.import_module(module_name), attr)
    loop_factory = None
    if options.get("loop") == "uvloop":
        import uvloop

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(_serve(conn, make, options, lifetime))


async def _serve(conn: Connection, make: Any, options: dict[str, Any], lifetime: float) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    fd = conn.fileno()

    def readable() -> None:
        try:
            while conn.poll():
                inbox.put_nowait(conn.recv())
        except (EOFError, OSError):
            loop.remove_reader(fd)
            inbox.put_nowait(None)

    loop.add_reader(fd, readable)
    handler = make(options)
    deadline = loop.time() + lifetime
    try:
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                print(f"bench child {os.getpid()}: lifetime of {lifetime:.0f} s is over, "
                      "stopping", file=sys.stderr)
                break
            try:
                message = await asyncio.wait_for(inbox.get(), remaining)
            except TimeoutError:
                continue
            if message is None or message[0] == "stop":
                break
            op, kwargs = message
            try:
                reply: tuple[str, Any] = ("ok", await getattr(handler, f"op_{op}")(**kwargs))
            except Exception as exc:  # reported to the driver, which decides
                reply = ("error", f"{op}: {type(exc).__name__}: {exc}")
            try:
                conn.send(reply)
            except OSError:
                break
    finally:
        loop.remove_reader(fd)
        try:
            await asyncio.wait_for(handler.close(), 10)
        except Exception as exc:
            print(f"bench child {os.getpid()}: close failed: {exc!r}", file=sys.stderr)


# ---------------------------------------------------------------- driver side


class Child:
    """One child process and its end of the pipe."""

    def __init__(self, ctx: SpawnContext, name: str, factory: str, options: dict[str, Any],
                 lifetime: float) -> None:
        self.name = name
        self.conn, child_conn = ctx.Pipe()
        self.process = ctx.Process(target=child_main, name=name, daemon=True,
                                   args=(factory, child_conn, options, lifetime, os.getpid()))
        self.process.start()
        child_conn.close()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def send(self, op: str, **kwargs: Any) -> None:
        try:
            self.conn.send((op, kwargs))
        except OSError as exc:
            raise BenchError(f"{self.name} is gone ({exc})") from exc

    def receive(self, op: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.conn.poll(POLL_S):
                    status, value = self.conn.recv()
                    if status != "ok":
                        raise BenchError(f"{self.name}: {value}")
                    return value
            except (EOFError, OSError) as exc:
                raise BenchError(f"{self.name} closed its pipe during {op}") from exc
            if not self.process.is_alive():
                raise BenchError(f"{self.name} exited (code {self.process.exitcode}) during {op}")
            if time.monotonic() > deadline:
                raise BenchError(f"{self.name} did not answer {op} within {timeout:.0f} s")

    def call(self, op: str, timeout: float, **kwargs: Any) -> Any:
        self.send(op, **kwargs)
        return self.receive(op, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask politely, then terminate, then kill; never waits without a bound."""
        if self.process.is_alive():
            try:
                self.conn.send(("stop", {}))
            except OSError:
                pass
            self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(3)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(3)
        self.conn.close()
