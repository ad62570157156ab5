"""A guest with a valid pass on every route and with every socket message, on a real
server, against signaling/accounts/permissions.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp

from signaling.accounts import permissions
from signaling.accounts.permissions import ANONYMOUS
from tests.integration.accounts.permission_walk import (
    CSRF,
    MESSAGES,
    SECRET,
    app_routes,
    bystander,
    concrete,
    footprint,
    message_outcome,
    path_values,
    principals_with_accounts,
    private_meeting,
    refusal,
    sample,
)
from tests.integration.conftest import Site
from web.keys import LOBBY


async def test_a_guest_reaches_no_route_but_what_anyone_may(site: Site) -> None:
    """With a valid pass (and a meeting of their own), a guest is refused every route
    anonymous people are, sees no private meeting, and changes nothing."""
    from tests.integration.room.helpers import give_name, guest_link

    app = site.server.app
    names, meeting = principals_with_accounts(site)
    secret_meeting = private_meeting(site, datetime.now(UTC) + timedelta(days=1))
    token = guest_link(site, meeting)
    status, _, guest_pass = await give_name(site, token, "Walk Guest")
    assert status == 200 and guest_pass
    before = footprint(site, secret_meeting)
    values = path_values(app, secret_meeting, bystander(site), token=token)
    checked = 0
    async with aiohttp.ClientSession() as http:
        for method, path in sorted(app_routes(app)):
            if (method, path) == ("GET", "/ws"):
                continue
            http.cookie_jar.clear()
            async with http.request(
                    method, site.base_url + concrete(path, values),
                    headers={"X-CSRF-Token": CSRF},
                    cookies={"giaoban_guest": guest_pass, "giaoban_csrf": CSRF},
                    data={"name": "Walk Guest"} if method == "POST" else None,
                    allow_redirects=False) as response:
                text = await response.text(errors="replace")
                got = refusal(response.status, response.headers.get("Location", ""))
            context = f"guest {method} {path} -> {response.status}"
            if ANONYMOUS in permissions.ROUTES[(method, path)]:
                assert got != "forbidden", context  # a wrong sign-in still answers 401
            else:
                assert got == "sign-in", f"a guest not sent to sign in: {context}"
            assert SECRET not in text, f"the private meeting shown to a guest: {context}"
            assert footprint(site, secret_meeting) == before, context
            checked += 1
    assert checked == len(app_routes(app)) - 1
    assert names  # every role's account exists, untouched by the guest


async def test_every_socket_message_as_a_guest(site: Site) -> None:
    from tests.integration.room.helpers import give_name, guest_link

    app = site.server.app
    _, meeting = principals_with_accounts(site)
    app[LOBBY].guests_wait = False  # the walk joins straight away
    _, _, guest_pass = await give_name(site, guest_link(site, meeting), "Walk Guest")
    assert guest_pass
    outcome: dict[str, str | None] = {}
    async with aiohttp.ClientSession(cookies={"giaoban_guest": guest_pass}) as http:
        async with http.ws_connect(site.base_url + "/ws") as ws:
            for kind in MESSAGES:
                await ws.send_str(sample(kind, meeting))
                if kind == "leave":
                    break
                outcome[kind] = await message_outcome(ws, kind)
    assert outcome["join"] is None, outcome  # the walk runs inside the meeting
    for kind, code in outcome.items():
        if permissions.GUEST in permissions.MESSAGES[kind]:
            assert code != "forbidden", f"a guest refused {kind} though the matrix allows it"
        else:
            assert code == "forbidden", f"a guest sent {kind} against the matrix: {code}"
    assert {k for k, v in outcome.items() if v == "forbidden"} == {
        k for k in outcome if permissions.GUEST not in permissions.MESSAGES[k]} >= {
        "recording", "lock", "lobby_admit", "lobby_deny", "guest_link"}
