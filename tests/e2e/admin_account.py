"""An administrator creates an account in Chromium, and that person signs in.

Run it inside a private network namespace, where 127.0.0.1 is the only address:

    unshare -n sh -c 'ip link set lo up; exec python tests/e2e/admin_account.py --out DIR'

It writes a configuration, creates the administrator with `python -m web.cli.main`, starts
`python -m web.cli.main serve`, then, in one browser, the administrator signs in, opens
the accounts page, creates an account with a one-time password and reads it off the
page. In a second browser the new user signs in with it, is made to choose a new
password, and lands on "my meetings". It prints a JSON result (also written to
DIR/result.json, next to screenshots and the server log) and exits 1 on failure.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import async_playwright

from tests.e2e.two_browsers import (
    Browser,
    cli,
    open_browser,
    serve_and_run,
)

ADMIN = ("quantri", "Quản trị viên", "admin", "quantri-secret-1")
NEW_USER = ("lan.nguyen", "Nguyễn Thị Lan", "leader")
NEW_PASSWORD = "hoa-sen-trang-9"
STEP_MS = 10_000


def prepare(work: Path, port: int) -> Path:
    config = work / "config.toml"
    config.write_text(
        f'data_dir = "{work / "data"}"\nlog_level = "info"\n'
        f'[http]\nhost = "127.0.0.1"\nport = {port}\n'
        '[sfu]\nannounced_addresses = ["127.0.0.1"]\nworkers = 1\n',
        encoding="utf-8",
    )
    username, name, role, password = ADMIN
    cli(config, "accounts", "create", "--username", username, "--display-name", name,
        "--role", role, "--password-stdin", stdin=password + "\n")
    return config


async def sign_in(browser: Browser, base: str, username: str, password: str) -> None:
    page = browser.page
    await page.goto(f"{base}/login", timeout=STEP_MS)
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click('[data-testid="login-button"]')
    await page.wait_for_load_state("load")


def path_of(url: str) -> str:
    return urlsplit(url).path


async def scenario(work: Path, base: str) -> dict[str, Any]:
    result: dict[str, Any] = {"checks": {}}
    checks = result["checks"]
    async with async_playwright() as pw:
        admin = await open_browser(pw, work, base, "admin")
        user = await open_browser(pw, work, base, "user")
        try:
            await sign_in(admin, base, ADMIN[0], ADMIN[3])
            page = admin.page
            await page.click('[data-testid="nav-admin"]', timeout=STEP_MS)
            await page.wait_for_url(lambda url: path_of(url) == "/admin/accounts", timeout=STEP_MS)
            status = page.locator('[data-testid="licence-status"]')
            checks["licence_before"] = await status.get_attribute("data-used") == "1"
            username, name, role = NEW_USER
            await page.fill('[data-testid="create-username"]', username)
            await page.fill('[data-testid="create-display-name"]', name)
            await page.select_option('[data-testid="create-role"]', role)
            await page.click('[data-testid="create-submit"]')
            secret = page.locator('[data-testid="one-time-password"]')
            await secret.wait_for(timeout=STEP_MS)
            one_time = (await secret.inner_text()).strip()
            checks["one_time_password_shown"] = len(one_time) >= 12
            heading = page.locator('[data-testid="account-heading"]')
            checks["account_page"] = await heading.get_attribute("data-username") == username
            await page.screenshot(path=str(work / "admin-created.png"))
            await page.goto(f"{base}/admin/accounts?q=lan", timeout=STEP_MS)
            rows = page.locator('[data-testid="account-row"]')
            checks["listed"] = (await rows.count() == 1
                                and await rows.first.get_attribute("data-username") == username)
            checks["licence_after"] = await status.get_attribute("data-used") == "2"

            await sign_in(user, base, username, one_time)
            upage = user.page
            checks["sent_to_change_password"] = path_of(upage.url) == "/account/password"
            await upage.fill('[data-testid="current-password"]', one_time)
            await upage.fill('[data-testid="new-password"]', NEW_PASSWORD)
            await upage.fill('[data-testid="repeat-password"]', NEW_PASSWORD)
            await upage.click('[data-testid="change-password-button"]')
            await upage.wait_for_url(lambda url: path_of(url) == "/meetings", timeout=STEP_MS)
            shown = await upage.locator('[data-testid="current-user"]').inner_text()
            checks["signed_in_as_new_user"] = shown.strip() == name
            checks["no_admin_link"] = await upage.locator('[data-testid="nav-admin"]').count() == 0
            await upage.goto(f"{base}/admin/accounts", timeout=STEP_MS)
            checks["admin_page_refused"] = (
                await upage.locator('[data-testid="error-page"]').get_attribute("data-status")
                == "403")
            await upage.screenshot(path=str(work / "user-signed-in.png"))
            # The new password works on a fresh sign-in too.
            await upage.click('[data-testid="logout-button"]')
            await sign_in(user, base, username, NEW_PASSWORD)
            checks["new_password_works"] = path_of(upage.url) == "/meetings"
        finally:
            result["problems"] = {b.username: b.problems for b in (admin, user)}
            for b in (admin, user):
                await b.context.close()
    # The refused admin page logs a 403 in the console; nothing else may appear.
    problems = [p for b in result["problems"].values() for p in b if "403" not in p]
    checks["no_page_problems"] = not problems
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for results and logs")
    args = parser.parse_args()
    work: Path = args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)
    return serve_and_run(work, {}, lambda port: prepare(work, port),
                         lambda base, _: scenario(work, base))


if __name__ == "__main__":
    sys.exit(main())
