"""The rules an account's fields follow: the username, the display name, the unit and
the role."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal, get_args

from signaling.errors import BadRequest
from signaling.ids import Username

Role = Literal["admin", "leader", "secretary", "official", "clerk", "it"]
ROLES: tuple[Role, ...] = get_args(Role)
USERNAME_PATTERN = re.compile(r"^[a-z0-9._-]{2,32}$")
DISPLAY_NAME_MAX = 100
UNIT_MAX = 100


def normalize_username(text: str) -> Username:
    """Lowercase and check a username; BadRequest names the rule that was broken."""
    username = text.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise BadRequest(
            f"Username {text!r} is not valid: use 2 to 32 characters, "
            "only lowercase letters, digits, '.', '_' and '-'.",
            rule="username_invalid",
        )
    return Username(username)


def check_role(text: str) -> Role:
    if text not in ROLES:
        raise BadRequest(f"Unknown role {text!r}; choose one of: {', '.join(ROLES)}.",
                         rule="role_unknown", roles=", ".join(ROLES))
    return text


CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Line breaks, control and invisible formatting characters: never part of a name or
a title."""


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(c) in CONTROL_CATEGORIES for c in text)


def check_display_name(text: str) -> str:
    """The name, trimmed and in NFC (one code point per letter with its marks, as
    search and sorting expect); BadRequest names the rule that was broken."""
    name = unicodedata.normalize("NFC", text.strip())
    if not name:
        raise BadRequest("The display name must not be empty.", rule="display_name_empty")
    if has_control_characters(name):
        raise BadRequest("The display name must be one line of visible characters.",
                         rule="display_name_control")
    if len(name) > DISPLAY_NAME_MAX:
        raise BadRequest(f"The display name must be at most {DISPLAY_NAME_MAX} characters.",
                         rule="display_name_long", max=DISPLAY_NAME_MAX)
    return name


def check_unit(text: str) -> str:
    """The unit, trimmed and in NFC like a display name; empty means none. BadRequest
    names the rule that was broken."""
    unit = unicodedata.normalize("NFC", text.strip())
    if has_control_characters(unit):
        raise BadRequest("The unit must be one line of visible characters.",
                         rule="unit_control")
    if len(unit) > UNIT_MAX:
        raise BadRequest(f"The unit must be at most {UNIT_MAX} characters.",
                         rule="unit_long", max=UNIT_MAX)
    return unit
