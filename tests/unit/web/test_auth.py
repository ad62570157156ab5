"""Sign-in, sessions, CSRF, error pages and security headers, through real HTTP requests."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from rooms.calendar import meeting_rooms
from signaling.accounts.accounts import AccountService
from signaling.accounts.sessions import SessionService
from signaling.accounts.throttle import LoginThrottle, ThrottleRules
from signaling.config import Config, HttpSettings
from signaling.schedule.meetings import MeetingService
from signaling.store import Store
from web import auth
from web.keys import ACCOUNTS, CONFIG, MEETINGS, SESSIONS, THROTTLE
from web.pages.views import setup_pages, setup_templates

PASSWORDS = {"an": "an-password-1", "binh": "binh-password-1", "cuong": "cuong-password-1"}
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')

MakeClient = Callable[..., Coroutine[Any, Any, TestClient[web.Request, web.Application]]]


async def boom(request: web.Request) -> web.Response:
    raise RuntimeError("secret internals")


async def api_echo(request: web.Request) -> web.Response:
    account = auth.require_account(request)
    return web.json_response({"username": account.username})


@pytest.fixture
async def make_client(store: Store, aiohttp_client: AiohttpClient) -> MakeClient:
    async def make(max_sessions: int = 10, **http: Any) -> TestClient[web.Request, web.Application]:
        config = dataclasses.replace(Config(), http=HttpSettings(**http))
        app = web.Application(middlewares=[auth.error_middleware, auth.auth_middleware])
        app[CONFIG] = config
        app[ACCOUNTS] = AccountService(store, 10)
        app[SESSIONS] = SessionService(store, idle=timedelta(hours=1), absolute=timedelta(hours=8),
                                       max_per_account=max_sessions)
        rooms = meeting_rooms(store, config.rooms, config.tz)
        app[MEETINGS] = MeetingService(store, config.tz, rooms)
        app[THROTTLE] = LoginThrottle(store, ThrottleRules())
        setup_templates(app)
        setup_pages(app)
        app.router.add_get("/boom", boom)
        app.router.add_post("/api/echo", api_echo)
        return await aiohttp_client(app)

    accounts = AccountService(store, 10)
    accounts.create("an", "Nguyễn Văn An", "leader", PASSWORDS["an"])
    accounts.create("binh", "Trần Thị Bình", "secretary", PASSWORDS["binh"])
    accounts.create("cuong", "Lê Văn Cường", "clerk", PASSWORDS["cuong"])
    return make


@pytest.fixture
def meeting_id(store: Store) -> str:
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    meeting = MeetingService(store, tz, meeting_rooms(store, Config().rooms, tz)).create(
        "Giao ban tuần", "an", invitees=["binh"]
    )
    return str(meeting.id)


async def csrf_from(client: TestClient[web.Request, web.Application], path: str) -> str:
    response = await client.get(path)
    match = CSRF_INPUT.search(await response.text())
    assert match, f"no CSRF field on {path}"
    return match.group(1)


async def sign_in(
    client: TestClient[web.Request, web.Application], username: str, next_path: str = ""
) -> web.StreamResponse | Any:
    token = await csrf_from(client, "/login")
    return await client.post("/login", allow_redirects=False, data={
        "csrf_token": token, "username": username, "password": PASSWORDS[username],
        "next": next_path,
    })


def assert_security_headers(response: Any) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_pages_need_a_session(make_client: MakeClient, meeting_id: str) -> None:
    client = await make_client()
    for path in ("/meetings", f"/m/{meeting_id}"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 302
        assert response.headers["Location"] == f"/login?next={path}"
        assert_security_headers(response)
    response = await client.get("/", allow_redirects=False)
    assert response.headers["Location"] == "/login"


async def test_sign_in_sets_a_strict_session_cookie(
    make_client: MakeClient, meeting_id: str
) -> None:
    client = await make_client()
    response = await sign_in(client, "binh", f"/m/{meeting_id}")
    assert response.status == 302
    assert response.headers["Location"] == f"/m/{meeting_id}"
    cookie = response.cookies[auth.SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert not cookie["secure"]
    page = await client.get(f"/m/{meeting_id}")
    assert page.status == 200
    html = await page.text()
    assert f'data-meeting-id="{meeting_id}"' in html and 'data-username="binh"' in html
    assert 'data-ws-path="/ws"' in html and 'data-testid="join-button"' in html


async def test_secure_cookies_when_configured(make_client: MakeClient) -> None:
    client = await make_client(secure_cookies=True)
    form = await client.get("/login")
    csrf = form.cookies[auth.CSRF_COOKIE]
    assert csrf["secure"] and csrf["httponly"]
    # The test client speaks plain HTTP, so it would not send a Secure cookie back itself.
    response = await client.post("/login", allow_redirects=False, data={
        "csrf_token": csrf.value, "username": "an", "password": PASSWORDS["an"],
    }, headers={"Cookie": f"{auth.CSRF_COOKIE}={csrf.value}"})
    assert response.status == 302
    assert response.cookies[auth.SESSION_COOKIE]["secure"]


async def test_wrong_password_shows_the_form_again(make_client: MakeClient) -> None:
    client = await make_client()
    token = await csrf_from(client, "/login")
    response = await client.post("/login", data={
        "csrf_token": token, "username": "an", "password": "wrong", "next": "/meetings",
    })
    assert response.status == 401
    html = await response.text()
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in html
    assert 'value="an"' in html and auth.SESSION_COOKIE not in response.cookies


async def test_unsafe_next_is_ignored(make_client: MakeClient) -> None:
    client = await make_client()
    response = await sign_in(client, "an", "https://evil.example/")
    assert response.headers["Location"] == "/meetings"


async def test_forms_without_the_token_are_refused(make_client: MakeClient) -> None:
    client = await make_client()
    await client.get("/login")
    response = await client.post("/login", data={"username": "an", "password": PASSWORDS["an"]})
    assert response.status == 403
    assert "Biểu mẫu đã hết hạn" in await response.text()
    await sign_in(client, "an")
    response = await client.post("/logout", data={"csrf_token": "forged"}, allow_redirects=False)
    assert response.status == 403
    assert (await client.get("/meetings", allow_redirects=False)).status == 200


async def test_sign_out_revokes_the_session(make_client: MakeClient) -> None:
    client = await make_client()
    await sign_in(client, "an")
    token = await csrf_from(client, "/meetings")
    response = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/login"
    assert (await client.get("/meetings", allow_redirects=False)).status == 302


async def test_a_sign_in_beyond_the_cap_signs_the_oldest_browser_out(
    make_client: MakeClient,
) -> None:
    # Each client is its own browser (own cookie jar) on one database.
    browsers = [await make_client(max_sessions=3) for _ in range(5)]
    other = await make_client(max_sessions=3)
    await sign_in(other, "binh")
    for browser in browsers[:3]:
        assert (await sign_in(browser, "an")).status == 302

    async def signed_in(browser: TestClient[web.Request, web.Application]) -> bool:
        response = await browser.get("/meetings", allow_redirects=False)
        return bool(response.status == 200)

    assert [await signed_in(b) for b in browsers[:3]] == [True, True, True]
    assert (await sign_in(browsers[3], "an")).status == 302
    assert [await signed_in(b) for b in browsers[:4]] == [False, True, True, True]
    assert (await sign_in(browsers[4], "an")).status == 302
    assert [await signed_in(b) for b in browsers] == [False, False, True, True, True]
    assert await signed_in(other), "another account's session was ended"
    # The signed-out browser signs in again and the oldest remaining one goes.
    assert (await sign_in(browsers[0], "an")).status == 302
    assert [await signed_in(b) for b in browsers] == [True, False, False, True, True]


async def test_api_calls_carry_the_token_in_a_header(make_client: MakeClient) -> None:
    client = await make_client()
    await sign_in(client, "an")
    token = await csrf_from(client, "/meetings")
    response = await client.post("/api/echo", json={})
    assert response.status == 403
    assert response.content_type == "application/problem+json"
    assert (await response.json())["code"] == "forbidden"
    response = await client.post("/api/echo", json={}, headers={"X-CSRF-Token": token})
    assert response.status == 200 and await response.json() == {"username": "an"}


async def test_unknown_session_cookie_is_cleared(make_client: MakeClient) -> None:
    client = await make_client()
    client.session.cookie_jar.update_cookies({auth.SESSION_COOKIE: "bogus"})
    response = await client.get("/meetings", allow_redirects=False)
    assert response.status == 302
    assert response.cookies[auth.SESSION_COOKIE].value == ""


async def test_meeting_page_errors(make_client: MakeClient, meeting_id: str) -> None:
    client = await make_client()
    await sign_in(client, "cuong")
    response = await client.get(f"/m/{meeting_id}")
    assert response.status == 403
    html = await response.text()
    assert "Bạn không được mời tham gia cuộc họp này." in html
    response = await client.get("/m/nothing-here?lang=en")
    assert response.status == 404
    assert "Not found" in await response.text()
    assert_security_headers(response)


async def test_language_choice_is_remembered(make_client: MakeClient) -> None:
    client = await make_client()
    response = await client.get("/login?lang=en")
    assert response.cookies[auth.LANG_COOKIE].value == "en"
    assert '<html lang="en">' in await response.text()
    again = await client.get("/login")
    html = await again.text()
    assert '<html lang="en">' in html and ">Tiếng Việt<" in html
    assert '<html lang="vi">' in await (await client.get("/login?lang=vi")).text()


async def test_my_meetings_lists_the_invitation(make_client: MakeClient, meeting_id: str) -> None:
    client = await make_client()
    await sign_in(client, "binh")
    html = await (await client.get("/meetings")).text()
    assert f'href="/m/{meeting_id}"' in html and "Giao ban tuần" in html
    assert "Chủ trì: Nguyễn Văn An" in html


async def test_unexpected_errors_hide_the_details(make_client: MakeClient) -> None:
    client = await make_client()
    response = await client.get("/boom")
    assert response.status == 500
    html = await response.text()
    assert "secret internals" not in html and "Traceback" not in html
    assert "Đã xảy ra lỗi" in html


async def test_api_errors_are_problem_json(make_client: MakeClient) -> None:
    client = await make_client()
    response = await client.get("/api/nothing")
    assert response.status == 404
    assert response.content_type == "application/problem+json"
    assert (await response.json())["status"] == 404
    response = await client.get("/healthz")
    assert await response.json() == {"status": "ok"}
    assert_security_headers(response)


async def test_static_files_get_the_headers(make_client: MakeClient) -> None:
    client = await make_client()
    response = await client.get("/static/js/protocol.js")
    assert response.status == 200
    assert_security_headers(response)
