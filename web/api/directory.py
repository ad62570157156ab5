"""The directory the invitee picker searches: people by name, username or role, and the
saved groups, diacritics-insensitive ("hung" finds "Hùng")."""

from __future__ import annotations

from aiohttp import web

from signaling.accounts.directory import matches, search
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
    people = search(accounts.list(), query, names)
    shown = {a.username: a.display_name for a in accounts.list()}
    groups = [g for g in request.app[GROUPS].list() if matches(query, g.name)]
    return web.json_response({
        "people": [{"username": a.username, "display_name": a.display_name,
                    "role": names.get(a.role, a.role)} for a in people],
        "groups": [{"id": g.id, "name": g.name,
                    "members": [{"username": m, "display_name": shown.get(m, m)}
                                for m in g.members]} for g in groups],
    })


def setup_directory_api(app: web.Application) -> None:
    app.router.add_get("/api/directory", directory)
