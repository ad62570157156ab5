"""Every response of a real server, page, error, script or file, carries the one
Content-Security-Policy: this server's own origin and its own sockets, nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp

from sfu.config import SfuSettings
from signaling.config import Config, HttpSettings
from tests.integration.conftest import Site, StartSite


def expected(host: str) -> str:
    return ("default-src 'self'; script-src 'self'; style-src 'self'; font-src 'self'; "
            "img-src 'self' data: blob:; media-src 'self' blob:; "
            f"connect-src 'self' ws://{host} wss://{host}; form-action 'self'; "
            "object-src 'none'; base-uri 'self'; frame-ancestors 'none'")


def get_paths(site: Site, meeting_id: str) -> list[str]:
    """Every GET route of the application, its variable parts filled in."""
    paths = set()
    for route in site.server.app.router.routes():
        if route.method not in ("GET", "*"):
            continue
        info = route.resource.get_info() if route.resource is not None else {}
        if "prefix" in info:  # the static files
            paths.update({"/static/css/app.css", "/static/js/meeting.js",
                          "/static/vendor/uplot/uPlot.esm.js", "/static/favicon.svg"})
            continue
        path = str(info.get("path") or info.get("formatter"))
        paths.add(re.sub(r"\{[^}]+\}", meeting_id, path))
    return sorted(paths)


async def test_every_get_route_sends_the_policy(site: Site) -> None:
    token = site.account("quantri", "admin")
    meeting_id = site.meeting("quantri", [])
    paths = get_paths(site, meeting_id)
    assert {"/login", "/meetings", f"/m/{meeting_id}", "/it", "/admin/accounts",
            "/static/js/meeting.js"} <= set(paths)
    host = site.base_url.split("://", 1)[1]
    seen: dict[str, str | None] = {}
    async with aiohttp.ClientSession(cookies={"giaoban_session": token}) as http:
        for path in paths + ["/no-such-page"]:
            async with http.get(site.base_url + path, allow_redirects=False) as response:
                seen[path] = response.headers.get("Content-Security-Policy")
        async with http.get(site.base_url + "/login", allow_redirects=False,
                            headers={"Host": "evil.example; script-src *"}) as response:
            forged = response.headers.get("Content-Security-Policy")
    assert {p: csp for p, csp in seen.items() if csp != expected(host)} == {}
    assert forged == expected(host).replace(f" ws://{host} wss://{host}", "")


async def test_the_public_address_sockets_are_named_too(tmp_path: Path,
                                                       start_site: StartSite) -> None:
    site = await start_site(Config(
        data_dir=str(tmp_path / "data"),
        http=HttpSettings(host="127.0.0.1", public_url="https://giaoban.bo.local"),
        sfu=SfuSettings(announced_addresses=["127.0.0.1"], in_process=True)))
    host = site.base_url.split("://", 1)[1]
    async with aiohttp.ClientSession() as http, \
            http.get(site.base_url + "/login") as response:
        csp = response.headers["Content-Security-Policy"]
    assert csp == expected(host).replace(
        f"wss://{host};", f"wss://{host} ws://giaoban.bo.local wss://giaoban.bo.local;")
