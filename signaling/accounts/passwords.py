"""Password hashing with scrypt from the standard library.

Encoded form: scrypt$<n>$<r>$<p>$<salt base64>$<hash base64>. Hashing takes tens of
milliseconds on purpose; async callers run it in a thread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from signaling.errors import BadRequest

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
MIN_LENGTH = 10
MAX_LENGTH = 1024
"""Longer input is refused so that nobody can make the server hash megabytes."""
MIN_DISTINCT = 4
"""At least this many different characters: no "aaaaaaaaaa" or "1212121212"."""
COMMON = frozenset({
    "1234567890", "0123456789", "12345678910", "qwertyuiop", "password12", "password123",
    "password1234", "matkhau123", "matkhau1234", "giaoban123", "giaoban2024", "giaoban2025",
    "giaoban2026", "abcdefghij", "abc1234567", "admin12345", "administrator", "iloveyou12",
})
"""Passwords guessed first; compared in lowercase."""


class PasswordRejected(BadRequest):
    """A password that breaks the policy; `rule` names the broken rule."""

    title, code = "Password not accepted", "password_rejected"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
        maxmem=256 * n * r + 1024 * 1024, dklen=KEY_BYTES,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """True when password matches the encoded hash; False for a malformed hash too."""
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        return False
    if n < 2 or n > 2**20 or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16:
        return False
    if len(password) > MAX_LENGTH:
        return False
    actual = _scrypt(password, salt, n, r, p)
    return hmac.compare_digest(actual, expected)


def check_policy(password: str, username: str = "") -> None:
    """The one password policy, used by the CLI, the admin pages and the change page.

    Raise PasswordRejected (with `rule` in its extra fields) when the password is
    shorter than MIN_LENGTH, absurdly long, equal to the username (ignoring case), made of
    fewer than MIN_DISTINCT different characters, or one of the most common ones.
    """
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(
            f"The password must be at least {MIN_LENGTH} characters long.",
            rule="too_short", min=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(
            f"The password must be at most {MAX_LENGTH} characters long.",
            rule="too_long", max=MAX_LENGTH)
    name = username.strip().lower()
    lowered = password.lower()
    if name and lowered == name:
        raise PasswordRejected(
            "The password must not be the username.", rule="same_as_username")
    if len(set(password)) < MIN_DISTINCT or lowered in COMMON:
        raise PasswordRejected(
            "The password is too easy to guess; mix more different characters.",
            rule="too_simple")


def one_time_password() -> str:
    """A random password shown once; its account must change it at next sign-in."""
    return secrets.token_urlsafe(12)
