"""An administrator imports accounts from an Excel workbook with Vietnamese headers, in a
real Chromium against a real Giao Ban server, on loopback.

Run it inside a private network namespace (see test_admin_import.py):

    python -m tests.e2e.admin_import --out DIR

The workbook has the columns "Tên đăng nhập", "Họ và tên", "Vai trò" with role names
as the pages write them ("Cán bộ", "Lãnh đạo") and one name in decomposed Unicode.
The administrator previews it, imports it, reads the sheet of one-time passwords,
finds the decomposed name by search, and one new person signs in with their one-time
password and must choose a new one. It prints a JSON result (also DIR/result.json,
next to screenshots and the server log) and exits 1 on failure.
"""

from __future__ import annotations

import argparse
import io
import sys
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from openpyxl import Workbook
from playwright.async_api import async_playwright

from tests.e2e.admin_account import ADMIN, prepare, sign_in
from tests.e2e.two_browsers import open_browser, serve_and_run

PEOPLE = [("hung", "Trần Văn Hùng", "Cán bộ"), ("an.nguyen", "Nguyễn Văn An", "Lãnh đạo"),
          ("thao", "Vũ Thị Thảo", "Văn thư")]


def workbook(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Tên đăng nhập", "Họ và tên", "Vai trò"])
    for username, name, role in PEOPLE:
        sheet.append([username, unicodedata.normalize("NFD", name), role])
    out = io.BytesIO()
    book.save(out)
    path.write_bytes(out.getvalue())


async def scenario(work: Path, base: str) -> dict[str, Any]:
    result: dict[str, Any] = {"checks": {}}
    checks = result["checks"]
    upload = work / "danh-sach-can-bo.xlsx"
    workbook(upload)
    async with async_playwright() as pw:
        admin = await open_browser(pw, work, base, ADMIN[0])
        person = await open_browser(pw, work, base, PEOPLE[0][0])
        page = admin.page
        try:
            await sign_in(admin, base, ADMIN[0], ADMIN[3])
            await page.goto(f"{base}/admin/import")
            await page.set_input_files('[data-testid="import-file"]', str(upload))
            await page.click('[data-testid="preview-import"]')
            await page.wait_for_selector('[data-testid="import-preview"]')
            statuses = await page.eval_on_selector_all(
                '[data-testid="preview-row"]', "els => els.map(e => e.dataset.status)")
            checks["preview_accepts_every_row"] = statuses == ["created"] * len(PEOPLE)
            await page.click('[data-testid="apply-import"]')
            await page.wait_for_selector('[data-testid="import-result"]')
            rows = await page.eval_on_selector_all('[data-testid="imported-row"]', """els =>
                els.map(e => [e.dataset.username, e.children[1].textContent,
                  e.children[2].textContent,
                  (e.querySelector('[data-testid="imported-password"]') || {}).textContent])""")
            result["imported"] = [r[:3] for r in rows]
            checks["roles_read_from_vietnamese_names"] = [r[2] for r in rows] == [
                p[2] for p in PEOPLE]
            checks["names_in_nfc"] = all(unicodedata.is_normalized("NFC", r[1]) for r in rows)
            checks["one_time_passwords_on_the_sheet"] = all(r[3] for r in rows)
            checks["sheet_can_be_printed"] = await page.is_visible('[data-testid="print-sheet"]')
            await page.emulate_media(media="print")
            checks["print_shows_only_the_sheet"] = (
                await page.is_visible('[data-testid="import-result"]')
                and not await page.is_visible('[data-testid="import-form"]'))
            await page.emulate_media(media="screen")
            await page.screenshot(path=str(work / "imported.png"), full_page=True)
            await page.goto(f"{base}/admin/accounts?q=Hùng")
            listed = await page.text_content("main") or ""
            checks["decomposed_name_found_by_search"] = "Trần Văn Hùng" in listed

            # The new official signs in with the one-time password and must change it.
            first = person.page
            await first.goto(f"{base}/login")
            await first.fill("input[name=username]", rows[0][0])
            await first.fill("input[name=password]", rows[0][3])
            await first.click('[data-testid="login-button"]')
            await first.wait_for_url(lambda url: urlsplit(url).path == "/account/password",
                                     timeout=10_000)
            checks["one_time_password_must_be_changed"] = True
        finally:
            result["problems"] = {admin.username: admin.problems,
                                  person.username: person.problems}
            await admin.context.close()
            await person.context.close()
    checks["no_page_problems"] = not any(result["problems"].values())
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for results and logs")
    args = parser.parse_args()
    work: Path = args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)
    return serve_and_run(work, {"scenario": "admin_import"}, lambda port: prepare(work, port),
                         lambda base, config: scenario(work, base))


if __name__ == "__main__":
    sys.exit(main())
