"""What the account pages share: the posted form fields, how a refusal reads, notices."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from signaling.errors import GiaobanError
from web import i18n
from web.auth import request_language


def describe_error(lang: str, exc: GiaobanError) -> str:
    """One translated sentence for a refused form: the broken rule when it is known,
    else the translated detail of the error."""
    rule = exc.extra.get("rule")
    key = f"error.rule.{rule}"
    if rule and key in i18n.catalog("en"):
        params = {k: v for k, v in exc.extra.items() if k != "rule"}
        return i18n.translate(lang, key, **params)
    return i18n.translate_error(lang, exc.code, exc.title, exc.detail)[1]


def error_for(request: web.Request, exc: GiaobanError) -> str:
    return describe_error(request_language(request), exc)


async def form_fields(request: web.Request) -> dict[str, str]:
    """The text fields of a posted form (files are left out)."""
    form = await request.post()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def field(form: dict[str, str], name: str, default: str = "") -> str:
    return form.get(name, default)


def notice(request: web.Request, key: str, **params: Any) -> str:
    return i18n.translate(request_language(request), key, **params)
