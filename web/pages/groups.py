"""The page where clerks, secretaries and administrators keep saved groups of invitees."""

from __future__ import annotations

from aiohttp import web

from signaling.accounts.groups import check_may_keep
from signaling.errors import BadRequest, GiaobanError
from web.auth import require_account
from web.keys import ACCOUNTS, GROUPS
from web.pages.forms import error_for, form_fields, notice
from web.pages.views import render


def _page(request: web.Request, status: int = 200, error: str = "", done: str = "",
          values: dict[str, str] | None = None) -> web.Response:
    shown = {a.username: a.display_name for a in request.app[ACCOUNTS].list()}
    groups = [(g, [shown.get(m, m) for m in g.members]) for g in request.app[GROUPS].list()]
    return render(request, "groups.html", status=status, groups=groups, error=error,
                  done=done, values=values or {})


async def groups_page(request: web.Request) -> web.StreamResponse:
    check_may_keep(require_account(request))
    return _page(request)


async def groups_submit(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    form = await form_fields(request)
    try:
        group = request.app[GROUPS].create(account, form.get("name", ""),
                                           form.get("invitees", "").split(","))
    except GiaobanError as exc:
        return _page(request, exc.status, error=error_for(request, exc), values=form)
    return _page(request, done=notice(request, "groups.saved", name=group.name))


async def group_delete(request: web.Request) -> web.StreamResponse:
    account = require_account(request)
    text = request.match_info["group_id"]
    if not text.isdigit():
        raise BadRequest(f"{text[:40]!r} is not a group id.")
    request.app[GROUPS].delete(account, int(text))
    raise web.HTTPSeeOther("/groups")


def setup_group_pages(app: web.Application) -> None:
    app.router.add_get("/groups", groups_page, name="groups")
    app.router.add_post("/groups", groups_submit)
    app.router.add_post("/groups/{group_id}/delete", group_delete)
