"""Bulk import of accounts from CSV (preview, then apply) and the audit log pages."""

from __future__ import annotations

import asyncio
import unicodedata

from aiohttp import web

from signaling.accounts.csv_import import ImportPlan, ImportRow
from signaling.accounts.import_files import ENCODINGS, upload_text
from signaling.errors import GiaobanError
from web import i18n
from web.auth import actor, request_language
from web.keys import AUDIT, IMPORTS
from web.pages.audit_view import audit_page
from web.pages.forms import error_for
from web.pages.views import render

CSV_FIELD = "csv"
FILE_FIELD = "file"
ENCODING_FIELD = "encoding"


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/import", import_page, name="admin_import")
    app.router.add_post("/admin/import", import_preview)
    app.router.add_post("/admin/import/apply", import_apply)
    app.router.add_get("/admin/audit", audit_page, name="admin_audit")
    app.router.add_get("/admin/audit.csv", audit_csv, name="admin_audit_csv")


# ---------------------------------------------------------------- import


async def posted_csv(request: web.Request) -> str:
    """The CSV text from the uploaded file, else from the text area."""
    form = await request.post()
    upload = form.get(FILE_FIELD)
    if isinstance(upload, web.FileField):
        data = upload.file.read()
        if data:
            encoding = form.get(ENCODING_FIELD, "auto")
            return upload_text(bytes(data), upload.filename or "",
                               encoding if isinstance(encoding, str) else "auto")
    text = form.get(CSV_FIELD, "")
    return unicodedata.normalize("NFC", text) if isinstance(text, str) else ""


def row_reason(lang: str, row: ImportRow) -> str:
    key = f"error.rule.{row.rule}"
    if row.rule and key in i18n.catalog("en"):
        return i18n.translate(lang, key, **row.params)
    return row.reason


def render_import(request: web.Request, status: int = 200, plan: ImportPlan | None = None,
                  text: str = "", error: str = "",
                  created: list[object] | None = None) -> web.Response:
    lang = request_language(request)
    reasons = [row_reason(lang, row) for row in plan.rows] if plan is not None else []
    return render(request, "admin_import.html", status=status, plan=plan, text=text,
                  error=error, reasons=reasons, created=created or [], encodings=ENCODINGS)


async def import_page(request: web.Request) -> web.StreamResponse:
    return render_import(request)


async def import_preview(request: web.Request) -> web.StreamResponse:
    try:
        text = await posted_csv(request)
        plan = request.app[IMPORTS].preview(text)
    except GiaobanError as exc:
        return render_import(request, exc.status, error=error_for(request, exc))
    return render_import(request, plan=plan, text=text)


async def import_apply(request: web.Request) -> web.StreamResponse:
    text = await posted_csv(request)
    try:
        created = await asyncio.to_thread(request.app[IMPORTS].apply, text, actor(request))
    except GiaobanError as exc:
        try:
            plan: ImportPlan | None = request.app[IMPORTS].preview(text)
        except GiaobanError:
            plan = None
        return render_import(request, exc.status, plan=plan, text=text,
                             error=error_for(request, exc))
    return render_import(request, status=201, created=list(created))


# ---------------------------------------------------------------- audit


async def audit_csv(request: web.Request) -> web.StreamResponse:
    return web.Response(
        text=request.app[AUDIT].to_csv(), content_type="text/csv", charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="giaoban-audit.csv"'})
