"""`giaoban serve` with TLS, run as a real subprocess: HTTPS on `[http] port` with Secure
cookies and Strict-Transport-Security, the plain-HTTP redirect, and the refusal of a bad
certificate before anything starts."""

from __future__ import annotations

import http.client
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.unit.web.test_cli import clean_env
from tests.unit.web.test_tls import write_pair


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(tmp_path: Path, *, expired: bool = False) -> tuple[subprocess.Popen[str], dict[str, str]]:
    start_at = datetime.now(UTC) - timedelta(days=40) if expired else None
    pair = write_pair(tmp_path / "tls", days=30, start=start_at)
    env = clean_env(
        GIAOBAN_DATA_DIR=str(tmp_path / "data"), GIAOBAN_HTTP_HOST="127.0.0.1",
        GIAOBAN_HTTP_PORT=str(free_port()), GIAOBAN_HTTP_REDIRECT_PORT=str(free_port()),
        GIAOBAN_HTTP_TLS_CERTIFICATE=pair.tls_certificate,
        GIAOBAN_HTTP_TLS_PRIVATE_KEY=pair.tls_private_key,
        GIAOBAN_SFU_IN_PROCESS="true", GIAOBAN_SFU_ANNOUNCED_ADDRESSES="127.0.0.1",
        GIAOBAN_ADMIN_PASSWORD="admin-password-1",
    )
    process = subprocess.Popen([sys.executable, "-m", "web.cli.main", "serve"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, env


def wait_listening(process: subprocess.Popen[str], port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server stopped: {process.communicate()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port} after {timeout} s")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, str]]:
    process, env = start(tmp_path)
    try:
        wait_listening(process, int(env["GIAOBAN_HTTP_PORT"]))
        wait_listening(process, int(env["GIAOBAN_HTTP_REDIRECT_PORT"]))
        yield env
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_https_with_secure_cookies_and_hsts(served: dict[str, str]) -> None:
    context = ssl.create_default_context(cafile=served["GIAOBAN_HTTP_TLS_CERTIFICATE"])
    connection = http.client.HTTPSConnection("127.0.0.1", int(served["GIAOBAN_HTTP_PORT"]),
                                             context=context, timeout=30)
    try:
        connection.request("GET", "/login")
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status == 200
    assert response.getheader("Strict-Transport-Security") == "max-age=31536000"
    cookies = response.headers.get_all("Set-Cookie") or []
    assert cookies and all("Secure" in cookie for cookie in cookies), cookies

    # Plain HTTP on the TLS port gets no page.
    plain = http.client.HTTPConnection("127.0.0.1", int(served["GIAOBAN_HTTP_PORT"]), timeout=30)
    try:
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            plain.request("GET", "/login")
            plain.getresponse().read()
    finally:
        plain.close()


def test_the_redirect_port_sends_every_request_to_https(served: dict[str, str]) -> None:
    port, redirect = served["GIAOBAN_HTTP_PORT"], served["GIAOBAN_HTTP_REDIRECT_PORT"]
    for method, path in (("GET", "/meetings/abc?lang=en"), ("POST", "/login")):
        connection = http.client.HTTPConnection("127.0.0.1", int(redirect), timeout=30)
        try:
            connection.request(method, path, headers={"Host": f"giaoban.bo.local:{redirect}"})
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        assert response.status == 308
        assert response.getheader("Location") == f"https://giaoban.bo.local:{port}{path}"


def test_an_expired_certificate_stops_start_up(tmp_path: Path) -> None:
    process, _env = start(tmp_path, expired=True)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 2, (out, err)
    assert "error: 'http.tls_certificate': the certificate in " in err
    assert "expired on" in err
    assert "Giao Ban is serving" not in out
