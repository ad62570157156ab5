"""Interface strings in Vietnamese and English.

Every visible string lives in web/locales/<lang>.json. Keys are dotted names
("meeting.join"); values may hold {name} placeholders filled by `translate`.
"""

from __future__ import annotations

import json
import logging
import re
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES: tuple[str, ...] = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LOCALES_DIR = Path(__file__).parent / "locales"
PLACEHOLDER = re.compile(r"\{(\w+)\}")

log = logging.getLogger(__name__)


@cache
def catalog(lang: str) -> dict[str, str]:
    """The strings of one language, read once from its JSON file."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    path = LOCALES_DIR / f"{lang}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ValueError(f"{path} must be one JSON object of strings")
    return data


def normalize_language(value: str | None) -> str | None:
    """Return a supported language code for `value`, or None."""
    if value is None:
        return None
    value = value.strip().lower()
    return value if value in LANGUAGES else None


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def translate(lang: str, key: str, **params: Any) -> str:
    """The string `key` in `lang`, with {placeholders} filled from `params`.

    A key missing from a language falls back to Vietnamese, then to the key itself,
    so a page never breaks over a missing string; the unit tests keep them complete.
    """
    text = catalog(lang).get(key)
    if text is None:
        log.warning("missing %s string %r", lang, key)
        text = catalog(DEFAULT_LANGUAGE).get(key, key)
    if not params:
        return text
    return PLACEHOLDER.sub(lambda m: str(params.get(m.group(1), m.group(0))), text)


def translate_error(lang: str, code: str, title: str, detail: str) -> tuple[str, str]:
    """Title and detail of a typed error in `lang`.

    The title comes from "error.<code>.title". A detail that is one of our own known
    English messages (an "error.message.*" string) is shown in `lang`; any other detail
    is shown as is in English pages, and replaced by the generic "error.<code>.detail"
    in other languages.
    """
    english = catalog("en")
    title_key = f"error.{code}.title"
    detail_key = f"error.{code}.detail"
    if title_key not in english:
        title_key, detail_key = "error.unexpected.title", "error.unexpected.detail"
    shown_title = translate(lang, title_key)
    for key in _known_messages().get(detail, ()):
        return shown_title, translate(lang, key)
    if lang == "en":
        return shown_title, detail or translate(lang, detail_key)
    return shown_title, translate(lang, detail_key)


@cache
def _known_messages() -> dict[str, tuple[str, ...]]:
    """English text of every "error.message.*" string, mapped back to its key."""
    found: dict[str, tuple[str, ...]] = {}
    for key, text in catalog("en").items():
        if key.startswith("error.message."):
            found[text] = (*found.get(text, ()), key)
    return found


def strings_with_prefix(lang: str, prefix: str) -> dict[str, str]:
    """Every string whose key starts with `prefix`, keyed by the rest of the key."""
    merged = {**catalog(DEFAULT_LANGUAGE), **catalog(lang)}
    return {k[len(prefix):]: v for k, v in merged.items() if k.startswith(prefix)}
