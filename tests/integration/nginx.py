"""Debian's real nginx in front of a test's server, configured from the shipped example.

`configs/nginx.conf` is what an administrator copies; the test takes it as it is and
changes only what the comments there say to change (the upstream address, the ports and
the certificate paths), then runs nginx as its own process: in the foreground, with its
prefix, pid file, temporary directories and logs under the test's directory.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from web.cli.main import main as giaoban

NGINX = "/usr/sbin/nginx"
EXAMPLE = Path(__file__).resolve().parents[2] / "configs" / "nginx.conf"
UPSTREAM = "server 127.0.0.1:8080;"
HTTPS_LISTEN = "listen 443 ssl http2;"
HTTP_LISTEN = "listen 80;"
CERTIFICATE = "/etc/giaoban/tls/giaoban.crt"
PRIVATE_KEY = "/etc/giaoban/tls/giaoban.key"

MAIN = """\
user root;
worker_processes 1;
pid {work}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log {work}/access.log;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {work}/giaoban.conf;
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed(out: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, written by `giaoban tls self-signed`."""
    assert giaoban(["tls", "self-signed", "--host", "127.0.0.1", "--out", str(out)]) == 0
    return out / "giaoban.crt", out / "giaoban.key"


def site_config(upstream_port: int, https_port: int, http_port: int,
                certificate: Path, key: Path) -> str:
    """The example with this test's addresses and files; each replaced line exists once."""
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in ((UPSTREAM, f"server 127.0.0.1:{upstream_port};"),
                     (HTTPS_LISTEN, f"listen 127.0.0.1:{https_port} ssl http2;"),
                     (HTTP_LISTEN, f"listen 127.0.0.1:{http_port};"),
                     (CERTIFICATE, str(certificate)), (PRIVATE_KEY, str(key))):
        assert text.count(old) == 1, f"configs/nginx.conf should hold {old!r} once"
        text = text.replace(old, new)
    return text


@dataclass
class Nginx:
    work: Path
    https_port: int
    certificate: Path

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def tls(self) -> ssl.SSLContext:
        """A client context that trusts exactly the proxy's certificate."""
        return ssl.create_default_context(cafile=str(self.certificate))

    def access_log(self) -> str:
        return (self.work / "access.log").read_text(encoding="utf-8", errors="replace")


@contextmanager
def nginx_in_front(work: Path, upstream_port: int, https_port: int) -> Iterator[Nginx]:
    """nginx serving HTTPS on 127.0.0.1:https_port, proxying to 127.0.0.1:upstream_port."""
    work.mkdir(parents=True, exist_ok=True)
    certificate, key = self_signed(work / "tls")
    http_port = free_port()
    (work / "giaoban.conf").write_text(
        site_config(upstream_port, https_port, http_port, certificate, key), encoding="utf-8")
    (work / "nginx.conf").write_text(MAIN.format(work=work), encoding="utf-8")
    error_log = work / "error.log"
    process = subprocess.Popen([NGINX, "-p", str(work), "-c", str(work / "nginx.conf"),
                                "-e", str(error_log), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                raise AssertionError(f"nginx exited: {error_log.read_text(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("nginx did not listen within 15 s") from None
                time.sleep(0.05)
        yield Nginx(work, https_port, certificate)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
