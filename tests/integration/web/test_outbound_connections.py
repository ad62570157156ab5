"""The server opens no connection outside the configured addresses: `giaoban serve`
with the shipped configuration, through start-up and a meeting, contacts nothing but
its own worker sockets and the participants (no STUN server by default, no DNS, no
update check, no download).

The scenario (outbound_child.py) runs in a private network namespace, so nothing can
leave this machine whatever the server tries; strace records every attempt of the server
and its SFU workers at the system call, failed ones included. The participants are two
aiortc peers on a "PC" address of the namespace (aioice offers no loopback candidate).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PC_ADDRESS = "10.200.0.2"
NAMESPACE = ("ip link set lo up && ip link add gbpc0 type veth peer name gbpc1 && "
             f"ip addr add {PC_ADDRESS}/24 dev gbpc0 && ip link set gbpc0 up && "
             'ip link set gbpc1 up && exec "$0" "$@"')
CALL = re.compile(r"^(\d+) +(connect|sendto|sendmsg|sendmmsg)\((.*)$")
INET = re.compile(r'sa_family=AF_INET6?, sin6?_port=htons\((\d+)\).*?'
                  r'(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)")')
UNIX = re.compile(r'sa_family=AF_UNIX, sun_path=(?:@?)"([^"]*)"')


def destinations(log: str) -> list[tuple[int, str]]:
    """Every destination a traced process addressed, as (process id, text)."""
    found = []
    for line in log.splitlines():
        match = CALL.match(line)
        if match is None:
            continue
        pid, call, args = int(match.group(1)), match.group(2), match.group(3)
        inet, unix = INET.search(args), UNIX.search(args)
        if inet:
            found.append((pid, f"{inet.group(2) or inet.group(3)}:{inet.group(1)}"))
        elif unix:
            found.append((pid, f"unix:{unix.group(1)}"))
        elif "sa_family=" in args:
            found.append((pid, args.split("sa_family=", 1)[1].split(",", 1)[0]))
        elif call == "connect":
            found.append((pid, f"unreadable:{args[:80]}"))
        # a send without an address goes where its socket was connected (recorded above)
    return found


def allowed(destination: str, data_dir: Path) -> bool:
    if destination.startswith("unix:"):
        return destination.removeprefix("unix:").startswith(str(data_dir) + "/")
    if destination == "AF_NETLINK":  # the kernel: the interface list
        return True
    host, _, port = destination.rpartition(":")
    return host in (PC_ADDRESS, "127.0.0.1") and port != "53"


@pytest.mark.timeout(240)
def test_the_server_contacts_only_its_workers_and_the_participants(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("strace") is None or shutil.which("ip") is None:
        pytest.fail("this test needs root, strace and iproute2: run `make test`")
    done = subprocess.run(["unshare", "-n", "sh", "-c", NAMESPACE, sys.executable, "-m",
                           "tests.integration.web.outbound_child", "--out", str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=200)
    server_log = (tmp_path / "server.log").read_text(errors="replace") \
        if (tmp_path / "server.log").exists() else ""
    assert done.returncode == 0, f"{done.stderr[-3000:]}\n--- server log\n{server_log[-3000:]}"
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["errors"] == [[], []], result
    assert all(min(counts) >= 30 for counts in result["received"].values()), result
    found = destinations((tmp_path / "strace.log").read_text(errors="replace"))
    server, workers = result["processes"][0], set(result["processes"][1:])
    # The server reached its workers, and a worker sent the media: both were traced.
    assert any(pid == server and d.startswith("unix:") for pid, d in found), found[:5]
    assert any(pid in workers and d.startswith(PC_ADDRESS) for pid, d in found), found[:5]
    assert sorted({d for _, d in found if not allowed(d, tmp_path / "data")}) == []


def test_the_trace_reader_sees_every_kind_of_destination() -> None:
    log = "\n".join([
        '7 connect(5, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.1")}'
        ", 16) = -1 ENETUNREACH (Network is unreachable)",
        '7 sendto(6, "\\0\\1"..., 20, 0, {sa_family=AF_INET, sin_port=htons(19302), '
        'sin_addr=inet_addr("74.125.250.129")}, 16) = -1 ENETUNREACH',
        '8 sendmsg(9, {msg_name={sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=0, '
        'inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, msg_namelen=28}, 0)'
        " = -1 ENETUNREACH",
        '8 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT',
        '8 sendto(3, "x", 1, 0, NULL, 0) = 1',
    ])
    assert destinations(log) == [(7, "10.0.0.1:53"), (7, "74.125.250.129:19302"),
                                 (8, "2001:db8::1:443"), (8, "unix:/var/run/nscd/socket")]
    found = [d for _, d in destinations(log)]
    assert not any(allowed(d, Path("/data")) for d in found)
    assert allowed(f"{PC_ADDRESS}:40000", Path("/data"))
    assert allowed("unix:/data/run/sfu-worker-0.sock", Path("/data"))
    assert not allowed("127.0.0.1:53", Path("/data"))
