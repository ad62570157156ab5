"""The directory the invitee picker searches: people by name, username, unit or role, the
saved groups and the units (each with all its members), diacritics-insensitive ("hung"
finds "Hùng")."""

from __future__ import annotations

from aiohttp import web

from signaling.accounts.directory import matches, search, units
from signaling.accounts.fields import ROLES
from web import i18n
from web.auth import request_language, require_account
from web.keys import ACCOUNTS, GROUPS

QUERY_MAX = 100


def role_names(lang: str) -> dict[str, str]:
    return {role: i18n.translate(lang, f"role.{role}") for role in ROLES}


async def directory(request: web.Request) -> web.StreamResponse:
    require_account(request)
    query = request.query.get("q", "")[:QUERY_MAX]
    names = role_names(request_language(request))
    accounts = request.app[ACCOUNTS]
    everyone = accounts.list()
    people = search(everyone, query, names)
    shown = {a.username: a.display_name for a in everyone}
    groups = [g for g in request.app[GROUPS].list() if matches(query, g.name)]
    return web.json_response({
        "people": [{"username": a.username, "display_name": a.display_name,
                    "role": names.get(a.role, a.role), "unit": a.unit} for a in people],
        "groups": [{"id": g.id, "name": g.name,
                    "members": [{"username": m, "display_name": shown.get(m, m)}
                                for m in g.members]} for g in groups],
        "units": [{"name": unit, "members": [{"username": m.username,
                                              "display_name": m.display_name}
                                             for m in members]}
                  for unit, members in units(everyone, query).items()],
    })


def setup_directory_api(app: web.Application) -> None:
    app.router.add_get("/api/directory", directory)
