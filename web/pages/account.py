"""Pages for every signed-in account: change my password, and the permission matrix."""

from __future__ import annotations

import asyncio

from aiohttp import web

from signaling.accounts import permissions
from signaling.accounts.fields import ROLES
from signaling.accounts.passwords import PasswordRejected
from signaling.errors import BadRequest, GiaobanError
from web.auth import redirect, require_account, set_session_cookie
from web.client_address import client_address
from web.guard import end_participation
from web.keys import ACCOUNTS, SESSIONS, THROTTLE
from web.pages.forms import error_for, field, form_fields
from web.pages.views import render, safe_next


def setup(app: web.Application) -> None:
    app.router.add_get("/account/password", password_form, name="account_password")
    app.router.add_post("/account/password", password_submit)
    app.router.add_get("/docs/permissions", permissions_page, name="docs_permissions")


async def password_form(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    return render(request, "account_password.html", error="",
                  must_change=account.must_change_password,
                  next_path=safe_next(request.query.get("next")))


async def password_submit(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    form = await form_fields(request)
    next_path = safe_next(field(form, "next"))
    current, new = field(form, "current_password"), field(form, "new_password")
    throttle, address = request.app[THROTTLE], client_address(request)
    try:
        if new != field(form, "repeat_password"):
            raise PasswordRejected("The two new passwords differ.", rule="mismatch")
        throttle.check(account.username, address)
        try:
            await asyncio.to_thread(request.app[ACCOUNTS].change_password,
                                    account.username, current, new)
        except BadRequest as exc:
            if exc.extra.get("rule") == "current_wrong":
                throttle.failed(account.username, address)
            raise
    except GiaobanError as exc:
        return render(request, "account_password.html", status=exc.status,
                      error=error_for(request, exc), must_change=account.must_change_password,
                      next_path=next_path)
    # Every session of the account ended with the change; this browser gets a new one,
    # other devices (and any live meeting they were in) are signed out.
    await end_participation(request.app, account.username, "password changed")
    session = request.app[SESSIONS].create(account.username)
    response = redirect(next_path)
    set_session_cookie(request, response, session.token)
    return response


async def permissions_page(request: web.Request) -> web.StreamResponse:
    return render(request, "docs_permissions.html", principals=permissions.PRINCIPALS,
                  roles=ROLES,
                  message_principals=permissions.MESSAGE_PRINCIPALS,
                  route_rows=permissions.route_rows(),
                  message_rows=permissions.message_rows(),
                  host_messages=", ".join(sorted(permissions.HOST_MESSAGES)))
