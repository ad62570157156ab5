"""Wiring of the accounts area: permission middleware, pages, API and the watcher."""

from __future__ import annotations

from aiohttp import web

from web import guard
from web.api import accounts as api_accounts
from web.pages import account as account_pages
from web.pages import admin_accounts, admin_bulk


def setup_accounts(app: web.Application) -> None:
    app.middlewares.append(guard.permission_middleware)
    account_pages.setup(app)
    admin_accounts.setup(app)
    admin_bulk.setup(app)
    api_accounts.setup(app)
    app.on_startup.append(guard.start_watcher)
    app.on_shutdown.append(guard.stop_watcher)
