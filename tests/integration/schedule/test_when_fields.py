"""The date, start and end fields of the schedule form and the edit form: each page
shows them under the names its handler reads, holding the values it was given."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.integration.conftest import Site
from tests.integration.schedule.test_schedule_pages import DAY, signed_in


class Inputs(HTMLParser):
    """Every <input> of a page with a name: name -> its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "input" and named.get("name"):
            self.found[str(named["name"])] = named


def when_inputs(page: str) -> dict[str, tuple[str | None, str | None]]:
    parser = Inputs()
    parser.feed(page)
    return {name: (parser.found[name].get("type"), parser.found[name].get("value"))
            for name in ("date", "start_time", "end_time") if name in parser.found}


async def test_both_forms_show_the_meetings_date_start_and_end(site: Site) -> None:
    http, csrf = await signed_in(site, "lan", "clerk")
    site.account("an", "leader")
    try:
        async with http.get(site.base_url + "/schedule/new") as response:
            empty = when_inputs(await response.text())
        assert {name: kind for name, (kind, _) in empty.items()} == {
            "date": "date", "start_time": "time", "end_time": "time"}
        form = {"csrf_token": csrf, "title": "Giao ban", "agenda": "", "date": DAY,
                "start_time": "10:00", "end_time": "09:00", "invitees": "an",
                "recording_policy": "automatic", "repeat": "none"}
        async with http.post(site.base_url + "/schedule/new", data=form) as response:
            refused = await response.text()
        assert 'data-testid="schedule-error"' in refused
        assert when_inputs(refused) == {"date": ("date", DAY), "start_time": ("time", "10:00"),
                                        "end_time": ("time", "09:00")}
        form.update(end_time="11:30", confirm="all")
        async with http.post(site.base_url + "/schedule/new", data=form) as response:
            (meeting_id,) = re.findall(r'data-meeting-id="(\w+)"', await response.text())
        async with http.get(site.base_url + f"/meetings/{meeting_id}/edit") as response:
            edit = await response.text()
        assert 'data-testid="edit-form"' in edit
        assert when_inputs(edit) == {"date": ("date", DAY), "start_time": ("time", "10:00"),
                                     "end_time": ("time", "11:30")}
    finally:
        await http.close()
