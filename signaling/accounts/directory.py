"""Finding people by name, username, unit or role, the way a clerk types them.

Search folds case and Vietnamese diacritics on both sides, so "hung" finds "Hùng",
"dung" finds "Dũng" and "Đông", and "lanh dao" finds every leader when the role's
name in the user's language is "Lãnh đạo"; "to chuc" finds everyone of the unit
"Vụ Tổ chức cán bộ", and the unit itself, to invite all its members at once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping

from signaling.accounts.accounts import Account

MAX_RESULTS = 20


def fold(text: str) -> str:
    """Lowercase without diacritics, spaces collapsed: what search compares."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def matches(query: str, *fields: str) -> bool:
    """Every word of `query` appears in one of `fields`, folded."""
    words = fold(query).split()
    haystack = " ".join(fold(f) for f in fields)
    return bool(words) and all(word in haystack for word in words)


def search(accounts: Iterable[Account], query: str, role_names: Mapping[str, str],
           limit: int = MAX_RESULTS) -> list[Account]:
    """Active staff accounts whose display name, username, unit or role name match
    `query`, those whose name starts with it first, then by name."""
    found = [a for a in accounts if a.active and a.kind == "staff"
             and matches(query, a.display_name, a.username, a.unit,
                         role_names.get(a.role, a.role))]
    folded = fold(query)
    found.sort(key=lambda a: (not fold(a.display_name).startswith(folded),
                              fold(a.display_name), a.username))
    return found[:limit]


def units(accounts: Iterable[Account], query: str) -> dict[str, list[Account]]:
    """The units whose name matches `query`, each with its active staff accounts by name."""
    found: dict[str, list[Account]] = {}
    for account in accounts:
        if account.active and account.kind == "staff" and account.unit \
                and matches(query, account.unit):
            found.setdefault(account.unit, []).append(account)
    return {unit: sorted(members, key=lambda a: (fold(a.display_name), a.username))
            for unit, members in sorted(found.items(), key=lambda item: fold(item[0]))}

