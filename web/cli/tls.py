"""`giaoban tls`: a key and certificate for HTTPS on the ministry network.

`tls self-signed` writes a key and a self-signed certificate for a trial on the LAN;
`tls request` writes a key and a certificate signing request for the ministry's own CA.
Both name every host (DNS name or IP address) the PCs will type as a subject
alternative name, and print the key pin and what to tell the PCs.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signaling.config import Config
from signaling.errors import BadRequest
from web.tls import base_url, spki_pin

KEY_FILE = "giaoban.key"
CERTIFICATE_FILE = "giaoban.crt"
REQUEST_FILE = "giaoban.csr"
_DNS_NAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)"
                       r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


def subject_names(hosts: list[str]) -> list[x509.GeneralName]:
    """Each host as an IP address or DNS name entry; BadRequest for anything else."""
    if not hosts:
        raise BadRequest("Name at least one --host: the address or name the PCs will open.")
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
            continue
        except ValueError:
            pass
        if not _DNS_NAME.match(host):
            raise BadRequest(f"--host {host!r} is neither an IP address nor a host name")
        names.append(x509.DNSName(host.lower()))
    return names


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _subject(hosts: list[str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0]),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Giao Ban")])


def self_signed(key: ec.EllipticCurvePrivateKey, hosts: list[str], days: int,
                now: datetime | None = None) -> x509.Certificate:
    """A certificate for `hosts`, valid from a minute ago for `days` days."""
    start = (now or datetime.now(UTC)) - timedelta(minutes=1)
    name = _subject(hosts)
    return (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(subject_names(hosts)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False,
            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )


def signing_request(key: ec.EllipticCurvePrivateKey,
                    hosts: list[str]) -> x509.CertificateSigningRequest:
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_subject(hosts))
        .add_extension(x509.SubjectAlternativeName(subject_names(hosts)), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )


def _targets(out: Path, names: tuple[str, ...]) -> list[Path]:
    paths = [out / name for name in names]
    existing = [str(p) for p in paths if p.exists()]
    if existing:
        raise BadRequest(f"{', '.join(existing)} already exists: remove it or choose "
                         "another --out directory (nothing was written)")
    return paths


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as file:
        file.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _print_config(certificate: Path, key: Path) -> None:
    print("\nIn the configuration file:\n  [http]")
    print(f'  tls_certificate = "{certificate.absolute()}"')
    print(f'  tls_private_key = "{key.absolute()}"')


def _print_pin(pin: str) -> None:
    print(f"\nKey pin (SHA-256 of the public key, base64): {pin}")


def cmd_tls_self_signed(args: argparse.Namespace, config: Config) -> int:
    out = Path(args.out)
    hosts: list[str] = args.host
    subject_names(hosts)
    if not 1 <= args.days <= 3650:
        raise BadRequest(f"--days must be between 1 and 3650, not {args.days}")
    out.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = _targets(out, (KEY_FILE, CERTIFICATE_FILE))
    key = new_key()
    certificate = self_signed(key, hosts, args.days)
    _write(key_path, _key_pem(key), 0o600)
    _write(cert_path, certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    pin = spki_pin(key.public_key())
    print(f"Wrote the private key {key_path} (readable by this user only; keep it secret)")
    print(f"Wrote the certificate {cert_path}, valid until "
          f"{certificate.not_valid_after_utc:%Y-%m-%d}, for {', '.join(hosts)}")
    _print_pin(pin)
    _print_config(cert_path, key_path)
    address = base_url(config.http, hosts[0], tls=True)
    print(f"\nTell the PCs: open {address}/ . Browsers do not trust a self-signed "
          "certificate by themselves; on each PC, either")
    print(f"  - install {CERTIFICATE_FILE} as a trusted root certificate (Windows, as an "
          f"administrator: certutil -addstore -f Root {CERTIFICATE_FILE}), or")
    print("  - start Chrome, Edge or Chromium with "
          f"--ignore-certificate-errors-spki-list={pin}")
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex(":").upper()
    print("Before trusting it, check that the browser's certificate viewer shows this "
          f"SHA-256 fingerprint:\n  {fingerprint}")
    return 0


def cmd_tls_request(args: argparse.Namespace, config: Config) -> int:
    out = Path(args.out)
    hosts: list[str] = args.host
    subject_names(hosts)
    out.mkdir(parents=True, exist_ok=True)
    key_path, request_path = _targets(out, (KEY_FILE, REQUEST_FILE))
    key = new_key()
    request = signing_request(key, hosts)
    _write(key_path, _key_pem(key), 0o600)
    _write(request_path, request.public_bytes(serialization.Encoding.PEM), 0o644)
    print(f"Wrote the private key {key_path} (readable by this user only; keep it secret)")
    print(f"Wrote the certificate signing request {request_path} for {', '.join(hosts)}")
    _print_pin(spki_pin(key.public_key()))
    print(f"\nSend {REQUEST_FILE} to the ministry's certificate authority. Save the "
          f"certificate it returns, followed by its intermediate certificates, as "
          f"{out / CERTIFICATE_FILE}.")
    _print_config(out / CERTIFICATE_FILE, key_path)
    print("\nTell the PCs: open "
          f"{base_url(config.http, hosts[0], tls=True)}/ ; PCs that "
          "trust the ministry CA need nothing else.")
    return 0


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    tls = commands.add_parser("tls", help="a key and certificate for HTTPS")
    actions = tls.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, func, text in (
        ("self-signed", cmd_tls_self_signed,
         "write a key and a self-signed certificate (a trial on the LAN)"),
        ("request", cmd_tls_request,
         "write a key and a certificate signing request for the ministry's CA"),
    ):
        action = actions.add_parser(name, parents=[common], help=text)
        action.add_argument("--host", action="append", default=[], metavar="NAME_OR_IP",
                            help="a name or IP address the PCs open (repeat for several)")
        action.add_argument("--out", required=True, metavar="DIR",
                            help="directory to write the files to")
        if name == "self-signed":
            action.add_argument("--days", type=int, default=365,
                                help="days the certificate is valid (default 365)")
        action.set_defaults(func=func)
