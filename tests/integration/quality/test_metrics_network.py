"""/metrics without a token answers this machine only: a client on another host (here a
private network namespace joined to this one by a veth pair) is refused, though it
reaches the same server."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from sfu.config import SfuSettings
from signaling.config import Config, HttpSettings
from web.app import create_app

SERVER_ADDRESS, CLIENT_ADDRESS = "10.231.7.1", "10.231.7.2"
FETCH = """
import json, sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=30) as response:
        print(json.dumps([response.status, response.read().decode()]))
except urllib.error.HTTPError as error:
    print(json.dumps([error.code, error.read().decode()]))
"""


def run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, (command, done.stderr)


@pytest.fixture
def other_host() -> Iterator[str]:
    """A network namespace with its own address, linked to this one; yields its name."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.fail("this test needs root and iproute2 to create a network namespace")
    name = f"giaoban-metrics-{os.getpid()}"
    host_side, ns_side = f"gbm{os.getpid() % 100000}h", f"gbm{os.getpid() % 100000}n"
    run("ip", "netns", "add", name)
    try:
        run("ip", "link", "add", host_side, "type", "veth", "peer", "name", ns_side)
        run("ip", "link", "set", ns_side, "netns", name)
        run("ip", "addr", "add", f"{SERVER_ADDRESS}/30", "dev", host_side)
        run("ip", "link", "set", host_side, "up")
        run("ip", "netns", "exec", name, "ip", "addr", "add", f"{CLIENT_ADDRESS}/30",
            "dev", ns_side)
        run("ip", "netns", "exec", name, "ip", "link", "set", ns_side, "up")
        run("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
        yield name
    finally:
        subprocess.run(["ip", "link", "del", host_side], capture_output=True, timeout=30)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    config = Config(data_dir=str(tmp_path / "data"), http=HttpSettings(host=SERVER_ADDRESS),
                    sfu=SfuSettings(announced_addresses=["127.0.0.1"], in_process=True))
    server = TestServer(create_app(config), host=SERVER_ADDRESS)
    await server.start_server()
    yield server
    await server.close()


async def fetch_from(namespace: str, url: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        "ip", "netns", "exec", namespace, sys.executable, "-c", FETCH, url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    status, body = json.loads(out)
    return int(status), str(body)


async def test_metrics_refuse_a_client_on_another_host(other_host: str,
                                                       server: TestServer) -> None:
    base = f"http://{SERVER_ADDRESS}:{server.port}"
    status, body = await fetch_from(other_host, base + "/healthz")
    assert status == 200, body  # the other host reaches the server ...
    status, body = await fetch_from(other_host, base + "/metrics")
    assert status == 403, body  # ... but not its metrics
    assert "giaoban_" not in body
    assert "/metrics answers only this machine" in json.loads(body)["detail"]
