"""Every route as every role and as anonymous, on a real server, against
signaling/accounts/permissions.py; the matrix lists every route and message there is."""

from __future__ import annotations

import json

import aiohttp

from signaling.accounts import permissions
from signaling.accounts.permissions import ANONYMOUS, PRINCIPALS
from signaling.live import protocol as p
from tests.integration.accounts.permission_walk import (
    CSRF,
    MESSAGES,
    PASSWORD,
    TARGET,
    app_routes,
    concrete,
    path_values,
    principals_with_accounts,
    refusal,
    user,
)
from tests.integration.conftest import Site
from web.keys import ACCOUNTS, API_TOKENS, SESSIONS


async def test_every_route_is_in_the_matrix_and_nothing_else(site: Site) -> None:
    routes = app_routes(site.server.app)
    assert routes, "the router lists no routes"
    missing = sorted(routes - set(permissions.ROUTES))
    stale = sorted(set(permissions.ROUTES) - routes)
    assert missing == [], f"routes missing from the permission matrix: {missing}"
    assert stale == [], f"matrix entries without a route: {stale}"
    assert set(p.CLIENT_MESSAGES) == set(permissions.MESSAGES) == set(MESSAGES)


async def test_every_route_as_every_role_and_anonymous(site: Site) -> None:
    app = site.server.app
    names, meeting = principals_with_accounts(site)
    site.account(TARGET, "official")
    token, _ = app[API_TOKENS].create(TARGET, "walk", "walk")
    values = path_values(app, meeting, TARGET, token_id=token.id)
    checked = 0
    async with aiohttp.ClientSession() as http:
        for method, path in sorted(app_routes(app)):
            # The schedule API's object-level rules (whose meeting is it?) would answer
            # 403 as well; a meeting that does not exist isolates the matrix.
            sample = ({**values, "meeting_id": "no-such-meeting"}
                      if path.startswith(("/api/meetings/", "/meetings/{meeting_id}/"))
                      or "/record" in path else values)
            url = site.base_url + concrete(path, sample)
            allowed = permissions.ROUTES[(method, path)]
            for who in PRINCIPALS:
                headers = {"X-CSRF-Token": CSRF}
                cookies = {"giaoban_csrf": CSRF}
                if who != ANONYMOUS:
                    session = app[SESSIONS].create(names[who])
                    cookies = {"giaoban_session": str(session.token)}
                    headers = {"X-CSRF-Token": session.csrf_token}
                data = None
                if (method, path) == ("POST", "/login"):
                    data = {"username": user("official"), "password": PASSWORD,
                            "csrf_token": headers["X-CSRF-Token"]}
                http.cookie_jar.clear()
                async with http.request(method, url, headers=headers, cookies=cookies,
                                        data=data, allow_redirects=False) as response:
                    await response.read()
                    got = refusal(response.status, response.headers.get("Location", ""))
                context = f"{who} {method} {path} -> {response.status}"
                if who in allowed:
                    assert got is None, f"refused but allowed by the matrix: {context}"
                elif who == ANONYMOUS:
                    assert got == "sign-in", f"anonymous not sent to sign in: {context}"
                else:
                    assert got == "forbidden", f"not refused with 403: {context}"
                checked += 1
                app[ACCOUNTS].set_active(TARGET, True)  # some admin routes deactivate it
    assert checked == len(app_routes(app)) * len(PRINCIPALS)


async def test_an_account_that_must_change_its_password_reaches_only_that_page(
    site: Site,
) -> None:
    app = site.server.app
    site.account("walk-reset", "official")
    app[ACCOUNTS].reset_password("walk-reset")
    session = app[SESSIONS].create("walk-reset")
    cookies = {"giaoban_session": str(session.token)}
    async with aiohttp.ClientSession(cookies=cookies) as http:
        async with http.get(site.base_url + "/meetings", allow_redirects=False) as response:
            assert response.status == 302
            assert response.headers["Location"] == "/account/password?next=/meetings"
        async with http.get(site.base_url + "/account/password") as response:
            assert response.status == 200
            assert 'data-testid="must-change-notice"' in await response.text()
        async with http.ws_connect(site.base_url + "/ws") as ws:
            await ws.send_str(json.dumps({"type": "hello", "version": 1}))
            reply = json.loads(await ws.receive_str(timeout=10))
            assert (reply["code"], reply["extra"]["rule"]) == ("forbidden", "must_change_password")
