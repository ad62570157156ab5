"""The clerk's whole path in a real Chromium against a real Giao Ban server, on loopback.

Run it inside a private network namespace (see test_clerk_browsers.py):

    python -m tests.e2e.clerk_browsers --out DIR

The clerk saves the unit "Văn phòng Bộ" as a group by picking its people by name
(typed without diacritics), schedules the weekly briefing in Room 1 for the leader
with that group and the whole unit "Vụ Tổ chức cán bộ" (found by typing "to chuc")
and a link for guests (shown once, copied with its button),
moves the second occurrence to the afternoon,
cancels the third, and downloads the updated invitation: the moved occurrence and
the cancelled one are in it, with a higher SEQUENCE.

It prints a JSON result (also DIR/result.json, next to screenshots and the server log)
and exits 1 on failure.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import vobject
from playwright.async_api import Page, async_playwright

from signaling.accounts.accounts import AccountService
from signaling.config import load_config
from signaling.store import Store
from tests.e2e.schedule_browsers import sign_in, write_config
from tests.e2e.two_browsers import open_browser, serve_and_run

CLERK = ("lan", "Phạm Thị Lan", "clerk", "lan-secret-pass-1", "")
UNIT = "Vụ Tổ chức cán bộ"
PEOPLE = (CLERK, ("minister", "Nguyễn Văn An", "leader", "an-secret-pass-1", ""),
          ("hung", "Trần Văn Hùng", "official", "hung-secret-pass-1", ""),
          ("dung", "Lê Thị Dũng", "official", "dung-secret-pass-1", UNIT),
          ("thao", "Vũ Thị Thảo", "official", "thao-secret-pass-1", UNIT))


def next_monday() -> str:
    today = datetime.now(UTC).date()
    return (today + timedelta(days=7 - today.weekday())).isoformat()


async def pick(page: Page, typed: str, option: str) -> None:
    """Type into the invitee search and choose the result whose text holds `option`."""
    await page.fill('[data-testid="invitee-search"]', typed)
    choice = page.locator('[data-testid="invitee-results"] button', has_text=option)
    await choice.first.click(timeout=10_000)


async def chips(page: Page) -> list[str]:
    return await page.eval_on_selector_all(
        '[data-testid="invitee-chip"]', "els => els.map(e => e.dataset.username)")


async def scenario(work: Path, base: str) -> dict[str, Any]:
    result: dict[str, Any] = {"checks": {}}
    checks = result["checks"]
    monday = next_monday()
    async with async_playwright() as pw:
        clerk = await open_browser(pw, work, base, CLERK[0])
        page = clerk.page
        try:
            await sign_in(clerk, base, "/groups", CLERK[0], CLERK[3])
            await page.wait_for_selector('[data-invitee-picker][data-ready="true"]')
            await page.fill('[data-testid="group-name"]', "Văn phòng Bộ")
            await pick(page, "hung", "Trần Văn Hùng")
            await pick(page, "le thi dung", "Lê Thị Dũng")
            checks["picked_by_name_without_diacritics"] = await chips(page) == ["hung", "dung"]
            await page.click('[data-testid="group-submit"]')
            await page.wait_for_selector('[data-testid="groups-done"]')

            await page.goto(f"{base}/schedule/new")
            await page.wait_for_selector('[data-invitee-picker][data-ready="true"]')
            body_font = await page.evaluate("getComputedStyle(document.body).fontFamily")
            agenda_font = await page.eval_on_selector(
                '[data-testid="field-agenda"]', "e => getComputedStyle(e).fontFamily")
            checks["agenda_uses_the_page_font"] = agenda_font == body_font
            await page.fill('[data-testid="field-title"]', "Giao ban tuần")
            await page.fill('[data-testid="field-agenda"]', "Báo cáo công tác tuần")
            await page.fill('[data-testid="field-date"]', monday)
            await page.fill('[data-testid="field-start"]', "06:30")
            await page.fill('[data-testid="field-end"]', "08:00")
            await pick(page, "van phong", "Văn phòng Bộ")
            await pick(page, "to chuc", f"Cả đơn vị: {UNIT}")
            checks["group_and_unit_add_their_members"] = \
                await chips(page) == ["hung", "dung", "thao"]
            await page.select_option('[data-testid="field-on-behalf-of"]', "minister")
            await page.select_option('[data-testid="field-room"]', "room-1")
            await page.select_option('[data-testid="field-repeat"]', "weekly")
            await page.check('input[name="weekdays"][value="0"]')
            await page.fill('[data-testid="field-count"]', "3")
            await page.check('[data-testid="field-guest-link"]')
            await page.click('[data-testid="schedule-submit"]')
            await page.wait_for_selector('[data-testid="schedule-done"]')
            ids = await page.eval_on_selector_all(
                '[data-testid="scheduled-meeting"]', "els => els.map(e => e.dataset.meetingId)")
            checks["three_meetings"] = len(ids) == 3
            rooms = await page.eval_on_selector_all(
                '[data-testid="scheduled-room"]', "els => els.map(e => e.textContent)")
            checks["room_named"] = len(rooms) == 3 and all("room-1" not in r for r in rooms)
            checks["join_links_shown"] = await page.locator(
                '[data-testid="scheduled-join-link"]').count() == 3
            # A link for guests to each meeting, shown this once, with its copy button.
            urls = await page.eval_on_selector_all(
                '[data-testid="guest-link-url"]', "els => els.map(e => e.value)")
            checks["guest_links_shown"] = len(urls) == 3 and all(
                re.fullmatch(r"https?://[^/]+/g/gl_[\w-]+", u) for u in urls)
            copy = page.locator('[data-testid="copy-guest-link"]').first
            await copy.click()
            await page.wait_for_function(
                "() => document.querySelector('[data-testid=\"copy-guest-link\"]')"
                ".textContent === 'Đã sao chép'", timeout=10_000)
            checks["guest_link_copied"] = True
            await page.screenshot(path=str(work / "scheduled.png"))

            # Move the second occurrence to the afternoon.
            await page.click(f'[data-meeting-id="{ids[1]}"] [data-testid="scheduled-edit"]')
            await page.wait_for_selector('[data-testid="edit-form"]')
            await page.fill('[data-testid="field-start"]', "14:00")
            await page.fill('[data-testid="field-end"]', "15:30")
            await page.check('[data-testid="scope-this"]')
            await page.click('[data-testid="edit-submit"]')
            await page.wait_for_selector('[data-testid="schedule-done"]')
            moved_text = await page.text_content(f'[data-meeting-id="{ids[1]}"]') or ""
            checks["moved_to_the_afternoon"] = "14:00" in moved_text

            # Cancel the third, from the series list of the edit page.
            await page.click(f'[data-meeting-id="{ids[1]}"] [data-testid="scheduled-edit"]')
            await page.click(f'[data-testid="series-meeting"][data-meeting-id="{ids[2]}"] '
                             '[data-testid="series-edit"]')
            await page.wait_for_url(lambda url: urlsplit(url).path ==
                                    f"/meetings/{ids[2]}/edit")
            await page.click('[data-testid="cancel-submit"]')
            await page.wait_for_selector(f'[data-meeting-id="{ids[2]}"][data-state="cancelled"]')
            checks["third_cancelled"] = True
            await page.screenshot(path=str(work / "cancelled.png"))

            # The updated invitation, as the clerk downloads it.
            response = await page.request.get(f"{base}/meetings/{ids[0]}.ics")
            text = await response.text()
            (work / "series.ics").write_text(text, encoding="utf-8")
            calendar = vobject.readOne(text)
            events = calendar.vevent_list
            master = next(e for e in events if not hasattr(e, "recurrence_id"))
            override = next((e for e in events if hasattr(e, "recurrence_id")), None)
            checks["invitation_is_newer"] = int(master.sequence.value) >= 1
            checks["cancelled_one_excluded"] = bool(re.search(r"EXDATE", text))
            checks["moved_one_overrides"] = (
                override is not None and int(override.sequence.value) >= 1
                and override.dtstart.value.strftime("%H:%M") == "14:00")
            checks["invitation_names_the_room"] = "LOCATION:" in text

            # The room calendar: hours once, from the 06:30 briefing; its booking is the
            # meeting's, and its dialog leads to the meeting.
            await page.goto(f"{base}/calendar?week={monday}")
            await page.wait_for_function("() => document.getElementById('calendar-app')"
                                         ".dataset.loaded === '1'", timeout=10_000)
            hours = await page.eval_on_selector_all(
                '[data-testid="hour-label"]', "els => els.map(e => e.textContent)")
            slot_texts = await page.eval_on_selector_all(
                '[data-testid="slot"]', "els => els.filter(e => e.textContent).length")
            result["hours"] = hours
            checks["hours_shown_once_from_the_first_booking"] = (
                hours[:1] == ["06:00"] and hours[-1:] == ["19:00"] and slot_texts == 0)
            column = f'[data-testid="room-column"][data-room="room-1"][data-date="{monday}"]'
            await page.click(f'{column} [data-testid="booking"]')
            await page.wait_for_selector('[data-testid="booking-meeting"]:not([hidden])')
            link = await page.get_attribute('[data-testid="booking-meeting-link"]', "href")
            checks["booking_dialog_leads_to_the_meeting"] = link == f"/meetings/{ids[0]}/edit"
            checks["booking_times_locked"] = await page.is_disabled(
                '[data-testid="booking-start"]')
            await page.screenshot(path=str(work / "calendar.png"))
            await page.keyboard.press("Escape")

            # The session ends while a form is being filled: sending it leads to sign
            # in, and then back to the form with what was typed.
            await page.goto(f"{base}/schedule/new")
            await page.fill('[data-testid="field-title"]', "Họp đột xuất")
            await page.fill('[data-testid="field-agenda"]', "Ứng phó bão số 9")
            await page.fill('[data-testid="field-date"]', monday)
            await clerk.context.add_cookies([{"name": "giaoban_session", "value": "ended",
                                              "url": base}])
            await page.click('[data-testid="schedule-submit"]')
            await page.wait_for_selector('[data-testid="login-kept"]')
            await page.fill("input[name=username]", CLERK[0])
            await page.fill("input[name=password]", CLERK[3])
            await page.click('[data-testid="login-button"]')
            await page.wait_for_selector('[data-testid="form-restored"]')
            checks["typed_input_kept_across_sign_in"] = (
                urlsplit(page.url).path == "/schedule/new"
                and await page.input_value('[data-testid="field-title"]') == "Họp đột xuất"
                and await page.input_value('[data-testid="field-agenda"]') == "Ứng phó bão số 9")
        finally:
            result["problems"] = {clerk.username: clerk.problems}
            await clerk.context.close()
    checks["no_page_problems"] = not any(result["problems"].values())
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for results and logs")
    args = parser.parse_args()
    work: Path = args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)

    def prepare_server(port: int) -> Path:
        config = write_config(work, port)
        settings = load_config(config)
        store = Store.open(settings.database_path)
        try:  # one process for every account, instead of one command each
            accounts = AccountService(store, seats=settings.licence.seats)
            for username, name, role, password, unit in PEOPLE:
                accounts.create(username, name, role, password, unit=unit)
        finally:
            store.close()
        return config

    return serve_and_run(work, {"scenario": "clerk"}, prepare_server,
                         lambda base, config: scenario(work, base))


if __name__ == "__main__":
    sys.exit(main())
