"""A room's kiosk in a meeting on a one-worker server comes back by itself when the
worker is killed: the page rejoins without a reload and the room is heard again.

Run it inside a private network namespace, as tests/e2e/two_browsers.py explains:

    unshare -n sh -c 'ip link set lo up; exec python tests/e2e/kiosk_recovery.py --out DIR'
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import async_playwright

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from sfu.aiortc_adapter import use_host_addresses  # noqa: E402
from tests.e2e import schedule_browsers as kiosk_setup  # noqa: E402
from tests.e2e.two_browsers import cli, open_browser, serve_and_run  # noqa: E402
from tests.e2e.worker_recovery import worker_pid  # noqa: E402
from tests.integration.client import MeetingClient  # noqa: E402

PHASE = ("() => window.giaoban ? [window.giaoban.state.phase, "
         "window.giaoban.state.participantId] : [null, null]")


async def room_heard(leader: MeetingClient, within_s: float) -> int:
    """Audio frames the leader decoded from the room, waiting for 50 at most `within_s`."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        audio = leader.subscriber.audio.get("room-2")
        if audio is not None and audio.frames >= 50:
            break
        await asyncio.sleep(0.25)
    audio = leader.subscriber.audio.get("room-2")
    return audio.frames if audio else 0


async def scenario(work: Path, base: str, config: Path) -> dict[str, Any]:
    use_host_addresses(["127.0.0.1"])
    result: dict[str, Any] = {"checks": {}}
    checks = result["checks"]
    kiosk_setup.KIOSK_LEAD_S = 10.0
    kiosk_setup.KIOSK_LENGTH_S = 120.0
    device = cli(config, "rooms", "device", "--room", "room-2")
    password = device.split("one-time password: ", 1)[1].split()[0]
    meeting_id, start, _, token = kiosk_setup.schedule_kiosk_meeting(config)
    result["meeting_id"] = meeting_id
    leader = MeetingClient(base, token, kiosk_setup.LEADER[0], 0)
    again: MeetingClient | None = None
    async with async_playwright() as pw:
        kiosk = await open_browser(pw, work, base, "room-2")
        page = kiosk.page
        try:
            await leader.connect()
            await leader.join(meeting_id)
            await kiosk_setup.first_device_sign_in(kiosk, base, "/rooms/room-2/kiosk", "room-2",
                                                   password)
            wait_s = (start - datetime.now(UTC)).total_seconds() + 30
            await leader.expect("participant_joined", timeout=max(5.0, wait_s))
            checks["room_heard_before"] = await room_heard(leader, 30) >= 50
            phase, first_id = await page.evaluate(PHASE)
            checks["kiosk_joined"] = phase == "joined"
            await page.evaluate("() => { window.__sameDocument = true; }")

            os.kill(worker_pid(work / "data"), signal.SIGKILL)
            killed_at = time.monotonic()
            error = await leader.expect("error", timeout=10)
            checks["leader_told_to_rejoin"] = error["code"] == "media_lost"
            await leader.close()
            again = MeetingClient(base, token, kiosk_setup.LEADER[0], 0)
            await again.connect()
            await again.join(meeting_id)
            back = False
            for _ in range(120):  # up to 60 s
                phase, now_id = await page.evaluate(PHASE)
                if phase == "joined" and now_id != first_id:
                    back = True
                    break
                await asyncio.sleep(0.5)
            result["kiosk_back_after_s"] = round(time.monotonic() - killed_at, 1)
            checks["kiosk_rejoined_by_itself"] = back
            checks["kiosk_no_reload"] = await page.evaluate(
                "() => window.__sameDocument === true")
            checks["kiosk_still_in_meeting_page"] = urlsplit(page.url).path == (
                f"/rooms/room-2/join/{meeting_id}")
            frames = await room_heard(again, 30)
            result["room_audio_frames_after"] = frames
            checks["room_heard_again"] = frames >= 50
            await page.screenshot(path=str(work / "kiosk-recovered.png"))
        finally:
            result["problems"] = {kiosk.username: [
                p for p in kiosk.problems if "WebSocket" not in p and "ERR_" not in p]}
            result["leader_errors"] = [e for e in leader.errors if e["code"] != "media_lost"]
            await leader.close()
            if again is not None:
                result["leader_errors"] += again.errors
                await again.close()
            await kiosk.context.close()
    checks["no_page_problems"] = not any(result["problems"].values())
    checks["no_leader_errors"] = not result["leader_errors"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for results and logs")
    args = parser.parse_args()
    work: Path = args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)

    def prepare_server(port: int) -> Path:
        config = kiosk_setup.write_config(work, port)
        kiosk_setup.create_accounts(config)
        return config

    return serve_and_run(work, {"scenario": "kiosk_recovery"}, prepare_server,
                         lambda base, config: scenario(work, base, config))


if __name__ == "__main__":
    sys.exit(main())
