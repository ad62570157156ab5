"""HTTPS served by Giao Ban itself: the checked TLS context, the redirect and HSTS.

`server_tls` reads `[http] tls_certificate` and `tls_private_key` and refuses to start,
naming the key, when a file cannot be read, holds no PEM certificate or key, when the
key does not belong to the certificate, or when the certificate is expired or not yet
valid. Key pins are the base64 SHA-256 of the certificate's SubjectPublicKeyInfo, the
form Chromium's `--ignore-certificate-errors-spki-list` takes.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from signaling.config import HttpSettings
from signaling.errors import ConfigError

logger = logging.getLogger(__name__)

HSTS_HEADER = "Strict-Transport-Security"
HSTS_VALUE = "max-age=31536000"
"""One year; no includeSubDomains, since other hosts of the ministry's domain may not
serve HTTPS."""

RENEW_WITHIN = timedelta(days=30)
"""Start-up warns when the certificate expires sooner than this."""
CERTIFICATE_KEY = "http.tls_certificate"
PRIVATE_KEY_KEY = "http.tls_private_key"


def spki_pin(public_key: PublicKeyTypes) -> str:
    """The key pin: base64 of the SHA-256 of the DER SubjectPublicKeyInfo."""
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode("ascii")


def _read(path: str, key: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"'{key}': cannot read {path}: {exc.strerror}") from None


def load_certificates(path: str, now: datetime | None = None) -> list[x509.Certificate]:
    """The certificate chain in `path`, the server's own certificate first, checked to be
    valid at `now`."""
    data = _read(path, CERTIFICATE_KEY)
    try:
        chain = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise ConfigError(f"'{CERTIFICATE_KEY}': {path} holds no PEM certificate") from None
    leaf = chain[0]
    moment = now or datetime.now(UTC)
    if moment > leaf.not_valid_after_utc:
        raise ConfigError(f"'{CERTIFICATE_KEY}': the certificate in {path} expired on "
                          f"{leaf.not_valid_after_utc:%Y-%m-%d %H:%M} UTC; renew it")
    if moment < leaf.not_valid_before_utc:
        raise ConfigError(f"'{CERTIFICATE_KEY}': the certificate in {path} is not valid "
                          f"before {leaf.not_valid_before_utc:%Y-%m-%d %H:%M} UTC "
                          "(check this machine's clock)")
    if leaf.not_valid_after_utc - moment < RENEW_WITHIN:
        logger.warning("the certificate in %s ('%s') expires on %s: renew it", path,
                       CERTIFICATE_KEY, f"{leaf.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    return chain


def load_private_key(path: str) -> PrivateKeyTypes:
    data = _read(path, PRIVATE_KEY_KEY)
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise ConfigError(f"'{PRIVATE_KEY_KEY}': the key in {path} is protected by a "
                          "password; give the server an unencrypted key") from None
    except ValueError:
        raise ConfigError(f"'{PRIVATE_KEY_KEY}': {path} holds no PEM private key") from None


def server_tls(http: HttpSettings, now: datetime | None = None) -> ssl.SSLContext | None:
    """The TLS context to serve with, or None without TLS; ConfigError names the key."""
    if not http.tls:
        return None
    chain = load_certificates(http.tls_certificate, now)
    key = load_private_key(http.tls_private_key)
    leaf_key = chain[0].public_key()
    if spki_pin(key.public_key()) != spki_pin(leaf_key):
        raise ConfigError(f"'{PRIVATE_KEY_KEY}': the key in {http.tls_private_key} does not "
                          f"belong to the certificate in {http.tls_certificate} "
                          f"('{CERTIFICATE_KEY}')")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(http.tls_certificate, http.tls_private_key)
    except ssl.SSLError as exc:
        raise ConfigError(f"'{CERTIFICATE_KEY}' and '{PRIVATE_KEY_KEY}' cannot be used "
                          f"together: {exc.reason}") from None
    logger.info("serving HTTPS with %s (key pin %s, valid until %s)", http.tls_certificate,
                spki_pin(leaf_key), chain[0].not_valid_after_utc.date())
    return context


def base_url(http: HttpSettings, host: str | None = None, tls: bool | None = None) -> str:
    """The server's own address, https with TLS (or when `tls` says so); the port is left
    out when it is the scheme's default."""
    scheme, default = ("https", 443) if (http.tls if tls is None else tls) else ("http", 80)
    name = host or http.host
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"
    return f"{scheme}://{name}" + ("" if http.port == default else f":{http.port}")


async def strict_transport_security(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault(HSTS_HEADER, HSTS_VALUE)


def redirect_app(http: HttpSettings) -> web.Application:
    """Plain HTTP answering every request with a redirect to the same path over HTTPS,
    on the host name the browser asked for."""

    async def redirect(request: web.Request) -> web.Response:
        target = base_url(http, request.url.host or http.host) + request.rel_url.path_qs
        return web.Response(status=308, headers={"Location": target})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", redirect)
    return app


def redirect_site(http: HttpSettings) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context running `redirect_app` on `[http] redirect_port` alongside."""

    async def run(app: web.Application) -> AsyncIterator[None]:
        runner = web.AppRunner(redirect_app(http), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, http.host, http.redirect_port).start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(f"'http.redirect_port': cannot listen on "
                              f"{http.host}:{http.redirect_port}: {exc.strerror}") from None
        yield
        await runner.cleanup()

    return run
