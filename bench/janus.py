"""Janus, a C SFU, as a third baseline: Debian's `janus` package and its VideoRoom plugin.

Janus gathers ICE candidates only on non-loopback interfaces, so a run that includes
it happens in a network namespace of its own (`netns_command`): a veth pair carries
`BENCH_ADDRESS`, which every peer and SFU of that run uses instead of 127.0.0.1, and
nothing can leave the namespace. Traffic between addresses of one host still goes
through the kernel's local delivery, as on 127.0.0.1.

`JanusSfu` answers the same requests as the other SFUs. It starts `janus` with a
configuration written for the run (VideoRoom and the HTTP API only), creates a room
with no bitrate cap, publishes the offer as a VideoRoom publisher and subscribes each
subscriber to it. `op_mark` reports the CPU time of the whole `janus` process (all
its threads) and the RTP packets it sent to subscribers, from the Admin API.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from .sfus import process_cpu_seconds

BENCH_ADDRESS = "10.77.0.1"
PEER_ADDRESS = "10.77.0.2"
INTERFACE = "gbbench0"
NETNS_MARK = "GIAOBAN_BENCH_NETNS"
API = "http://127.0.0.1:8088/janus"
ADMIN = "http://127.0.0.1:7088/admin"
ADMIN_SECRET = "bench"
ROOM = 1
PUBLISHER_ID = 1
START_TIMEOUT_S = 15.0
FEED_TIMEOUT_S = 15.0
LIBDIR = Path("/usr/lib/x86_64-linux-gnu/janus")


def netns_command(argv: list[str]) -> list[str]:
    """`argv` run in a new network namespace with loopback and the veth pair up."""
    setup = (f"ip link set lo up && ip link add {INTERFACE} type veth peer name {INTERFACE}p"
             f" && ip addr add {BENCH_ADDRESS}/24 dev {INTERFACE}"
             f" && ip addr add {PEER_ADDRESS}/24 dev {INTERFACE}p"
             f" && ip link set {INTERFACE} up && ip link set {INTERFACE}p up")
    # As root a plain network namespace; otherwise one inside a user namespace.
    flags = "-n" if os.geteuid() == 0 else "-rn"
    return ["unshare", flags, "sh", "-c", f'{setup} && exec "$0" "$@"', *argv]


def janus_problem() -> str | None:
    """Why a Janus row cannot run here, or None."""
    if shutil.which("janus") is None or not LIBDIR.is_dir():
        return "janus is not installed (apt-get install janus)"
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "Janus rows need unshare and ip (iproute2), for their network namespace"
    return None


def write_config(folder: Path) -> None:
    plugins = sorted(p.name for p in (LIBDIR / "plugins").glob("libjanus_*.so")
                     if p.name != "libjanus_videoroom.so")
    transports = sorted(p.name for p in (LIBDIR / "transports").glob("libjanus_*.so")
                        if p.name != "libjanus_http.so")
    (folder / "janus.jcfg").write_text(f"""general: {{
    configs_folder = "{folder}"
    plugins_folder = "{LIBDIR / 'plugins'}"
    transports_folder = "{LIBDIR / 'transports'}"
    events_folder = "{LIBDIR / 'events'}"
    loggers_folder = "{LIBDIR / 'loggers'}"
    debug_level = 3
    admin_secret = "{ADMIN_SECRET}"
}}
media: {{
    ipv6 = false
    rtp_port_range = "20000-40000"
}}
nat: {{
    ice_enforce_list = "{INTERFACE}"
}}
plugins: {{
    disable = "{','.join(plugins)}"
}}
transports: {{
    disable = "{','.join(transports)}"
}}
events: {{
    broadcast = false
}}
loggers: {{
    disable = "libjanus_jsonlog.so"
}}
""")
    (folder / "janus.transport.http.jcfg").write_text("""general: {
    base_path = "/janus"
    http = true
    port = 8088
}
admin: {
    admin_base_path = "/admin"
    admin_http = true
    admin_port = 7088
}
""")
    (folder / "janus.plugin.videoroom.jcfg").write_text("general: {\n}\n")


class JanusSfu:
    def __init__(self, options: dict[str, Any]) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="giaoban-bench-janus-"))
        self.process: asyncio.subprocess.Process | None = None
        self.http: aiohttp.ClientSession | None = None
        self.session = 0
        self.publisher = 0
        self.subscribers: list[int] = []
        self.keepalive: asyncio.Task[None] | None = None

    async def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        assert self.http is not None
        async with self.http.post(url, json={**body, "transaction": uuid.uuid4().hex}) as r:
            reply: dict[str, Any] = await r.json()
        if reply.get("janus") == "error":
            raise RuntimeError(f"janus: {reply['error']}")
        return reply

    async def _attach(self) -> int:
        reply = await self._post(f"{API}/{self.session}",
                                 {"janus": "attach", "plugin": "janus.plugin.videoroom"})
        return int(reply["data"]["id"])

    async def _message(self, handle: int, body: dict[str, Any],
                       jsep: dict[str, str] | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"janus": "message", "body": body}
        if jsep is not None:
            message["jsep"] = jsep
        return await self._post(f"{API}/{self.session}/{handle}", message)

    async def _event(self, handle: int) -> dict[str, Any]:
        """The next plugin event of `handle` (long poll); other events are dropped."""
        assert self.http is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            async with self.http.get(f"{API}/{self.session}?maxev=1") as r:
                event: dict[str, Any] = await r.json()
            if event.get("sender") == handle and event.get("janus") == "event":
                data = event["plugindata"]["data"]
                if "error" in data:
                    raise RuntimeError(f"janus videoroom: {data['error']}")
                return event
        raise TimeoutError(f"no event from janus handle {handle}")

    async def op_start(self, rooms: int = 1) -> None:
        write_config(self.folder)
        with (self.folder / "janus.log").open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                "janus", "-F", str(self.folder), "-C", str(self.folder / "janus.jcfg"),
                stdout=log, stderr=subprocess.STDOUT)
        self.http = aiohttp.ClientSession()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                reply = await self._post(API, {"janus": "create"})
                break
            except aiohttp.ClientError:
                if self.process.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError("janus did not start; see its log in "
                                       f"{self.folder / 'janus.log'}") from None
                await asyncio.sleep(0.2)
        self.session = int(reply["data"]["id"])
        self.publisher = await self._attach()
        await self._message(self.publisher, {"request": "create", "room": ROOM, "bitrate": 0,
                                             "publishers": 4, "audiocodec": "opus",
                                             "videocodec": "vp8"})
        self.keepalive = asyncio.create_task(self._keepalive())

    async def _keepalive(self) -> None:
        while self.http is not None and not self.http.closed:
            await asyncio.sleep(20)
            try:
                await self._post(f"{API}/{self.session}", {"janus": "keepalive"})
            except (aiohttp.ClientError, RuntimeError):
                return

    async def op_publish(self, offer: str) -> str:
        await self._message(self.publisher, {"request": "join", "ptype": "publisher",
                                             "room": ROOM, "id": PUBLISHER_ID})
        await self._event(self.publisher)
        await self._message(self.publisher, {"request": "configure", "audio": True,
                                             "video": True}, {"type": "offer", "sdp": offer})
        event = await self._event(self.publisher)
        return str(event["jsep"]["sdp"])

    async def op_subscribe(self) -> dict[str, Any]:
        handle = await self._attach()
        deadline = time.monotonic() + FEED_TIMEOUT_S
        while True:  # the feed exists once the publisher's PeerConnection is up
            await self._message(handle, {"request": "join", "ptype": "subscriber", "room": ROOM,
                                         "streams": [{"feed": PUBLISHER_ID}]})
            try:
                event = await self._event(handle)
                break
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
        self.subscribers.append(handle)
        return {"sub": str(handle), "offer": str(event["jsep"]["sdp"])}

    async def op_answer(self, sub: str, answer: str) -> None:
        await self._message(int(sub), {"request": "start"}, {"type": "answer", "sdp": answer})

    async def _rtp_packets(self, handle: int, direction: str) -> int:
        """RTP packets `handle` sent ("out") or received ("in"), over its media."""
        reply = await self._post(ADMIN, {"janus": "handle_info", "session_id": self.session,
                                         "handle_id": handle, "admin_secret": ADMIN_SECRET})
        media = reply.get("info", {}).get("webrtc", {}).get("media", {})
        return sum(int(m.get("stats", {}).get(direction, {}).get("packets", 0))
                   for m in media.values())

    async def op_mark(self) -> dict[str, Any]:
        assert self.process is not None
        cpu = process_cpu_seconds(self.process.pid)
        t = time.monotonic()
        sent = sum([await self._rtp_packets(h, "out") for h in self.subscribers])
        received = await self._rtp_packets(self.publisher, "in")
        return {"t": t, "cpu": cpu, "sent": sent, "received": received, "waiting_keyframe": 0}

    async def close(self) -> None:
        if self.keepalive is not None:
            self.keepalive.cancel()
            await asyncio.gather(self.keepalive, return_exceptions=True)
        if self.http is not None:
            try:
                await self._post(f"{API}/{self.session}", {"janus": "destroy"})
            except (aiohttp.ClientError, RuntimeError):
                pass
            await self.http.close()
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)
