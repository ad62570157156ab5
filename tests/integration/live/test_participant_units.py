"""Each participant's unit travels with them to the others' pages: in `joined` for
those already in, in `participant_joined` for a newcomer; real server, real /ws."""

from __future__ import annotations

from tests.integration.conftest import Site
from web.keys import ACCOUNTS, MEETINGS, SESSIONS


async def test_the_unit_of_each_account_is_in_what_the_others_are_told(site: Site) -> None:
    app = site.server.app
    app[ACCOUNTS].create("minh", "Minh", "official", "password-123", unit="Vụ Tổ chức cán bộ")
    app[ACCOUNTS].create("lan", "Lan", "official", "password-123", unit="Văn phòng")
    meeting = str(app[MEETINGS].create("Giao ban tuần", "minh", invitees=["lan"]).id)
    minh = site.client("minh", str(app[SESSIONS].create("minh").token), 0)
    lan = site.client("lan", str(app[SESSIONS].create("lan").token), 1)
    try:
        await minh.connect()
        await minh.join(meeting)
        await lan.connect()
        joined = await lan.join(meeting)
        units = {p["username"]: p["unit"] for p in joined["participants"]}
        assert units == {"minh": "Vụ Tổ chức cán bộ", "lan": "Văn phòng"}, joined["participants"]
        newcomer = await minh.expect("participant_joined")
        person = newcomer["participant"]
        assert (person["username"], person["unit"]) == ("lan", "Văn phòng"), person
        assert minh.errors == [] and lan.errors == []
    finally:
        for client in (minh, lan):
            await client.close()
