"""What the account pages share: the posted form fields, how a refusal reads, notices."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from signaling.errors import GiaobanError
from web import i18n
from web.auth import request_language

describe_error = i18n.describe_error


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
