"""Creating and revoking guest links: over the JSON API (scheduling) and the socket
(live), by hosts only; a revoked link stops working and takes its guests out."""

from __future__ import annotations

import aiohttp

from tests.integration.conftest import Site, wait_until
from tests.integration.room.helpers import give_name, guest_client
from tests.integration.room.test_chat import joined_clients
from web.keys import LIVE_MEETINGS, LOBBY, SESSIONS


async def api(site: Site, username: str, method: str, path: str,
              body: dict[str, object] | None = None) -> tuple[int, dict[str, object]]:
    session = site.server.app[SESSIONS].create(username)
    async with aiohttp.ClientSession(cookies={"giaoban_session": str(session.token)}) as http:
        async with http.request(method, site.base_url + path, json=body,
                                headers={"X-CSRF-Token": session.csrf_token}) as response:
            return response.status, await response.json(content_type=None)


async def test_hosts_create_and_revoke_guest_links_and_others_may_not(site: Site) -> None:
    meeting, (host, an) = await joined_clients(site, ("chu-tri", "an"))
    path = f"/api/meetings/{meeting}/guest-links"
    guest = None
    try:
        status, body = await api(site, "an", "POST", path)
        assert (status, body["code"], body["rule"]) == (403, "forbidden", "host_only")
        status, body = await api(site, "chu-tri", "POST", path, {"expires_at": "2000-01-01T09:00"})
        assert (status, body["rule"]) == (400, "guest_link_expiry")
        status, link = await api(site, "chu-tri", "POST", path)
        # Built from the configured public address, never from the request's Host.
        assert status == 201 and str(link["url"]).startswith("http://127.0.0.1:8080/g/gl_")
        token = str(link["url"]).rsplit("/", 1)[1]
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{site.base_url}/g/{token}") as response:
                assert response.status == 200
                assert 'data-testid="guest-name-input"' in await response.text()
        status, listed = await api(site, "chu-tri", "GET", path)
        assert status == 200 and [x["id"] for x in listed] == [link["id"]]  # type: ignore[union-attr]
        assert "url" not in listed[0]  # type: ignore[index]

        # Live, from the socket: hosts only.
        await an.send({"type": "guest_link"})
        await wait_until(lambda: bool(an.errors), 10, "the refusal")
        assert an.errors[-1]["extra"]["rule"] == "host_only"
        await host.send({"type": "guest_link"})
        live_link = await host.expect("guest_link_created")
        assert live_link["url"].startswith("http://127.0.0.1:8080/g/gl_")

        # A guest in by the first link is taken out when it is revoked.
        site.server.app[LOBBY].guests_wait = False
        guest = await guest_client(site, token, "Khách", 5)
        await guest.join(meeting)
        status, _ = await api(site, "an", "POST", f"{path}/{link['id']}/revoke")
        assert status == 403
        status, revoked = await api(site, "chu-tri", "POST", f"{path}/{link['id']}/revoke")
        assert status == 200 and revoked["revoked_at"]
        error = await guest.expect("error")
        assert (error["code"], error["fatal"]) == ("access_revoked", True)
        await wait_until(lambda: guest.username not in
                         site.server.app[LIVE_MEETINGS].live_usernames(), 10, "taken out")
        assert (await give_name(site, token, "Khách"))[0] == 404
        status, _ = await api(site, "chu-tri", "POST", f"{path}/gl-nothing/revoke")
        assert status == 404
    finally:
        for client in (host, an, *([guest] if guest else [])):
            await client.close()
