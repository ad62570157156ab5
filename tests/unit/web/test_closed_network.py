"""Nothing the server serves makes a browser contact another origin: every template,
script, style sheet, locale string and vendored file is scanned for absolute and
protocol-relative addresses, @import and url() pointing away, and ICE servers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[3] / "web"
SERVED = [WEB / "templates", WEB / "static", WEB / "locales"]
READ_BY_BROWSERS = {".html", ".js", ".mjs", ".css", ".svg", ".json", ".map", ".webmanifest"}
INERT = {"LICENSE", "VERSION"}
"""Served files no browser interprets (plain text, opened only by a person)."""
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xhtml",
              "http://www.w3.org/1999/xlink"}
"""XML namespace names: identifiers that are never fetched."""

BLOCK_COMMENT = re.compile(r"/\*.*?\*/|<!--.*?-->|\{#.*?#\}", re.S)
LINE_COMMENT = re.compile(r"(?<![:\"'`\\/])//.*$", re.M)
"""A `//` comment: not the `//` of a scheme (after ':') nor one opening a string."""
ABSOLUTE = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'`)<>]*")
PROTOCOL_RELATIVE = re.compile(r"""(?:["'`(=]\s*|\burl\(\s*["']?)//[A-Za-z0-9\[{$]""")
IMPORT = re.compile(r"@import\b")
ICE_URL = re.compile(r"""["'`](?:stuns?|turns?):""")


def served_files() -> list[Path]:
    return sorted(p for folder in SERVED for p in folder.rglob("*") if p.is_file())


def code_of(path: Path) -> str:
    """The file without its comments: what a browser acts on."""
    text = path.read_text(encoding="utf-8")
    text = BLOCK_COMMENT.sub(" ", text)
    if path.suffix in (".js", ".mjs"):
        text = LINE_COMMENT.sub("", text)
    return text


def other_origins(text: str) -> list[str]:
    found = [m.group(0) for m in ABSOLUTE.finditer(text)
             if m.group(0).rstrip("\"'") not in NAMESPACES]
    found += [m.group(0) for m in PROTOCOL_RELATIVE.finditer(text)]
    found += [m.group(0) for m in IMPORT.finditer(text)]
    found += [m.group(0) for m in ICE_URL.finditer(text)]
    return found


def test_every_served_file_is_scanned() -> None:
    files = served_files()
    assert any(p.suffix == ".js" and "vendor" in p.parts for p in files)
    assert {p.suffix for p in files} >= {".html", ".js", ".css", ".svg", ".json"}
    unknown = [p for p in files if p.suffix not in READ_BY_BROWSERS and p.name not in INERT]
    assert unknown == [], "a new kind of served file: scan it here"


@pytest.mark.parametrize("path", served_files(), ids=lambda p: str(p.relative_to(WEB)))
def test_no_served_file_points_to_another_origin(path: Path) -> None:
    if path.name in INERT:
        return
    assert other_origins(code_of(path)) == []


def test_the_scan_finds_what_a_browser_would_fetch() -> None:
    page = ('<link rel="stylesheet" href="https://fonts.example.org/css">'
            '<script src="//cdn.example.org/x.js"></script>'
            '<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    assert len(other_origins(page)) == 2
    css = "@import 'x.css'; a { background: url(//img.example.org/a.png) }"
    assert len(other_origins(css)) == 2
    js = ('const pc = new RTCPeerConnection({iceServers: [{urls: "stun:stun.example.org"}]});\n'
          'fetch(`wss://${host}/ws`); // https://only.a/comment\n')
    assert len(other_origins(js)) == 3
    assert len(other_origins(LINE_COMMENT.sub("", js))) == 2
    assert other_origins(LINE_COMMENT.sub("", "x = 1; // see https://example.org\n")) == []
