"""The JSON API for accounts, for automation.

Authenticate with `Authorization: Bearer <API token>` (no CSRF token needed), or with
a browser session plus the X-CSRF-Token header. Errors are application/problem+json.

  GET   /api/accounts[?q=&role=]            list (with the licence status)
  POST  /api/accounts                       create {username, display_name, role, unit?, password?}
  GET   /api/accounts/{username}            one account
  PATCH /api/accounts/{username}            change {display_name?, unit?, role?, active?}
  POST  /api/accounts/{username}/deactivate deactivate (ends its sessions and meetings)
  GET   /api/licence                        {seats, used, free}
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from signaling.accounts.accounts import Account
from signaling.accounts.fields import ROLES, check_display_name, check_role, check_unit
from signaling.accounts.licence import LicenceStatus
from signaling.accounts.passwords import one_time_password
from signaling.errors import BadRequest
from web.auth import actor
from web.guard import end_participation
from web.keys import ACCOUNTS

CREATE_FIELDS = frozenset({"username", "display_name", "role", "unit", "password"})
UPDATE_FIELDS = frozenset({"display_name", "unit", "role", "active"})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/accounts", list_accounts, name="api_accounts")
    app.router.add_post("/api/accounts", create_account)
    app.router.add_get("/api/accounts/{username}", get_account, name="api_account")
    app.router.add_patch("/api/accounts/{username}", update_account)
    app.router.add_post("/api/accounts/{username}/deactivate", deactivate_account)
    app.router.add_get("/api/licence", licence, name="api_licence")


def account_json(account: Account) -> dict[str, Any]:
    return {
        "username": account.username, "display_name": account.display_name,
        "unit": account.unit, "role": account.role, "active": account.active,
        "must_change_password": account.must_change_password,
        "created_at": account.created_at.isoformat(),
    }


def licence_json(status: LicenceStatus) -> dict[str, int]:
    return {"seats": status.seats, "used": status.used, "free": status.free}


async def json_body(request: web.Request, allowed: frozenset[str]) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise BadRequest("The body must be a JSON object.", rule="json_body") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.", rule="json_body")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"Unknown fields: {', '.join(unknown)}; allowed: "
                         f"{', '.join(sorted(allowed))}.", rule="json_fields")
    return body


def text_field(body: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string.", rule="json_type", field=name)
    return value


async def list_accounts(request: web.Request) -> web.StreamResponse:
    service = request.app[ACCOUNTS]
    role = request.query.get("role", "")
    if role and role not in ROLES:
        raise BadRequest(f"Unknown role {role!r}; choose one of: {', '.join(ROLES)}.")
    found = service.search(request.query.get("q", ""), role)
    return web.json_response({"accounts": [account_json(a) for a in found],
                              "licence": licence_json(service.licence())})


async def create_account(request: web.Request) -> web.StreamResponse:
    body = await json_body(request, CREATE_FIELDS)
    given = text_field(body, "password", required=False)
    password = given or one_time_password()
    account = await asyncio.to_thread(
        request.app[ACCOUNTS].create, str(text_field(body, "username")),
        str(text_field(body, "display_name")), str(text_field(body, "role")), password,
        actor(request), given is None, text_field(body, "unit", required=False) or "")
    result: dict[str, Any] = {"account": account_json(account)}
    if given is None:
        result["one_time_password"] = password
    return web.json_response(result, status=201)


async def get_account(request: web.Request) -> web.StreamResponse:
    service = request.app[ACCOUNTS]
    account = service.get(request.match_info["username"])
    result = account_json(account)
    if account.role == "secretary":
        result["leaders"] = service.leaders_of(account.username)
    if account.role == "leader":
        result["secretaries"] = service.secretaries_of(account.username)
    return web.json_response(result)


async def update_account(request: web.Request) -> web.StreamResponse:
    body = await json_body(request, UPDATE_FIELDS)
    service = request.app[ACCOUNTS]
    username = service.get(request.match_info["username"]).username
    active = body.get("active")
    if active is not None and not isinstance(active, bool):
        raise BadRequest("'active' must be true or false.", rule="json_type", field="active")
    display, role = text_field(body, "display_name", False), text_field(body, "role", False)
    if display is not None:  # checked before anything changes
        check_display_name(display)
    unit = text_field(body, "unit", False)
    if unit is not None:
        check_unit(unit)
    if role is not None:
        check_role(role)
    if active is not None:
        service.set_active(username, active, actor(request))
        if not active:
            await end_participation(request.app, username, "deactivated")
    account = service.update(username, display_name=display, role=role, actor=actor(request),
                             unit=unit)
    return web.json_response(account_json(account))


async def deactivate_account(request: web.Request) -> web.StreamResponse:
    service = request.app[ACCOUNTS]
    account = service.set_active(request.match_info["username"], False, actor(request))
    await end_participation(request.app, account.username, "deactivated")
    return web.json_response(account_json(account))


async def licence(request: web.Request) -> web.StreamResponse:
    return web.json_response(licence_json(request.app[ACCOUNTS].licence()))
