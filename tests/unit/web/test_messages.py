"""Every message a user can trigger exists in both languages.

The errors the server raises are found in its source: each `raise`-able error built
with a message must either name a rule the catalogue holds ("error.rule.<rule>") or
be one of the catalogue's "error.message.*" strings, whose {placeholders} stand for the
values the message names. Pages and scripts carry no sentence of their own outside
the catalogue.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from signaling.errors import BadRequest, GiaobanError
from web import i18n
from web.pages import views

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("signaling", "web", "rooms")
TERMINAL_ONLY = (ROOT / "web" / "cli",)
"""The command line speaks to an administrator's terminal, in English."""
DYNAMIC = {
    "exc.reason": "aiohttp's own reason phrase; the page shows the status's sentence",
    "exc.message": "the media plane's reason; the page shows the status's sentence",
}
"""Messages computed elsewhere; each code's generic "error.<code>.detail" stands in."""
SILENT = {"InvalidQualityReport": "a quality report the page's script sends is dropped unseen"}
SAMPLE_DETAIL = "The meeting must end after it starts."
"""What a "{detail}" in a sample holds: another of our messages."""


@dataclass(frozen=True, slots=True)
class Raised:
    where: str
    message: str | None
    """A sample message with every value filled in; None when it is computed."""
    expression: str
    rule: str | None
    values: tuple[str, ...]


def _error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    names = {cls.__name__ for cls in _subclasses(GiaobanError)} | {"GiaobanError"}
    grown = True
    while grown:
        grown = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names and any(
                        isinstance(b, ast.Name) and b.id in names for b in node.bases):
                    names.add(node.name)
                    grown = True
    return names


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def _constants(trees: dict[Path, ast.Module]) -> dict[str, str]:
    found: dict[str, str] = {}
    for tree in trees.values():
        for node in tree.body:
            targets = (node.targets if isinstance(node, ast.Assign)
                       else [node.target] if isinstance(node, ast.AnnAssign) else [])
            value = getattr(node, "value", None)
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                for target in targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = value.value
    return found


def _sample(node: ast.expr, constants: dict[str, str]) -> tuple[str, tuple[str, ...]] | None:
    """The message with each value replaced by a recognisable token, and those tokens."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, ()
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id], ()
    if isinstance(node, ast.JoinedStr):
        parts: list[str] = []
        values: list[str] = []
        for piece in node.values:
            if isinstance(piece, ast.Constant):
                parts.append(str(piece.value))
                continue
            assert isinstance(piece, ast.FormattedValue)
            if ast.unparse(piece.value).endswith(".detail"):
                parts.append(SAMPLE_DETAIL)
                continue
            token = f"v{len(values)}x"
            values.append(token)
            parts.append(repr(token) if piece.conversion == ord("r") else token)
        return "".join(parts), tuple(values)
    return None


def raised_messages() -> list[Raised]:
    trees = {
        path: ast.parse(path.read_text(encoding="utf-8"))
        for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
        if not any(path.is_relative_to(skip) for skip in TERMINAL_ONLY)
    }
    classes = _error_classes(trees)
    constants = _constants(trees)
    found = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in classes and node.func.id not in SILENT
                    and node.args):
                continue
            rule = next((k.value.value for k in node.keywords if k.arg == "rule"
                         and isinstance(k.value, ast.Constant)), None)
            sample = _sample(node.args[0], constants)
            found.append(Raised(
                where=f"{path.relative_to(ROOT)}:{node.lineno}",
                message=sample[0] if sample else None,
                expression=ast.unparse(node.args[0]),
                rule=str(rule) if rule is not None else None,
                values=sample[1] if sample else ()))
    return found


RAISED = raised_messages()


def test_the_scan_finds_the_errors_it_guards() -> None:
    assert len(RAISED) > 150
    wheres = {r.message for r in RAISED}
    assert "The meeting must end after it starts." in wheres
    assert any(r.where.startswith("signaling/accounts/passwords.py") for r in RAISED)


@pytest.mark.parametrize("raised", RAISED, ids=[r.where for r in RAISED])
def test_every_message_a_user_can_trigger_is_in_both_languages(raised: Raised) -> None:
    if raised.rule and f"error.rule.{raised.rule}" in i18n.catalog("en"):
        return
    if raised.message is None:
        assert raised.expression in DYNAMIC, (
            f"{raised.where}: the message {raised.expression} cannot be checked; raise it "
            "from a catalogue string")
        return
    known = i18n.message_key(raised.message)
    assert known is not None, (
        f"{raised.where}: {raised.message!r} is in no language; add it to web/locales as "
        "an error.message.* string (placeholders for its values)")
    shown = i18n.translate_message("vi", raised.message)
    assert shown is not None and shown != raised.message
    assert i18n.translate_message("en", raised.message) == raised.message.replace(
        "\"", "'") or i18n.translate_message("en", raised.message) is not None
    for value in raised.values:
        assert value in shown, f"{raised.where}: the Vietnamese text drops {value}"


def test_a_message_with_values_reads_in_vietnamese_with_them() -> None:
    detail = "No account with username 'trần văn hùng'."
    title, shown = i18n.translate_error("vi", "not_found", "Not found", detail)
    assert shown == "Không có tài khoản với tên đăng nhập 'trần văn hùng'."
    assert i18n.translate_error("en", "not_found", "Not found", detail)[1] == detail
    assert i18n.translate_message("vi", "No booking with id 12.") == \
        "Không có lịch đặt phòng số 12."


def test_a_field_error_translates_the_message_it_wraps() -> None:
    wrapped = "'start': A date and time is required, e.g. 2025-03-14T09:00."
    assert i18n.translate_message("vi", wrapped) == \
        "'start': Cần nhập ngày và giờ, ví dụ 2025-03-14T09:00."
    assert i18n.translate_message("vi", "'start': some new English words") is None


def test_a_refusal_reads_as_one_sentence_in_the_page_language() -> None:
    exc = BadRequest("The meeting must end after it starts.")
    assert i18n.describe_error("vi", exc) == "Giờ kết thúc cuộc họp phải sau giờ bắt đầu."
    assert i18n.describe_error("en", exc) == "The meeting must end after it starts."
    ruled = BadRequest("whatever", rule="csv_rows", max=3)
    assert i18n.describe_error("vi", ruled) == i18n.translate("vi", "error.rule.csv_rows",
                                                              max=3)


# ---------------------------------------------------------------- pages and scripts

JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
WORDS = re.compile(r"[^\W\d_]{2}")
SHOWN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
NOT_WORDS = {"GB", "MB", "KiB"}
"""The logo's letters and units, the same in both languages."""
CSS_CLASSES = re.compile(r"[a-z][a-z \n-]*")
"""A block that only fills a class name."""


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._code += tag in ("script", "style")
        self.found += [v for k, v in attrs if k in SHOWN_ATTRIBUTES and v and WORDS.search(v)]

    def handle_endtag(self, tag: str) -> None:
        self._code -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        text = data.strip()
        if not self._code and WORDS.search(text) and text not in NOT_WORDS \
                and not CSS_CLASSES.fullmatch(text):
            self.found.append(text)


def untranslated_page_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(JINJA.sub("", html))
    return parser.found


def test_pages_hold_no_words_outside_the_catalogue() -> None:
    templates = sorted((views.TEMPLATES_DIR).glob("*.html"))
    assert len(templates) > 10
    for path in templates:
        assert untranslated_page_text(path.read_text(encoding="utf-8")) == [], path.name


def test_the_page_check_sees_a_sentence_typed_into_a_page() -> None:
    assert untranslated_page_text("<p>{{ t('x') }} Save</p>") == ["Save"]
    assert untranslated_page_text('<input placeholder="an, binh">') == ["an, binh"]
    assert untranslated_page_text("<p>{{ t('x') }}</p><b>GB</b>") == []


SCRIPT_TEXT = re.compile(
    r"""(?:textContent|innerText|placeholder|title|label|text)\s*[:=]\s*["'`][^"'`]*[^\W\d_]{2}"""
    r"""|(?:alert|confirm|prompt)\(\s*["'`]""")


INTERPOLATION = re.compile(r"\$\{[^}]*\}")


def test_scripts_show_no_words_outside_the_catalogue() -> None:
    scripts = sorted((views.WEB_DIR / "static" / "js").glob("*.js"))
    assert len(scripts) > 3
    for path in scripts:
        code = INTERPOLATION.sub("", path.read_text(encoding="utf-8"))
        hits = [m.group(0) for m in SCRIPT_TEXT.finditer(code)]
        assert [h for h in hits if not h.startswith("title: \"timeout")] == [], path.name
