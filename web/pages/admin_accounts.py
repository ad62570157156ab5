"""Administration of accounts in the browser: list and search, create, edit, activate
or deactivate, reset a password, assign secretaries to leaders, and API tokens.

Only administrators reach these pages (the permission matrix). Every change is
written to the audit log by the services, with the administrator as the actor.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from signaling.accounts.accounts import Account
from signaling.accounts.fields import ROLES
from signaling.accounts.passwords import one_time_password
from signaling.errors import GiaobanError, NotFound
from web.auth import actor, redirect
from web.guard import end_participation
from web.keys import ACCOUNTS, API_TOKENS
from web.pages.forms import error_for, field, form_fields, notice
from web.pages.views import render

NOTICES = ("created", "updated", "activated", "deactivated", "assigned", "unassigned",
           "revoked")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/accounts", accounts_page, name="admin_accounts")
    app.router.add_post("/admin/accounts", create_account)
    app.router.add_get("/admin/accounts/{username}", account_page, name="admin_account")
    app.router.add_post("/admin/accounts/{username}", update_account)
    app.router.add_post("/admin/accounts/{username}/active", set_active)
    app.router.add_post("/admin/accounts/{username}/password", reset_password)
    app.router.add_post("/admin/accounts/{username}/leaders", change_leaders)
    app.router.add_post("/admin/accounts/{username}/tokens", create_token)
    app.router.add_post("/admin/accounts/{username}/tokens/{token_id}/revoke", revoke_token)


def account_url(username: str, done: str = "") -> str:
    return f"/admin/accounts/{username}" + (f"?done={done}" if done else "")


# ---------------------------------------------------------------- the list


def render_list(request: web.Request, status: int = 200, error: str = "",
                form: dict[str, str] | None = None) -> web.Response:
    accounts = request.app[ACCOUNTS]
    query, role = request.query.get("q", ""), request.query.get("role", "")
    return render(request, "admin_accounts.html", status=status, roles=ROLES,
                  accounts=accounts.search(query, role if role in ROLES else ""),
                  licence=accounts.licence(), query=query, role_filter=role, error=error,
                  form=form or {})


async def accounts_page(request: web.Request) -> web.StreamResponse:
    return render_list(request)


async def create_account(request: web.Request) -> web.StreamResponse:
    form = await form_fields(request)
    service = request.app[ACCOUNTS]
    given = field(form, "password")
    one_time = given or one_time_password()
    try:
        created = await asyncio.to_thread(
            service.create, field(form, "username"), field(form, "display_name"),
            field(form, "role"), one_time, actor(request), True,  # theirs to change at once
            field(form, "unit"))
    except GiaobanError as exc:
        return render_list(request, exc.status, error_for(request, exc), form)
    if given:
        return redirect(account_url(created.username, "created"))
    return render_account(request, created, status=201, one_time_password=one_time,
                          done="created")


# ---------------------------------------------------------------- one account


def render_account(request: web.Request, account: Account, status: int = 200,
                   error: str = "", **extra: Any) -> web.Response:
    accounts = request.app[ACCOUNTS]
    leaders = accounts.leaders_of(account.username) if account.role == "secretary" else []
    choices = ([a for a in accounts.search(role="leader") if a.username not in leaders]
               if account.role == "secretary" else [])
    done = extra.pop("done", request.query.get("done", ""))
    return render(
        request, "admin_account.html", status=status, subject=account, roles=ROLES,
        leaders=leaders, leader_choices=choices,
        secretaries=(accounts.secretaries_of(account.username)
                     if account.role == "leader" else []),
        tokens=request.app[API_TOKENS].list_for(account.username), error=error,
        notice=notice(request, f"admin.done.{done}") if done in NOTICES else "",
        one_time_password=extra.pop("one_time_password", ""),
        new_token=extra.pop("new_token", ""),
    )


async def account_page(request: web.Request) -> web.StreamResponse:
    return render_account(request, request.app[ACCOUNTS].get(request.match_info["username"]))


async def _change(request: web.Request, change: Any, done: str) -> web.StreamResponse:
    """Run one change of the account in the URL; on refusal, show its page with why."""
    service = request.app[ACCOUNTS]
    subject = service.get(request.match_info["username"])
    try:
        await change(subject)
    except GiaobanError as exc:
        return render_account(request, service.get(subject.username), status=exc.status,
                              error=error_for(request, exc))
    return redirect(account_url(subject.username, done))


async def update_account(request: web.Request) -> web.StreamResponse:
    form = await form_fields(request)

    async def change(subject: Account) -> None:
        request.app[ACCOUNTS].update(subject.username, display_name=field(form, "display_name"),
                                     role=field(form, "role"), actor=actor(request),
                                     unit=form.get("unit"))

    return await _change(request, change, "updated")


async def set_active(request: web.Request) -> web.StreamResponse:
    form = await form_fields(request)
    active = field(form, "active") == "1"

    async def change(subject: Account) -> None:
        request.app[ACCOUNTS].set_active(subject.username, active, actor(request))
        if not active:
            await end_participation(request.app, subject.username, "deactivated")

    return await _change(request, change, "activated" if active else "deactivated")


async def reset_password(request: web.Request) -> web.StreamResponse:
    service = request.app[ACCOUNTS]
    subject = service.get(request.match_info["username"])
    password = await asyncio.to_thread(service.reset_password, subject.username, actor(request))
    await end_participation(request.app, subject.username, "password reset")
    return render_account(request, service.get(subject.username), one_time_password=password)


async def change_leaders(request: web.Request) -> web.StreamResponse:
    form = await form_fields(request)
    assign = field(form, "action") != "unassign"

    async def change(subject: Account) -> None:
        service = request.app[ACCOUNTS]
        method = service.assign_secretary if assign else service.unassign_secretary
        method(subject.username, field(form, "leader"), actor(request))

    return await _change(request, change, "assigned" if assign else "unassigned")


async def create_token(request: web.Request) -> web.StreamResponse:
    form = await form_fields(request)
    service = request.app[ACCOUNTS]
    subject = service.get(request.match_info["username"])
    try:
        _, secret = request.app[API_TOKENS].create(subject.username, field(form, "name"),
                                                   actor(request))
    except GiaobanError as exc:
        return render_account(request, subject, status=exc.status, error=error_for(request, exc))
    return render_account(request, subject, status=201, new_token=secret)


async def revoke_token(request: web.Request) -> web.StreamResponse:
    tokens = request.app[API_TOKENS]

    async def change(subject: Account) -> None:
        token = tokens.get(request.match_info["token_id"])
        if token.username != subject.username:
            raise NotFound(f"No API token with id {token.id!r} for {subject.username!r}.")
        tokens.revoke(token.id, actor(request))

    return await _change(request, change, "revoked")
