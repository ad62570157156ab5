"""Scheduling in a real Chromium against a real Giao Ban server, on loopback only.

Run it inside a private network namespace (see test_schedule_browsers.py):

    python tests/e2e/schedule_browsers.py --scenario week --out DIR
    python tests/e2e/schedule_browsers.py --scenario kiosk --out DIR

week:  a clerk books Room 2 from a free hour of the week view; a second booking that
       clashes shows the conflict inline, naming the first booking.
kiosk: Room 2's device account signs in on its kiosk page. A meeting booked in Room 2
       starts during the run: the kiosk joins it by itself at the start with the fake
       camera and microphone, an aiortc participant sees it arrive and receives its
       tracks, and the kiosk leaves at the booked end and returns to its kiosk page.

It prints a JSON result (also DIR/result.json, next to screenshots and the server log)
and exits 1 on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import async_playwright

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from rooms.bookings import BookingService  # noqa: E402
from rooms.calendar import MeetingRooms  # noqa: E402
from rooms.devices import RoomDevices  # noqa: E402
from sfu.aiortc_adapter import use_host_addresses  # noqa: E402
from signaling.accounts.accounts import AccountService  # noqa: E402
from signaling.accounts.sessions import SessionService  # noqa: E402
from signaling.config import load_config  # noqa: E402
from signaling.schedule.meetings import MeetingService  # noqa: E402
from signaling.schedule.service import MeetingDraft, ScheduleService  # noqa: E402
from signaling.store import Store  # noqa: E402
from tests.e2e.two_browsers import (  # noqa: E402
    Browser,
    cli,
    open_browser,
    serve_and_run,
)
from tests.integration.client import MeetingClient  # noqa: E402

CLERK = ("lan", "Phạm Thị Lan", "clerk", "lan-secret-pass-1")
LEADER = ("minister", "Nguyễn Văn An", "leader", "an-secret-pass-1")
KIOSK_LEAD_S = 25.0
"""The kiosk's meeting starts this long after it is scheduled."""
KIOSK_LENGTH_S = 25.0
SENT_STATS = """async () => {
  const pc = window.giaoban && window.giaoban.publishPc;
  const out = {video_frames: 0, audio_packets: 0};
  if (!pc) return out;
  for (let i = 0; i < 20; i += 1) {
    const stats = await pc.getStats();
    stats.forEach((r) => {
      if (r.type !== "outbound-rtp") return;
      if (r.kind === "video") out.video_frames = r.framesEncoded || 0;
      if (r.kind === "audio") out.audio_packets = r.packetsSent || 0;
    });
    if (out.video_frames > 0 && out.audio_packets > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return out;
}"""


def write_config(work: Path, port: int) -> Path:
    config = work / "config.toml"
    config.write_text(
        f'data_dir = "{work / "data"}"\nlog_level = "info"\n'
        f'[http]\nhost = "127.0.0.1"\nport = {port}\n'
        '[sfu]\nannounced_addresses = ["127.0.0.1"]\nworkers = 1\n',
        encoding="utf-8")
    return config


def create_accounts(config: Path) -> None:
    for username, name, role, password in (CLERK, LEADER):
        cli(config, "accounts", "create", "--username", username, "--display-name", name,
            "--role", role, "--password-stdin", stdin=password + "\n")


async def sign_in(browser: Browser, base: str, next_path: str, username: str,
                  password: str) -> None:
    page = browser.page
    await page.goto(f"{base}/login?next={next_path}")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click('[data-testid="login-button"]')
    await page.wait_for_url(lambda url: urlsplit(url).path == next_path.split("?")[0])


async def first_device_sign_in(browser: Browser, base: str, next_path: str, username: str,
                               password: str) -> None:
    """A room device's first sign-in: its one-time password must be replaced first."""
    page = browser.page
    await page.goto(f"{base}/login?next={next_path}")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click('[data-testid="login-button"]')
    await page.wait_for_url(lambda url: urlsplit(url).path == "/account/password")
    await page.fill('[data-testid="current-password"]', password)
    await page.fill('[data-testid="new-password"]', "kiosk-room-passphrase-42")
    await page.fill('[data-testid="repeat-password"]', "kiosk-room-passphrase-42")
    await page.click('[data-testid="change-password-button"]')
    await page.wait_for_url(lambda url: urlsplit(url).path == next_path)


# ---------------------------------------------------------------- week view


async def week_scenario(work: Path, base: str, config: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"checks": {}}
    checks = result["checks"]
    day = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
    column = f'[data-testid="room-column"][data-room="room-2"][data-date="{day}"]'
    async with async_playwright() as pw:
        clerk = await open_browser(pw, work, base, CLERK[0])
        page = clerk.page
        try:
            await sign_in(clerk, base, f"/calendar?week={day}", CLERK[0], CLERK[3])
            await page.wait_for_function("() => document.getElementById('calendar-app')"
                                         ".dataset.loaded === '1'", timeout=10_000)
            # A free hour of Room 2 opens the dialog with that room and time.
            await page.click(f'{column} [data-testid="slot"][data-hour="09"]')
            await page.wait_for_selector('[data-testid="booking-dialog"][open]')
            checks["slot_prefills_room"] = (
                await page.input_value('[data-testid="booking-room"]') == "room-2"
                and await page.input_value('[data-testid="booking-start"]') == "09:00")
            await page.fill('[data-testid="booking-title"]', "Họp giao ban")
            await page.click('[data-testid="booking-save"]')
            block = page.locator(f'{column} [data-testid="booking"]')
            await block.first.wait_for(timeout=10_000)
            checks["booking_shown"] = "Họp giao ban" in await block.first.inner_text()
            listed = json.loads(cli(config, "rooms", "bookings", "--room", "room-2", "--json"))
            checks["booking_stored"] = [(b["title"], b["start"][11:16], b["end"][11:16])
                                        for b in listed] == [("Họp giao ban", "09:00", "10:00")]
            first_id = listed[0]["id"] if listed else None
            await page.screenshot(path=str(work / "week-booked.png"))

            # A second booking from 08:00 to 09:30 clashes: the dialog names the first.
            await page.click(f'{column} [data-testid="slot"][data-hour="08"]')
            await page.wait_for_selector('[data-testid="booking-dialog"][open]')
            await page.fill('[data-testid="booking-title"]', "Tiếp khách")
            await page.fill('[data-testid="booking-end"]', "09:30")
            await page.click('[data-testid="booking-save"]')
            conflict = page.locator('[data-testid="booking-conflict"]')
            await conflict.wait_for(state="visible", timeout=10_000)
            text = await conflict.inner_text()
            result["conflict_text"] = text
            item = page.locator('[data-testid="conflict-item"]')
            checks["conflict_names_booking"] = (
                await item.count() == 1
                and await item.first.get_attribute("data-booking-id") == str(first_id)
                and "Họp giao ban" in text and "09:00" in text and "10:00" in text)
            checks["dialog_still_open"] = await page.is_visible(
                '[data-testid="booking-dialog"][open]')
            await page.screenshot(path=str(work / "week-conflict.png"))
            listed = json.loads(cli(config, "rooms", "bookings", "--room", "room-2", "--json"))
            checks["nothing_double_booked"] = len(listed) == 1

            # The clerk moves it to a free time instead: it is saved.
            await page.fill('[data-testid="booking-start"]', "10:00")
            await page.fill('[data-testid="booking-end"]', "11:00")
            await page.click('[data-testid="booking-save"]')
            await page.wait_for_selector('[data-testid="booking-dialog"]', state="hidden")
            await page.wait_for_function(
                f"() => document.querySelectorAll('{column} [data-testid=\"booking\"]')"
                ".length === 2", timeout=10_000)
            checks["back_to_back_saved"] = True
        finally:
            # The refused booking is a 409 on purpose; the browser logs it as an error.
            expected = "the server responded with a status of 409 (Conflict)"
            result["problems"] = {clerk.username: [p for p in clerk.problems
                                                   if expected not in p]}
            await clerk.context.close()
    checks["no_page_problems"] = not any(result["problems"].values())
    return result


# ---------------------------------------------------------------- kiosk


def schedule_kiosk_meeting(config: Path) -> tuple[str, datetime, datetime, str]:
    """A meeting in Room 2 starting soon, and a session for the leader's aiortc client."""
    settings = load_config(config, env={})
    store = Store.open(settings.database_path)
    try:
        accounts = AccountService(store, settings.licence.seats)
        bookings = BookingService(store, settings.rooms, settings.tz)
        rooms = MeetingRooms(bookings, RoomDevices(store))
        meetings = MeetingService(store, settings.tz, rooms=rooms)
        start = datetime.now(UTC) + timedelta(seconds=KIOSK_LEAD_S)
        end = start + timedelta(seconds=KIOSK_LENGTH_S)
        outcome = ScheduleService(store, meetings, accounts, rooms).schedule(
            accounts.get(CLERK[0]), MeetingDraft("Giao ban tuần", start, end,
                                                 invitees=(LEADER[0],), room_id="room-2"))
        sessions = SessionService(store, idle=timedelta(hours=1), absolute=timedelta(hours=2))
        token = sessions.create(LEADER[0]).token
        return outcome.meetings[0].id, start, end, str(token)
    finally:
        store.close()


async def kiosk_scenario(work: Path, base: str, config: Path) -> dict[str, Any]:
    use_host_addresses(["127.0.0.1"])
    result: dict[str, Any] = {"checks": {}}
    checks = result["checks"]
    device = cli(config, "rooms", "device", "--room", "room-2")
    password = device.split("one-time password: ", 1)[1].split()[0]
    meeting_id, start, end, token = schedule_kiosk_meeting(config)
    result["meeting_id"] = meeting_id
    leader = MeetingClient(base, token, LEADER[0], 0)
    async with async_playwright() as pw:
        kiosk = await open_browser(pw, work, base, "room-2")
        page = kiosk.page
        try:
            # The leader's aiortc client follows the meeting and receives the room's
            # media over loopback (the only interface inside the namespace).
            await leader.connect()
            await leader.join(meeting_id)
            await first_device_sign_in(kiosk, base, "/rooms/room-2/kiosk", "room-2", password)
            next_title = await page.inner_text('[data-testid="kiosk-next"] [data-field="title"]')
            checks["kiosk_shows_next"] = next_title == "Giao ban tuần"
            checks["waits_before_start"] = urlsplit(page.url).path == "/rooms/room-2/kiosk"
            await page.screenshot(path=str(work / "kiosk-waiting.png"))
            wait_s = (start - datetime.now(UTC)).total_seconds() + 20
            joined = await leader.expect("participant_joined", timeout=max(5.0, wait_s))
            joined_at = datetime.now(UTC)
            result["joined_after_start_s"] = round((joined_at - start).total_seconds(), 1)
            who = joined.get("participant", joined)
            checks["kiosk_joined"] = who.get("username") == "room-2"
            checks["joined_at_start"] = -1.0 <= (joined_at - start).total_seconds() <= 15.0
            checks["kiosk_page_in_meeting"] = urlsplit(page.url).path == (
                f"/rooms/room-2/join/{meeting_id}")

            def room_tracks() -> set[str]:
                return {c["kind"] for m in leader.messages if m["type"] == "offer"
                        for c in m["consumers"] if c["username"] == "room-2"}

            for _ in range(80):  # up to 20 s
                if room_tracks() == {"audio", "video"}:
                    break
                await asyncio.sleep(0.25)
            checks["room_camera_and_mic_published"] = room_tracks() == {"audio", "video"}
            sent = await page.evaluate(SENT_STATS)
            result["kiosk_sent"] = sent
            checks["kiosk_sends_media"] = (sent.get("video_frames", 0) > 0
                                           and sent.get("audio_packets", 0) > 0)
            # The room's microphone is decoded by the leader (the fake camera's frames
            # are not the test pattern's size, so the video track is only seen).
            for _ in range(40):  # up to 10 s
                audio = leader.subscriber.audio.get("room-2")
                if audio is not None and audio.frames >= 50:
                    break
                await asyncio.sleep(0.25)
            audio = leader.subscriber.audio.get("room-2")
            result["leader_decoded_room_audio_frames"] = audio.frames if audio else 0
            checks["leader_decodes_room_audio"] = audio is not None and audio.frames >= 50
            checks["leader_receives_room_video"] = "room-2" in leader.subscriber.video
            await page.screenshot(path=str(work / "kiosk-joined.png"))
            wait_s = (end - datetime.now(UTC)).total_seconds() + 15
            await leader.expect("participant_left", timeout=max(5.0, wait_s))
            left_at = datetime.now(UTC)
            result["left_after_end_s"] = round((left_at - end).total_seconds(), 1)
            checks["left_at_end"] = -1.0 <= (left_at - end).total_seconds() <= 10.0
            await page.wait_for_url(lambda url: urlsplit(url).path == "/rooms/room-2/kiosk",
                                    timeout=10_000)
            checks["back_on_kiosk"] = True
        finally:
            result["problems"] = {kiosk.username: kiosk.problems}
            result["leader_errors"] = leader.errors
            await leader.close()
            await kiosk.context.close()
    checks["no_page_problems"] = not any(result["problems"].values())
    checks["no_leader_errors"] = not result["leader_errors"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("week", "kiosk"), required=True)
    parser.add_argument("--out", type=Path, required=True, help="directory for results and logs")
    args = parser.parse_args()
    work: Path = args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)
    def prepare_server(port: int) -> Path:
        config = write_config(work, port)
        create_accounts(config)
        return config

    run = week_scenario if args.scenario == "week" else kiosk_scenario
    return serve_and_run(work, {"scenario": args.scenario}, prepare_server,
                         lambda base, config: run(work, base, config))


if __name__ == "__main__":
    sys.exit(main())
