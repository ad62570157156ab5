"""What a page is forwarded, as a pure rule: the cameras it shows and the spotlit one;
every screen share and every microphone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from rooms.calendar import meeting_rooms
from sfu.ids import RouterId
from signaling.accounts.accounts import AccountService
from signaling.config import Config
from signaling.live import host_protocol as hp
from signaling.live import protocol as p
from signaling.live.participants import LiveMeeting
from signaling.live.visibility import forwarded, spotlit_camera
from signaling.schedule.meetings import MeetingService
from signaling.store import Store


def track(owner: str, kind: p.Kind, source: p.Source) -> p.TrackInfo:
    return p.TrackInfo(producer_id=f"pr-{owner}-{source}", participant_id=owner,
                       username=owner, kind=kind, source=source)


def test_a_page_gets_the_cameras_it_shows_the_spotlight_and_every_screen_and_mic() -> None:
    shown = frozenset({"an"})
    assert forwarded(track("an", "video", "camera"), shown)
    assert not forwarded(track("binh", "video", "camera"), shown)
    assert forwarded(track("binh", "video", "camera"), shown, spotlight="binh")
    assert not forwarded(track("chi", "video", "camera"), shown, spotlight="binh")
    assert forwarded(track("chi", "video", "screen"), shown)
    assert forwarded(track("chi", "video", "screen"), frozenset())
    assert forwarded(track("chi", "audio", "microphone"), frozenset())
    # A page that has not said what it shows is forwarded everything.
    assert forwarded(track("chi", "video", "camera"), None)


def test_only_a_spotlit_camera_is_forced_onto_every_page(store: Store) -> None:
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    meetings = MeetingService(store, tz, meeting_rooms(store, Config().rooms, tz))
    AccountService(store, seats=2).create("an", "An", "official", "password-an")
    meeting = meetings.create("Giao ban", "an", start=datetime(2030, 1, 1, 2, tzinfo=UTC),
                              invitees=[])
    live = LiveMeeting(meeting=meeting, router_id=RouterId("ro-test"))
    assert spotlit_camera(live) is None
    live.spotlight = hp.SpotlightInfo(participant_id="pa-an", source="camera")
    assert spotlit_camera(live) == "pa-an"
    live.spotlight = hp.SpotlightInfo(participant_id="pa-an", source="screen")
    assert spotlit_camera(live) is None
