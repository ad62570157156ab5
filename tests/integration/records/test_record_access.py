"""Who may see a meeting's record and its files, over real HTTP; the minutes; the
attendance CSV; the low-disk refusal; on-demand recording rights."""

from __future__ import annotations

import csv
import io
import re
import secrets
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from sfu.config import SfuSettings
from sfu.recorder import free_mb
from signaling.config import Config, HttpSettings, RecordingSettings
from tests.integration.conftest import Site, StartSite, site_config, wait_until
from web.app import create_app
from web.keys import ACCOUNTS, MINUTES, RECORD_ACCESS, RECORDINGS, SESSIONS

MP4_BYTES = bytes(range(256)) * 64


def make_site_fixture(recording: RecordingSettings):  # type: ignore[no-untyped-def]
    async def fixture(tmp_path: Path, start_site: StartSite) -> Site:
        return await start_site(site_config(
            tmp_path, SfuSettings(announced_addresses=["127.0.0.1"]), recording=recording))
    return pytest.fixture(fixture)


site = make_site_fixture(RecordingSettings())
full_disk_site = make_site_fixture(
    RecordingSettings(min_free_mb=free_mb(Path("/tmp")) + 10_000_000))


def http(site: Site, token: str | None) -> aiohttp.ClientSession:
    cookies = {"giaoban_session": token} if token else {}
    return aiohttp.ClientSession(site.base_url, cookies=cookies)


def recorded_meeting(site: Site) -> tuple[str, str, dict[str, str]]:
    """A meeting with a composite file on disk; returns (meeting id, recording id, tokens)."""
    tokens = {name: site.account(name, role) for name, role in (
        ("lanh_dao", "leader"), ("khach", "official"), ("thu_ky", "secretary"),
        ("thu_ky_khach", "secretary"), ("ngoai", "official"), ("quan_tri", "admin"))}
    meeting_id = site.meeting("lanh_dao", ["khach"])
    app = site.server.app
    app[RECORD_ACCESS].assign("thu_ky", "lanh_dao")
    app[RECORD_ACCESS].assign("thu_ky_khach", "khach")
    recordings = app[RECORDINGS]
    path = recordings.meeting_directory(meeting_id) / "composite.mp4"
    path.parent.mkdir(parents=True)
    path.write_bytes(MP4_BYTES)
    recordings.file_ready(meeting_id, "composite", path, len(MP4_BYTES))
    recording_id = recordings.list(meeting_id)[0].id
    return meeting_id, recording_id, tokens


async def test_record_and_files_only_for_those_entitled(site: Site) -> None:
    meeting_id, recording_id, tokens = recorded_meeting(site)
    file_url = f"/recordings/{recording_id}"
    for name in ("lanh_dao", "khach", "thu_ky", "thu_ky_khach", "quan_tri"):
        async with http(site, tokens[name]) as client:
            async with client.get(f"/m/{meeting_id}/record") as response:
                assert response.status == 200, name
                page = await response.text()
                assert 'data-testid="composite-video"' in page
                assert file_url in page
            async with client.get(file_url) as response:
                assert response.status == 200, name
                assert response.headers["Content-Type"] == "video/mp4"
                assert await response.read() == MP4_BYTES
            # Seeking in the browser: a byte range comes back as 206 Partial Content.
            async with client.get(file_url, headers={"Range": "bytes=100-199"}) as response:
                assert response.status == 206
                assert response.headers["Content-Range"] == f"bytes 100-199/{len(MP4_BYTES)}"
                assert await response.read() == MP4_BYTES[100:200]
            async with client.get(file_url + "?download=1") as response:
                assert "attachment" in response.headers["Content-Disposition"]
    async with http(site, tokens["ngoai"]) as outsider:
        for url in (f"/m/{meeting_id}/record", file_url, file_url + "?download=1",
                    f"/m/{meeting_id}/record/attendance.csv",
                    f"/api/meetings/{meeting_id}/compose-jobs"):
            async with outsider.get(url, headers={"Range": "bytes=0-9"}) as response:
                assert response.status == 403, url
                assert MP4_BYTES[:10] not in await response.read()
        # Guessing: other ids, paths into the data directory, /static.
        for url in (f"/recordings/{secrets.token_urlsafe(18)}", f"/recordings/{recording_id}x",
                    f"/recordings/{meeting_id}/composite.mp4",
                    f"/static/../data/recordings/{meeting_id}/composite.mp4",
                    f"/static/%2e%2e/data/recordings/{meeting_id}/composite.mp4",
                    "/recordings/..%2fgiaoban.sqlite3"):
            async with outsider.get(url) as response:
                assert response.status in (403, 404), url
                assert await response.read() != MP4_BYTES
    async with http(site, None) as anonymous:
        async with anonymous.get(file_url, allow_redirects=False) as response:
            assert response.status == 302
            assert response.headers["Location"].startswith("/login")
    site.server.app[RECORDINGS].queue_compose(meeting_id)
    async with http(site, tokens["quan_tri"]) as admin:
        async with admin.get("/admin/recordings") as response:
            assert response.status == 200
            page = await response.text()
            assert 'data-testid="usage-row"' in page
            # The composition job names its meeting by title, not by id.
            assert 'data-testid="job-meeting">Giao ban tuần <span' in page
    async with http(site, tokens["lanh_dao"]) as leader:
        async with leader.get("/admin/recordings") as response:
            assert response.status == 403


async def test_minutes_are_edited_by_the_organizer_and_secretary_only(site: Site) -> None:
    meeting_id, _, tokens = recorded_meeting(site)
    sessions = site.server.app[SESSIONS]
    url = f"/m/{meeting_id}/record/minutes"

    async def post(name: str, body: str, with_csrf: bool = True) -> int:
        csrf = sessions.get(tokens[name]).csrf_token if with_csrf else ""
        async with http(site, tokens[name]) as client:
            async with client.post(url, data={"csrf_token": csrf, "body": body},
                                   allow_redirects=False) as response:
                return response.status

    assert await post("lanh_dao", "Kết luận: triển khai ngay.") == 302
    assert site.server.app[MINUTES].get(meeting_id).body == "Kết luận: triển khai ngay."
    assert await post("thu_ky", "Biên bản do thư ký ghi.") == 302
    assert site.server.app[MINUTES].get(meeting_id).updated_by == "thu_ky"
    assert await post("khach", "sửa trái phép") == 403
    assert await post("thu_ky_khach", "sửa trái phép") == 403
    assert await post("ngoai", "sửa trái phép") == 403
    assert await post("lanh_dao", "không có mã CSRF", with_csrf=False) == 403
    assert site.server.app[MINUTES].get(meeting_id).body == "Biên bản do thư ký ghi."
    async with http(site, tokens["khach"]) as client:
        async with client.get(f"/m/{meeting_id}/record") as response:
            page = await response.text()
            assert "Biên bản do thư ký ghi." in page
            assert 'data-testid="minutes-input"' not in page


async def test_attendance_csv_lists_each_stay_and_the_total(site: Site) -> None:
    meeting_id, _, tokens = recorded_meeting(site)
    app = site.server.app
    from datetime import UTC, datetime, timedelta

    from web.keys import ATTENDANCE

    t0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    app[ATTENDANCE].joined(meeting_id, "lanh_dao", "pa-1", at=t0)
    app[ATTENDANCE].left("pa-1", at=t0 + timedelta(minutes=30))
    app[ATTENDANCE].joined(meeting_id, "lanh_dao", "pa-2", at=t0 + timedelta(minutes=40))
    app[ATTENDANCE].left("pa-2", at=t0 + timedelta(minutes=50))
    app[ATTENDANCE].joined(meeting_id, "khach", "pa-3", at=t0 + timedelta(minutes=5))
    app[ATTENDANCE].left("pa-3", at=t0 + timedelta(minutes=65))
    async with http(site, tokens["khach"]) as client:
        async with client.get(f"/m/{meeting_id}/record/attendance.csv") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/csv")
            text = (await response.read()).decode("utf-8-sig")
        async with client.get(f"/m/{meeting_id}/record") as response:
            page = await response.text()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["username", "display_name", "joined_at", "left_at", "total", "present"]
    assert [r[0] for r in rows[1:]] == ["lanh_dao", "lanh_dao", "khach"]
    assert rows[1][2] == "2026-03-02T08:00:00+07:00" and rows[1][3] == "2026-03-02T08:30:00+07:00"
    assert rows[1][4] == "0:40:00" and rows[2][4] == "" and rows[3][4] == "1:00:00"
    assert page.count('data-testid="attendance-row"') == 2


async def test_recording_is_refused_below_the_disk_floor(full_disk_site: Site) -> None:
    site = full_disk_site
    tokens = {name: site.account(name) for name in ("an", "binh")}
    meeting_id = site.meeting("an", ["binh"])
    client = site.client("an", tokens["an"], 0)
    try:
        await client.connect()
        await client.join(meeting_id)
        state = await client.expect("recording_state")
        assert state["recording"] is False and state["reason"] == "refused_low_disk"
        # Asking again gets a clear error, and the meeting goes on.
        await client.send({"type": "recording", "action": "start"})
        error = await client.expect("error")
        assert error["code"] == "low_disk" and error["request"] == "recording"
        assert "disk space" in error["detail"]
    finally:
        await client.close()
    events = site.server.app[RECORDINGS].events(meeting_id)
    assert [e.kind for e in events] == ["refused_low_disk", "refused_low_disk"]
    assert "MB" in events[0].detail
    async with http(site, tokens["an"]) as http_client:
        async with http_client.get(f"/m/{meeting_id}/record?lang=en") as response:
            page = await response.text()
    assert 'data-kind="refused_low_disk"' in page
    assert "not enough free disk space" in page


async def test_on_demand_recording_is_started_by_the_organizer_only(site: Site) -> None:
    tokens = {name: site.account(name) for name in ("an", "binh")}
    meeting_id = site.meeting("an", ["binh"])
    site.server.app[RECORDINGS].set_policy(meeting_id, "on_demand")
    organizer = site.client("an", tokens["an"], 0)
    guest = site.client("binh", tokens["binh"], 1)
    try:
        await organizer.connect()
        await organizer.join(meeting_id)
        state = await organizer.expect("recording_state")
        assert state == {"type": "recording_state", "recording": False, "policy": "on_demand",
                         "reason": None, "can_control": True}
        await guest.connect()
        await guest.join(meeting_id)
        assert (await guest.expect("recording_state"))["can_control"] is False
        seen = len(guest.messages)
        await guest.send({"type": "recording", "action": "start"})
        assert (await guest.expect("error", after=seen))["code"] == "forbidden"
        await guest.send({"type": "recording", "action": "pause"})
        await wait_until(lambda: len(guest.errors) == 2, 5, "the second error")
        assert guest.errors[1]["code"] == "invalid_message"
        seen = len(guest.messages)
        await organizer.send({"type": "recording", "action": "start"})
        started = await guest.expect("recording_state", after=seen)
        assert started["recording"] is True
        seen = len(guest.messages)
        await organizer.send({"type": "recording", "action": "stop"})
        stopped = await guest.expect("recording_state", after=seen)
        assert stopped["recording"] is False and stopped["reason"] == "stopped"
    finally:
        await guest.close()
        await organizer.close()
    kinds = [e.kind for e in site.server.app[RECORDINGS].events(meeting_id)]
    assert kinds == ["started", "stopped"]


async def test_a_failed_composition_is_retried_from_the_record_page(site: Site) -> None:
    meeting_id, _, tokens = recorded_meeting(site)
    recordings = site.server.app[RECORDINGS]
    job = recordings.queue_compose(meeting_id)
    claimed = recordings.claim_job()
    while claimed is not None and claimed.id != job.id:  # the queue may have taken it already
        claimed = recordings.claim_job()
    recordings.job_finished(job.id, "the disk was unplugged")
    failed = recordings.job(job.id)
    assert (failed.status, failed.attempts) == ("failed", 1)
    url = f"/m/{meeting_id}/record/jobs/{job.id}/retry"
    sessions = site.server.app[SESSIONS]
    async with http(site, tokens["lanh_dao"]) as organizer:
        async with organizer.get(f"/m/{meeting_id}/record") as response:
            page = await response.text()
            assert 'data-testid="retry-button"' in page and 'data-status="failed"' in page
    async with http(site, tokens["khach"]) as guest:
        async with guest.get(f"/m/{meeting_id}/record") as response:
            assert 'data-testid="retry-button"' not in await response.text()
        async with guest.post(url, data={"csrf_token": sessions.get(tokens["khach"]).csrf_token},
                              allow_redirects=False) as response:
            assert response.status == 403
    assert recordings.job(job.id).status == "failed"
    async with http(site, tokens["lanh_dao"]) as organizer:
        async with organizer.post(
                url, data={"csrf_token": sessions.get(tokens["lanh_dao"]).csrf_token},
                allow_redirects=False) as response:
            assert response.status == 302
    # The retry queued the job and woke the queue, which ran it a second time: a new
    # start after the first run ended, and the first run's error is gone.
    first_run = recordings.job(job.id)
    assert first_run.attempts in (1, 2)  # the queue may already have claimed it again
    assert first_run.error != "the disk was unplugged"
    await wait_until(lambda: recordings.job(job.id).attempts == 2
                     and recordings.job(job.id).status in ("complete", "failed"), 60,
                     "the retried composition to run once more")
    again = recordings.job(job.id)
    assert again.error != "the disk was unplugged"
    assert again.started_at is not None and failed.finished_at is not None
    assert again.started_at >= failed.finished_at


async def test_recordings_cut_off_by_a_crash_are_composed_after_restart(tmp_path: Path) -> None:
    config = Config(data_dir=str(tmp_path / "data"), http=HttpSettings(host="127.0.0.1"),
                    sfu=SfuSettings(announced_addresses=["127.0.0.1"]))
    app = create_app(config)
    site = Site(server=TestServer(app, host="127.0.0.1"), base_url="")
    site.account("an")
    meeting_id = site.meeting("an", [])
    app[RECORDINGS].track_started(meeting_id, "p-1", "video", "an", "camera", "p-1.webm")
    await site.server.start_server()
    try:
        jobs = app[RECORDINGS].jobs(meeting_id)
        assert len(jobs) == 1
        assert [r.status for r in app[RECORDINGS].list(meeting_id)] == ["processing"]
        assert [e.kind for e in app[RECORDINGS].events(meeting_id)] == ["failed"]
    finally:
        await site.server.close()


async def test_the_chair_s_secretary_writes_the_minutes_and_absent_invitees_are_listed(
        site: Site) -> None:
    _, _, tokens = recorded_meeting(site)
    app = site.server.app
    from datetime import UTC, datetime, timedelta

    from signaling.schedule.service import MeetingDraft
    from web.keys import ATTENDANCE, SCHEDULE

    tokens["van_thu"] = site.account("van_thu", "clerk")
    start = datetime.now(UTC) + timedelta(hours=2)
    (meeting,) = app[SCHEDULE].schedule(app[ACCOUNTS].get("van_thu"), MeetingDraft(
        "Giao ban Bộ", start, start + timedelta(hours=1), invitees=("khach", "ngoai"),
        on_behalf_of="lanh_dao")).meetings
    app[ATTENDANCE].joined(meeting.id, "khach", "pa-9", at=start)
    app[ATTENDANCE].left("pa-9", at=start + timedelta(minutes=20))
    async with http(site, tokens["thu_ky"]) as client:  # the secretary of the chair
        async with client.get(f"/m/{meeting.id}/record") as response:
            page = await response.text()
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        assert 'data-testid="minutes-input"' in page
        async with client.post(f"/m/{meeting.id}/record/minutes",
                               data={"csrf_token": csrf, "body": "Kết luận của Bộ trưởng."},
                               allow_redirects=False) as response:
            assert response.status in (302, 303)
        async with client.get(f"/m/{meeting.id}/record/attendance.csv") as response:
            rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert app[MINUTES].get(meeting.id).body == "Kết luận của Bộ trưởng."
    absent = {r[0]: r[5] for r in rows[1:] if r[5] == "no"}
    assert absent == {"lanh_dao": "no", "ngoai": "no"}
    assert 'data-username="ngoai" data-absent="true"' in page
    assert 'data-username="khach" data-absent' not in page
