"""The audit log as people read it: who did what to whom, as a sentence in the page's
language, with the fields that changed (before → after), filters and pages. The CSV
export keeps the raw entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from signaling.accounts.audit import AuditEntry
from web import i18n
from web.auth import request_language
from web.keys import ACCOUNTS, AUDIT
from web.pages.views import render

PER_PAGE = 50
SHOWN_FIELDS = ("display_name", "role", "active", "must_change_password", "leader", "name",
                "token", "created")


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class AuditLine:
    entry: AuditEntry
    sentence: str
    changes: tuple[Change, ...]


def _value(lang: str, key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return i18n.translate(lang, "audit.yes" if value else "audit.no")
    if key == "role":
        return i18n.translate(lang, f"role.{value}")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def changes_of(lang: str, entry: AuditEntry) -> tuple[Change, ...]:
    """The fields whose value differs between before and after, in a fixed order."""
    before, after = entry.before or {}, entry.after or {}
    keys = [k for k in SHOWN_FIELDS if k in before or k in after]
    keys += sorted(k for k in {*before, *after} if k not in SHOWN_FIELDS)
    return tuple(
        Change(i18n.translate(lang, f"audit.field.{k}") if f"audit.field.{k}" in
               i18n.catalog("en") else k, _value(lang, k, before.get(k)),
               _value(lang, k, after.get(k)))
        for k in keys if before.get(k) != after.get(k))


def sentence_of(lang: str, entry: AuditEntry, name_of: Any) -> str:
    key = f"audit.action.{entry.action}"
    if key not in i18n.catalog("en"):
        key = "audit.action.other"
    created = (entry.after or {}).get("created")
    leader = str((entry.after or entry.before or {}).get("leader", ""))
    return i18n.translate(lang, key, actor=name_of(entry.actor), target=name_of(entry.target),
                          action=entry.action, leader=name_of(leader),
                          count=len(created) if isinstance(created, list) else 0)


async def audit_page(request: web.Request) -> web.StreamResponse:
    lang = request_language(request)
    query = request.query.get("q", "")[:100]
    action = request.query.get("action", "")[:60]
    actor = request.query.get("actor", "")[:60]
    page_text = request.query.get("page", "1")
    page = int(page_text) if page_text.isdigit() and 0 < int(page_text) < 100_000 else 1
    log = request.app[AUDIT]
    accounts = request.app[ACCOUNTS]

    def name_of(username: str) -> str:
        if username == "cli":
            return i18n.translate(lang, "audit.cli")
        account = accounts.find(username) if username else None
        return account.display_name if account is not None else username

    matching = log.matching(query, action, actor)
    entries = log.entries(query, PER_PAGE, action, actor, (page - 1) * PER_PAGE)
    lines = [AuditLine(e, sentence_of(lang, e, name_of), changes_of(lang, e)) for e in entries]
    pages = max(1, -(-matching // PER_PAGE))
    actions = [(a, i18n.translate(lang, f"audit.filter.{a}") if f"audit.filter.{a}"
                in i18n.catalog("en") else a) for a in log.actions()]
    return render(request, "admin_audit.html", lines=lines, query=query, action=action,
                  actor=actor, actions=actions, page=page, pages=pages, matching=matching,
                  total=log.count())
