"""Wiring of the accounts area: permission middleware, pages, API and the watcher.

Also the helpers its pages share: who the actor is, how an error reads on a form.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from signaling.errors import GiaobanError
from web import i18n
from web.auth import request_language, require_account


def setup_accounts(app: web.Application) -> None:
    from web import guard
    from web.api import accounts as api_accounts
    from web.pages import account as account_pages
    from web.pages import admin_accounts, admin_bulk

    app.middlewares.append(guard.permission_middleware)
    account_pages.setup(app)
    admin_accounts.setup(app)
    admin_bulk.setup(app)
    api_accounts.setup(app)
    app.on_startup.append(guard.start_watcher)
    app.on_shutdown.append(guard.stop_watcher)


def actor(request: web.Request) -> str:
    """The username recorded in the audit log for this request."""
    return str(require_account(request).username)


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
