"""Interface strings: both languages complete, placeholders consistent, pages render."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import pytest

from signaling.accounts.accounts import Account
from signaling.ids import MeetingId, Username
from signaling.schedule.meetings import Meeting
from web import auth, i18n
from web.pages import views

WEB = views.WEB_DIR
TEMPLATE_KEY = re.compile(r"""\bt\(\s*["']([\w.]+)["']\s*[,)]""")
JS_KEY = re.compile(r"""\bt\(\s*"(\w+)"\s*[,)]""")
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def test_both_languages_have_the_same_keys() -> None:
    vi, en = set(i18n.catalog("vi")), set(i18n.catalog("en"))
    assert sorted(vi - en) == [], "missing in en.json"
    assert sorted(en - vi) == [], "missing in vi.json"


@pytest.mark.parametrize("key", sorted(i18n.catalog("vi")))
def test_placeholders_match(key: str) -> None:
    vi, en = i18n.catalog("vi")[key], i18n.catalog("en")[key]
    assert vi.strip() and en.strip()
    assert i18n.placeholders(vi) == i18n.placeholders(en)


def test_vietnamese_is_the_default_and_uses_diacritics() -> None:
    assert i18n.DEFAULT_LANGUAGE == "vi"
    assert i18n.translate("vi", "login.title") == "Đăng nhập"
    assert i18n.translate("vi", "nav.meetings") == "Cuộc họp của tôi"
    assert i18n.translate("vi", "js.leave") == "Rời cuộc họp"
    assert i18n.translate("vi", "js.mute") == "Tắt tiếng"
    assert i18n.translate("vi", "js.share_screen") == "Chia sẻ màn hình"
    assert i18n.translate("en", "login.title") == "Sign in"


def test_translate_fills_placeholders_and_survives_a_missing_key() -> None:
    assert i18n.translate("vi", "js.you", name="An") == "An (bạn)"
    assert i18n.translate("en", "js.you", name="An") == "An (you)"
    assert i18n.translate("en", "no.such.key") == "no.such.key"
    assert i18n.normalize_language(" EN ") == "en"
    assert i18n.normalize_language("fr") is None


def test_our_own_error_messages_are_translated() -> None:
    for english in (auth.FORM_EXPIRED, views.NOT_INVITED):
        title, detail = i18n.translate_error("vi", "forbidden", "Not allowed", english)
        assert title == "Không được phép"
        assert detail != english and detail
        assert i18n.translate_error("en", "forbidden", "Not allowed", english)[1] == english


def test_unknown_error_details_stay_english_only_in_english() -> None:
    detail = "A sentence the catalogue has never held."
    assert i18n.translate_error("en", "not_found", "Not found", detail) == ("Not found", detail)
    title, shown = i18n.translate_error("vi", "not_found", "Not found", detail)
    assert (title, shown) == ("Không tìm thấy", i18n.translate("vi", "error.not_found.detail"))
    title, _ = i18n.translate_error("vi", "some_new_code", "Whatever", "")
    assert title == i18n.translate("vi", "error.unexpected.title")


def test_every_template_key_exists() -> None:
    catalog = i18n.catalog("vi")
    templates = sorted((WEB / "templates").glob("*.html"))
    assert len(templates) > 10
    for path in templates:
        for key in TEMPLATE_KEY.findall(path.read_text(encoding="utf-8")):
            assert key in catalog, f"{path.name} uses missing string {key!r}"


def test_every_script_key_exists() -> None:
    catalog = i18n.catalog("vi")
    scripts = sorted((WEB / "static" / "js").glob("*.js"))
    assert len(scripts) > 3
    for path in scripts:
        for key in JS_KEY.findall(path.read_text(encoding="utf-8")):
            assert f"js.{key}" in catalog, f"{path.name} uses missing string js.{key}"


def test_the_language_switch_names_both_languages() -> None:
    for lang in i18n.LANGUAGES:
        assert i18n.translate("vi", f"lang.{lang}") == i18n.translate("en", f"lang.{lang}")


# ---------------------------------------------------------------- rendering


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(views.TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def _context(lang: str, missing: list[str]) -> dict[str, Any]:
    catalog = i18n.catalog(lang)

    def t(key: str, **params: Any) -> str:
        if key not in catalog:
            missing.append(key)
        return i18n.translate(lang, key, **params)

    return {
        "lang": lang, "t": t,
        "date": lambda v: views.format_date(lang, views.local_time(v, TZ)),
        "time": lambda v: views.format_time(views.local_time(v, TZ)),
        "account": ACCOUNT, "csrf_token": "token", "other_lang": "en",
        "switch_url": "/?lang=en",
    }


NOW = dt.datetime(2025, 3, 14, 2, 0, tzinfo=dt.UTC)  # 09:00 in Hà Nội
ACCOUNT = Account(Username("an"), "Nguyễn Văn An", "leader", True, NOW)
MEETING = Meeting(
    id=MeetingId("abc123"), title="Giao ban <tuần>", organizer=Username("an"),
    start=NOW, end=NOW + dt.timedelta(hours=1), invitees=(Username("binh"),),
    state="scheduled", created_at=NOW,
)


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_pages_render_without_missing_strings(lang: str) -> None:
    env = _environment()
    missing: list[str] = []
    rows, _ = views.split_by_day([MEETING], NOW, TZ, lambda m: "Nguyễn Văn An")
    pages: dict[str, dict[str, Any]] = {
        "login.html": {"next_path": "/meetings", "username": "", "error": "x"},
        "meetings.html": {"today": rows, "upcoming": [], "today_date": NOW},
        "meeting.html": {
            "meeting": MEETING, "organizer_name": "An", "ws_path": "/ws",
            "js_strings": views.page_strings(lang),
        },
        "error.html": {"status": 404, "title": "T", "detail": "D"},
    }
    for name, extra in pages.items():
        html = env.get_template(name).render(**_context(lang, missing), **extra)
        assert f'<html lang="{lang}">' in html
        assert " style=" not in html, "inline styles are refused by the CSP"
        assert "<script>" not in html, "inline scripts are refused by the CSP"
        assert "http://" not in html and "https://" not in html
    assert missing == []


def test_meeting_page_hands_data_to_the_script_safely() -> None:
    env = _environment()
    html = env.get_template("meeting.html").render(
        **_context("vi", []), meeting=MEETING, organizer_name="An", ws_path="/ws",
        js_strings=views.page_strings("vi"),
    )
    assert 'data-meeting-id="abc123"' in html
    assert 'data-title="Giao ban &lt;tuần&gt;"' in html
    assert 'data-username="an"' in html
    assert 'data-ws-path="/ws"' in html
    block = html.split('<script type="application/json" id="i18n">', 1)[1].split("</script>")[0]
    assert "<" not in block
    data = json.loads(block)
    assert data["lang"] == "vi"
    assert data["text"]["mute"] == "Tắt tiếng"
    assert data["errors"]["forbidden"] == "Không được phép"


def test_times_are_shown_in_the_configured_zone() -> None:
    local = views.local_time(NOW, TZ)
    assert views.format_time(local) == "09:00"
    assert views.format_date("vi", local) == "Thứ Sáu, 14/03/2025"
    assert views.format_date("en", local) == "Friday 14/03/2025"


def test_my_meetings_splits_today_from_later_and_hides_the_past() -> None:
    def at(hours: float) -> Meeting:
        start = NOW + dt.timedelta(hours=hours)
        return Meeting(MeetingId(f"m{hours}"), "x", Username("an"), start,
                       start + dt.timedelta(hours=1), (), "scheduled", NOW)

    cancelled = Meeting(MeetingId("c"), "x", Username("an"), NOW, NOW + dt.timedelta(hours=1),
                        (), "cancelled", NOW)
    # Local now is 09:00 on the 14th: -10 h ended at midnight, -3 h ended this morning.
    today, later = views.split_by_day(
        [at(20), at(-3), at(-10), at(0.5), at(-0.5), cancelled], NOW, TZ, lambda m: "An"
    )
    assert [r.meeting.id for r in today] == ["m-3", "m-0.5", "m0.5"]
    assert [r.meeting.id for r in later] == ["m20"]
    assert [(r.live, r.ended) for r in today] == [(False, True), (True, False), (False, False)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/m/abc", "/m/abc"), ("/meetings?x=1", "/meetings?x=1"), (None, "/meetings"),
        ("", "/meetings"), ("https://evil.example/", "/meetings"), ("//evil.example", "/meetings"),
        ("/\\evil.example", "/meetings"), ("javascript:alert(1)", "/meetings"),
        ("/login?next=/x", "/meetings"),
    ],
)
def test_only_local_paths_are_followed_after_sign_in(value: str | None, expected: str) -> None:
    assert views.safe_next(value) == expected
