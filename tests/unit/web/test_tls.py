"""HTTPS served by Giao Ban itself: every refused TLS configuration, with its message, and
the certificates `giaoban tls` writes."""

from __future__ import annotations

import base64
import hashlib
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from signaling.config import HttpSettings, load_config
from signaling.errors import ConfigError
from web.cli.main import main
from web.cli.tls import new_key, self_signed
from web.tls import server_tls, spki_pin


def write_pair(folder: Path, *, days: int = 30, start: datetime | None = None,
               hosts: tuple[str, ...] = ("127.0.0.1",)) -> HttpSettings:
    key = new_key()
    certificate = self_signed(key, list(hosts), days, now=start)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "server.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (folder / "server.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return HttpSettings(tls_certificate=str(folder / "server.crt"),
                        tls_private_key=str(folder / "server.key"))


def refusal(http: HttpSettings) -> str:
    with pytest.raises(ConfigError) as caught:
        server_tls(http)
    return str(caught.value)


def test_a_good_pair_gives_a_server_context(tmp_path: Path) -> None:
    context = server_tls(write_pair(tmp_path))
    assert isinstance(context, ssl.SSLContext)
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert server_tls(HttpSettings()) is None


def test_one_key_without_the_other_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "giaoban.toml"
    path.write_text('[http]\ntls_certificate = "/etc/giaoban/server.crt"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"'http.tls_private_key' must be set when "
                                          r"'http.tls_certificate' is"):
        load_config(path, env={})
    path.write_text('[http]\ntls_private_key = "/etc/giaoban/server.key"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"'http.tls_certificate' must be set when "
                                          r"'http.tls_private_key' is"):
        load_config(path, env={})


def test_redirect_port_needs_tls_and_its_own_port(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'http.redirect_port' redirects to HTTPS"):
        load_config(None, env={"GIAOBAN_HTTP_REDIRECT_PORT": "8081"})
    pair = {"GIAOBAN_HTTP_TLS_CERTIFICATE": "a.crt", "GIAOBAN_HTTP_TLS_PRIVATE_KEY": "a.key"}
    with pytest.raises(ConfigError, match=r"'http.redirect_port' must differ"):
        load_config(None, env={**pair, "GIAOBAN_HTTP_REDIRECT_PORT": "8080"})
    with pytest.raises(ConfigError, match=r"'http.redirect_port' must be 0 \(off\)"):
        load_config(None, env={**pair, "GIAOBAN_HTTP_REDIRECT_PORT": "70000"})
    assert load_config(None, env={**pair, "GIAOBAN_HTTP_REDIRECT_PORT": "8081"}).http.tls


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    http = write_pair(tmp_path)
    missing = str(tmp_path / "missing.crt")
    message = refusal(HttpSettings(tls_certificate=missing,
                                   tls_private_key=http.tls_private_key))
    assert message.startswith("'http.tls_certificate': cannot read ")
    assert missing in message and "No such file" in message
    message = refusal(HttpSettings(tls_certificate=http.tls_certificate,
                                   tls_private_key=str(tmp_path)))
    assert message.startswith("'http.tls_private_key': cannot read ")


def test_files_without_pem_content_are_refused(tmp_path: Path) -> None:
    http = write_pair(tmp_path)
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n", encoding="utf-8")
    assert refusal(HttpSettings(tls_certificate=str(junk),
                                tls_private_key=http.tls_private_key)
                   ) == f"'http.tls_certificate': {junk} holds no PEM certificate"
    assert refusal(HttpSettings(tls_certificate=http.tls_certificate,
                                tls_private_key=str(junk))
                   ) == f"'http.tls_private_key': {junk} holds no PEM private key"
    # A certificate given as the key is not a key either.
    assert refusal(HttpSettings(tls_certificate=http.tls_certificate,
                                tls_private_key=http.tls_certificate)).startswith(
        "'http.tls_private_key': ")


def test_a_key_of_another_certificate_is_refused(tmp_path: Path) -> None:
    first = write_pair(tmp_path / "first")
    second = write_pair(tmp_path / "second")
    message = refusal(HttpSettings(tls_certificate=first.tls_certificate,
                                   tls_private_key=second.tls_private_key))
    assert message == (f"'http.tls_private_key': the key in {second.tls_private_key} does not "
                       f"belong to the certificate in {first.tls_certificate} "
                       "('http.tls_certificate')")


def test_a_password_protected_key_is_refused(tmp_path: Path) -> None:
    http = write_pair(tmp_path)
    key = serialization.load_pem_private_key(Path(http.tls_private_key).read_bytes(), None)
    Path(http.tls_private_key).write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret")))
    assert "is protected by a password" in refusal(http)


def test_an_expired_certificate_is_refused(tmp_path: Path) -> None:
    start = datetime.now(UTC) - timedelta(days=40)
    http = write_pair(tmp_path, days=30, start=start)
    message = refusal(http)
    expiry = start - timedelta(minutes=1) + timedelta(days=30)
    assert message == (f"'http.tls_certificate': the certificate in {http.tls_certificate} "
                       f"expired on {expiry:%Y-%m-%d %H:%M} UTC; renew it")


def test_a_certificate_about_to_expire_is_used_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert server_tls(write_pair(tmp_path / "soon", days=20)) is not None
    assert "expires on" in caplog.text and "'http.tls_certificate'" in caplog.text
    caplog.clear()
    assert server_tls(write_pair(tmp_path / "later", days=90)) is not None
    assert "expires on" not in caplog.text


def test_a_certificate_not_yet_valid_is_refused(tmp_path: Path) -> None:
    http = write_pair(tmp_path, start=datetime.now(UTC) + timedelta(days=2))
    assert "is not valid before" in refusal(http)
    assert "check this machine's clock" in refusal(http)


def test_a_chain_is_allowed_with_the_server_certificate_first(tmp_path: Path) -> None:
    http = write_pair(tmp_path)
    other = write_pair(tmp_path / "other")
    chain = Path(http.tls_certificate).read_bytes() + Path(other.tls_certificate).read_bytes()
    Path(http.tls_certificate).write_bytes(chain)
    assert server_tls(http) is not None


def test_self_signed_writes_a_pinned_certificate_for_every_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("GIAOBAN_HTTP_PORT", "GIAOBAN_HTTP_TLS_CERTIFICATE"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "tls"
    assert main(["tls", "self-signed", "--host", "10.10.0.5", "--host", "giaoban.bo.local",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    certificate = x509.load_pem_x509_certificate((out / "giaoban.crt").read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["10.10.0.5"]
    assert names.get_values_for_type(x509.DNSName) == ["giaoban.bo.local"]
    assert (out / "giaoban.key").stat().st_mode & 0o777 == 0o600
    der = certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    pin = base64.b64encode(hashlib.sha256(der).digest()).decode()
    assert f"--ignore-certificate-errors-spki-list={pin}" in printed
    assert "open https://10.10.0.5:8080/" in printed
    assert f'tls_certificate = "{out / "giaoban.crt"}"' in printed
    http = HttpSettings(tls_certificate=str(out / "giaoban.crt"),
                        tls_private_key=str(out / "giaoban.key"))
    assert server_tls(http) is not None  # the server takes what the command wrote

    # Nothing is overwritten.
    key_before = (out / "giaoban.key").read_bytes()
    assert main(["tls", "self-signed", "--host", "10.10.0.5", "--out", str(out)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert (out / "giaoban.key").read_bytes() == key_before


def test_bad_hosts_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tls", "self-signed", "--out", str(tmp_path)]) == 1
    assert "Name at least one --host" in capsys.readouterr().err
    assert main(["tls", "request", "--host", "bad host!", "--out", str(tmp_path)]) == 1
    assert "neither an IP address nor a host name" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_request_writes_a_key_and_a_signing_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tls", "request", "--host", "giaoban.bo.gov.vn", "--host", "10.10.0.5",
                 "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    request = x509.load_pem_x509_csr((tmp_path / "giaoban.csr").read_bytes())
    assert request.is_signature_valid
    names = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["giaoban.bo.gov.vn"]
    key = serialization.load_pem_private_key((tmp_path / "giaoban.key").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert spki_pin(key.public_key()) == spki_pin(request.public_key())
    assert spki_pin(key.public_key()) in printed
    assert "Send giaoban.csr to the ministry's certificate authority" in printed
