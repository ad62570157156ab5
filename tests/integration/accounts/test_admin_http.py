"""Administration over real HTTP: sign-in throttling, the admin pages, CSV import,
the audit log, and the JSON API with bearer tokens."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sfu.config import SfuSettings
from signaling.config import LicenceSettings
from tests.integration.conftest import Site, StartSite, site_config
from web.keys import ACCOUNTS, API_TOKENS, SESSIONS, STORE

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
SECRET = re.compile(r'data-testid="(?:one-time-password|new-token)">([^<]+)<')
SEATS = 6


@pytest.fixture
async def small_site(tmp_path: Path, start_site: StartSite) -> Site:
    """A real server licensed for SEATS accounts."""
    return await start_site(site_config(tmp_path, SfuSettings(announced_addresses=["127.0.0.1"]),
                                        licence=LicenceSettings(seats=SEATS)))


class Browser:
    """A cookie-keeping HTTP client that signs in through the login form."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def csrf(self, path: str = "/login") -> str:
        async with self.http.get(self.site.base_url + path) as response:
            match = CSRF_INPUT.search(await response.text())
        assert match, f"no CSRF field on {path}"
        return match.group(1)

    async def sign_in(self, username: str, password: str) -> aiohttp.ClientResponse:
        token = await self.csrf("/login")
        response = await self.http.post(self.site.base_url + "/login", allow_redirects=False,
                                        data={"csrf_token": token, "username": username,
                                              "password": password})
        await response.read()
        return response

    async def post(self, path: str, form: dict[str, Any], page: str = "/admin/accounts",
                   **kwargs: Any) -> tuple[int, str, str]:
        data = {"csrf_token": await self.csrf(page), **form}
        async with self.http.post(self.site.base_url + path, data=data,
                                  allow_redirects=False, **kwargs) as response:
            return response.status, response.headers.get("Location", ""), await response.text()

    async def get(self, path: str) -> tuple[int, str]:
        async with self.http.get(self.site.base_url + path) as response:
            return response.status, await response.text()

    async def close(self) -> None:
        await self.http.close()


@pytest.fixture
async def admin(small_site: Site) -> AsyncIterator[Browser]:
    small_site.account("quantri", "admin")
    browser = Browser(small_site)
    assert (await browser.sign_in("quantri", "password-123")).status == 302
    yield browser
    await browser.close()


async def test_sign_in_is_throttled_per_account_with_the_time_to_retry(site: Site) -> None:
    site.account("lan", "leader")
    site.account("minh", "clerk")
    browser = Browser(site)
    try:
        for _ in range(5):
            assert (await browser.sign_in("lan", "wrong-password")).status == 401
        locked = await browser.sign_in("lan", "password-123")  # right, but too late
        assert locked.status == 429
        assert locked.headers["Retry-After"] in ("899", "900")
        locked_page = await browser.http.post(site.base_url + "/login", data={
            "csrf_token": await browser.csrf(), "username": "lan", "password": "password-123"})
        page = await locked_page.text()
        assert locked_page.status == 429
        assert "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút." in page
        assert (await browser.sign_in("minh", "password-123")).status == 302
    finally:
        await browser.close()


async def test_sign_in_is_throttled_per_source_address(site: Site) -> None:
    browser = Browser(site)
    try:
        for i in range(20):
            assert (await browser.sign_in(f"guess{i}", "wrong-password")).status == 401
        site.account("hoa", "official")
        assert (await browser.sign_in("hoa", "password-123")).status == 429
    finally:
        await browser.close()


async def test_admin_creates_an_account_that_must_change_its_password(
    small_site: Site, admin: Browser
) -> None:
    status, _, page = await admin.post("/admin/accounts", {
        "username": "lan", "display_name": "Nguyễn Thị Lan", "role": "leader", "password": ""})
    assert status == 201, page
    match = SECRET.search(page)
    assert match, "the one-time password is not shown"
    one_time = match.group(1)
    user = Browser(small_site)
    try:
        signed_in = await user.sign_in("lan", one_time)
        assert signed_in.headers["Location"] == "/meetings"
        status, page = await user.get("/meetings")
        assert 'data-testid="must-change-notice"' in page  # sent to the change page
        status, _, page = await user.post("/account/password", {
            "current_password": one_time, "new_password": "lan",
            "repeat_password": "lan"}, page="/account/password")
        assert status == 400 and "ít nhất 10 ký tự" in page
        status, location, _ = await user.post("/account/password", {
            "current_password": one_time, "new_password": "hoa-sen-trang-9",
            "repeat_password": "hoa-sen-trang-9", "next": "/meetings"}, page="/account/password")
        assert (status, location) == (302, "/meetings")
        status, page = await user.get("/meetings")
        assert status == 200 and "must-change-notice" not in page
    finally:
        await user.close()
    assert small_site.server.app[ACCOUNTS].get("lan").must_change_password is False


async def test_a_password_the_admin_chose_must_be_changed_at_first_sign_in(
    small_site: Site, admin: Browser
) -> None:
    status, _, page = await admin.post("/admin/accounts", {
        "username": "lan", "display_name": "Nguyễn Thị Lan", "role": "leader",
        "password": "admin-chose-this-42"})
    assert status in (201, 302, 303), page
    assert small_site.server.app[ACCOUNTS].get("lan").must_change_password is True
    user = Browser(small_site)
    try:
        await user.sign_in("lan", "admin-chose-this-42")
        status, page = await user.get("/meetings")
        assert 'data-testid="must-change-notice"' in page
    finally:
        await user.close()


async def test_admin_edits_assigns_and_hits_the_seat_cap(small_site: Site, admin: Browser) -> None:
    small_site.account("lan", "leader")
    small_site.account("minh", "official")
    status, location, _ = await admin.post("/admin/accounts/minh", {
        "display_name": "Trần Văn Minh", "role": "secretary"})
    assert (status, location) == (302, "/admin/accounts/minh?done=updated")
    status, location, _ = await admin.post("/admin/accounts/minh/leaders",
                                           {"action": "assign", "leader": "lan"})
    assert status == 302
    assert small_site.server.app[ACCOUNTS].leaders_of("minh") == ["lan"]
    status, page = await admin.get("/admin/accounts/minh")
    assert 'data-testid="assigned-leader" data-username="lan"' in page
    status, _, page = await admin.post("/admin/accounts/minh/leaders",
                                       {"action": "assign", "leader": "minh"})
    assert status == 400 and "minh không phải lãnh đạo." in page
    # Fill the licence: quantri, lan, minh + 3 more = 6 seats.
    for name in ("an", "binh", "chi"):
        small_site.account(name, "clerk")
    status, _, page = await admin.post("/admin/accounts", {
        "username": "dung", "display_name": "Dung", "role": "clerk", "password": ""})
    assert status == 409
    assert "Hết giấy phép: đã dùng 6/6, còn trống 0." in page
    status, page = await admin.get("/admin/accounts?q=chi")
    assert 'data-testid="licence-status" data-seats="6" data-used="6" data-free="0"' in page
    assert page.count('data-testid="account-row"') == 1
    # Deactivating frees a seat; reactivating another then needs it.
    status, _, _ = await admin.post("/admin/accounts/chi/active", {"active": "0"})
    assert status == 302
    status, _, _ = await admin.post("/admin/accounts", {
        "username": "dung", "display_name": "Dung", "role": "clerk",
        "password": "dung-password-1"})
    assert status == 302
    status, _, page = await admin.post("/admin/accounts/chi/active", {"active": "1"})
    assert status == 409 and "Hết giấy phép" in page
    # Every change is in the audit log, which exports as CSV.
    status, page = await admin.get("/admin/audit?q=minh")
    assert 'data-action="account.update" data-target="minh"' in page
    # Read as sentences in the page's language, with what changed; no raw JSON.
    page = html.unescape(page)
    admin_name = small_site.server.app[ACCOUNTS].get("quantri").display_name
    assert f"{admin_name} đã sửa tài khoản của Trần Văn Minh." in page
    assert "Vai trò:</span> Cán bộ → Thư ký" in page
    assert "Họ tên:</span> Minh → Trần Văn Minh" in page
    assert f"{admin_name} đã phân công Trần Văn Minh làm thư ký của Lan." in page
    assert "\\u" not in page and "account.update</td>" not in page
    status, page = await admin.get("/admin/audit?action=account.deactivate")
    assert page.count('data-testid="audit-row"') == 1
    assert 'data-action="account.deactivate" data-target="chi"' in page
    async with admin.http.get(small_site.base_url + "/admin/audit.csv") as response:
        assert response.content_type == "text/csv"
        rows = list(csv.DictReader(io.StringIO(await response.text())))
    actions = [(r["actor"], r["action"], r["target"]) for r in rows]
    assert ("quantri", "account.update", "minh") in actions
    assert ("quantri", "secretary.assign", "minh") in actions
    assert ("quantri", "account.deactivate", "chi") in actions
    assert ("quantri", "account.create", "dung") in actions
    update = next(r for r in rows if r["action"] == "account.update")
    assert '"role": "official"' in update["before"] and '"role": "secretary"' in update["after"]


async def test_csv_import_preview_then_apply(small_site: Site, admin: Browser) -> None:
    good = "username,display_name,role\nlan,Nguyễn Thị Lan,leader\nminh,Trần Minh,clerk\n"
    form = aiohttp.FormData()
    form.add_field("csrf_token", await admin.csrf("/admin/import"))
    form.add_field("file", good.encode("utf-8"), filename="staff.csv", content_type="text/csv")
    async with admin.http.post(small_site.base_url + "/admin/import", data=form) as response:
        page = await response.text()
    assert response.status == 200
    assert page.count('data-status="created"') == 2 and 'data-can-apply="1"' in page
    assert small_site.server.app[ACCOUNTS].find("lan") is None  # a preview changes nothing
    status, _, page = await admin.post("/admin/import/apply", {"csv": good}, "/admin/import")
    assert status == 201 and page.count('data-testid="imported-password"') == 2
    assert small_site.server.app[ACCOUNTS].get("lan").must_change_password
    over = "username,display_name,role\n" + "".join(f"u{i},U {i},clerk\n" for i in range(4))
    status, _, page = await admin.post("/admin/import", {"csv": over}, "/admin/import")
    assert 'data-testid="preview-over-cap"' in page and 'data-can-apply="0"' in page
    status, _, page = await admin.post("/admin/import/apply", {"csv": over}, "/admin/import")
    assert status == 409 and "đã dùng 3/6, còn trống 3" in page
    assert small_site.server.app[ACCOUNTS].find("u0") is None


async def test_json_api_with_revocable_bearer_tokens(small_site: Site, admin: Browser) -> None:
    status, _, page = await admin.post("/admin/accounts/quantri/tokens", {"name": "HR sync"})
    assert status == 201
    match = SECRET.search(page)
    assert match, "the new token is not shown"
    secret = match.group(1)
    stored = small_site.server.app[STORE].fetch_all("SELECT token_hash FROM api_tokens")
    assert secret not in {row["token_hash"] for row in stored}
    base = small_site.base_url
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {secret}"}) as api:
        async with api.get(base + "/api/accounts") as response:
            body = await response.json()
        assert body["licence"] == {"seats": SEATS, "used": 1, "free": SEATS - 1}
        async with api.post(base + "/api/accounts", json={
                "username": "lan", "display_name": "Lan", "role": "leader"}) as response:
            assert response.status == 201  # no CSRF token needed with a bearer token
            created = await response.json()
        assert created["account"]["must_change_password"] is True
        assert len(created["one_time_password"]) >= 12
        async with api.patch(base + "/api/accounts/lan", json={"role": "emperor"}) as response:
            assert response.status == 400
            assert response.content_type == "application/problem+json"
            problem = await response.json()
            assert problem["rule"] == "role_unknown"
        async with api.patch(base + "/api/accounts/lan",
                             json={"display_name": "Nguyễn Lan", "active": False}) as response:
            assert (await response.json())["active"] is False
        async with api.post(base + "/api/accounts/lan/deactivate") as response:
            assert response.status == 200
        async with api.get(base + "/api/licence") as response:
            assert await response.json() == {"seats": SEATS, "used": 1, "free": SEATS - 1}
        (token,) = small_site.server.app[API_TOKENS].list_for("quantri")
        token_id = token.id
        status, _, _ = await admin.post(f"/admin/accounts/quantri/tokens/{token_id}/revoke", {})
        assert status == 302
        async with api.get(base + "/api/accounts") as response:
            assert response.status == 401
            assert (await response.json())["code"] == "unauthorized"


async def test_api_refuses_other_roles_and_cookie_requests_without_csrf(small_site: Site) -> None:
    small_site.account("kythuat", "it")
    session = small_site.server.app[SESSIONS].create("kythuat")
    base = small_site.base_url
    async with aiohttp.ClientSession(cookies={"giaoban_session": str(session.token)}) as http:
        async with http.get(base + "/api/accounts") as response:
            assert response.status == 403
            assert (await response.json())["rule"] == "role_forbidden"
        async with http.get(base + "/docs/permissions") as response:
            page = await response.text()
            # A plain page of what each role may do; the technical matrix is not shown.
            assert 'data-testid="role-plain"' in page and "Vào các cuộc họp được mời" in page
            assert 'data-testid="route-matrix"' not in page and "GET /api/accounts" not in page
    small_site.account("quantri", "admin")
    session = small_site.server.app[SESSIONS].create("quantri")
    async with aiohttp.ClientSession(cookies={"giaoban_session": str(session.token)}) as http:
        async with http.get(base + "/docs/permissions") as response:
            page = await response.text()
            assert 'data-testid="route-matrix"' in page and "GET /api/accounts" in page
            assert "Thiết bị phòng họp" in page and "role.room" not in page
        async with http.post(base + "/api/accounts", json={}) as response:
            assert response.status == 403  # a cookie without the CSRF header
        async with http.post(base + "/api/accounts", json={"username": "x"},
                             headers={"X-CSRF-Token": session.csrf_token}) as response:
            assert response.status == 400
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer gb_nope"}) as http:
        async with http.get(base + "/api/accounts") as response:
            assert response.status == 401
