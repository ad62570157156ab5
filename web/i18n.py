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

from signaling.errors import GiaobanError

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
    English messages (an "error.message.*" string, whose {placeholders} stand for the
    values the message names) is shown in `lang`; any other detail is shown as is in
    English pages, and replaced by the generic "error.<code>.detail" in other languages.
    """
    english = catalog("en")
    title_key = f"error.{code}.title"
    detail_key = f"error.{code}.detail"
    if title_key not in english:
        title_key, detail_key = "error.unexpected.title", "error.unexpected.detail"
    shown_title = translate(lang, title_key)
    shown = translate_message(lang, detail)
    if shown is not None:
        return shown_title, shown
    if lang == "en":
        return shown_title, detail or translate(lang, detail_key)
    return shown_title, translate(lang, detail_key)


def describe_error(lang: str, exc: GiaobanError) -> str:
    """One sentence in `lang` for a refusal: the broken rule when the error names one
    the catalogue holds ("error.rule.<rule>", filled from the error's fields), else the
    translated detail."""
    rule = exc.extra.get("rule")
    key = f"error.rule.{rule}"
    if rule and key in catalog("en"):
        params = {k: v for k, v in exc.extra.items() if k != "rule"}
        return translate(lang, key, **params)
    return translate_error(lang, exc.code, exc.title, exc.detail)[1]


def message_key(detail: str) -> tuple[str, dict[str, str]] | None:
    """The "error.message.*" key whose English text `detail` is, with the values its
    placeholders stand for; None for a message the catalogue does not hold."""
    for key, pattern, names in _known_messages():
        found = pattern.fullmatch(detail)
        if found is not None:
            return key, dict(zip(names, found.groups(), strict=True))
    return None


def translate_message(lang: str, detail: str) -> str | None:
    """One of our own English messages in `lang`; a value that is itself one of our
    messages (a field's own error, always so for a "{detail}") is translated too.
    None for an unknown message."""
    known = message_key(detail)
    if known is None:
        return None
    key, values = known
    shown = {name: translate_message(lang, value) for name, value in values.items()}
    if "detail" in shown and shown["detail"] is None:
        return None  # a "{detail}" is another of our messages, or the whole is unknown
    return translate(lang, key, **{
        name: text if text is not None else values[name] for name, text in shown.items()})


_QUOTED = re.compile(r"""'\\\{(\w+)\\\}'|\\\{(\w+)\\\}""")


@cache
def _known_messages() -> tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...]:
    """Every "error.message.*" string as a pattern that matches the English message it
    stands for, the most specific (most fixed text) first. A quoted placeholder also
    matches a value Python wrote with other quotes or none (a number's repr)."""
    found = []
    for key, text in catalog("en").items():
        if not key.startswith("error.message."):
            continue
        names = tuple(placeholder_order(text))
        escaped = re.escape(text)
        pattern = _QUOTED.sub(
            lambda m: "[\'\"]?(.+?)[\'\"]?" if m.group(1) else "(.+?)", escaped)
        fixed = len(PLACEHOLDER.sub("", text))
        found.append((fixed, key, re.compile(pattern, re.DOTALL), names))
    found.sort(key=lambda item: -item[0])
    return tuple((key, pattern, names) for _, key, pattern, names in found)


def placeholder_order(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def strings_with_prefix(lang: str, prefix: str) -> dict[str, str]:
    """Every string whose key starts with `prefix`, keyed by the rest of the key."""
    merged = {**catalog(DEFAULT_LANGUAGE), **catalog(lang)}
    return {k[len(prefix):]: v for k, v in merged.items() if k.startswith(prefix)}
