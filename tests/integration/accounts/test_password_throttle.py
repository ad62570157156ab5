"""Checking the current password to change it is throttled like a sign-in, on a real
server: guesses are counted, and once locked the password is not even checked."""

from __future__ import annotations

import aiohttp

from tests.integration.conftest import Site
from web.keys import ACCOUNTS, CONFIG, SESSIONS


async def test_wrong_current_passwords_are_counted_and_locked(site: Site) -> None:
    app = site.server.app
    site.account("lan", "official")
    limit = app[CONFIG].login.account_max_failures
    session = app[SESSIONS].create("lan")
    statuses = []
    async with aiohttp.ClientSession(cookies={"giaoban_session": str(session.token)}) as http:
        for guess in [f"guess-{i}-wrong" for i in range(limit + 3)] + ["password-123"]:
            async with http.post(f"{site.base_url}/account/password", data={
                    "csrf_token": session.csrf_token, "current_password": guess,
                    "new_password": "a-new-passphrase-42", "repeat_password":
                    "a-new-passphrase-42"}, allow_redirects=False) as response:
                statuses.append(response.status)
                text = await response.text()
    assert statuses == [400] * limit + [429] * 4, statuses
    assert "Đăng nhập sai quá nhiều lần" in text, text
    # The right password was not even checked while locked: it is unchanged.
    assert app[ACCOUNTS].authenticate("lan", "password-123").username == "lan"
