"""What an administrator uploads to import accounts, read as CSV text.

Spreadsheets come as Excel workbooks (.xlsx, read with openpyxl: the first sheet) or
as CSV text in UTF-8 or Windows-1258, which Excel on a Vietnamese Windows often
saves. The encoding is detected (UTF-8 first, Windows-1258 otherwise) or chosen by
the administrator. Every text is normalised to NFC, so a name typed in decomposed
form is found by search. The column headers and role names may be written in either
language (csv_import reads them).
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from typing import Literal, get_args

from openpyxl import load_workbook

from signaling.errors import BadRequest

Encoding = Literal["auto", "utf-8", "windows-1258"]
ENCODINGS: tuple[Encoding, ...] = get_args(Encoding)
XLSX_MAGIC = b"PK\x03\x04"
MAX_CELLS = 50_000


def is_workbook(data: bytes, filename: str = "") -> bool:
    return data.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx")


def upload_text(data: bytes, filename: str = "", encoding: str = "auto") -> str:
    """The uploaded file as CSV text in NFC; BadRequest when it cannot be read."""
    if is_workbook(data, filename):
        return workbook_csv(data)
    if encoding not in ENCODINGS:
        raise BadRequest(f"Unknown encoding {encoding!r}; choose one of: "
                         f"{', '.join(ENCODINGS)}.")
    return unicodedata.normalize("NFC", decode(data, encoding))


def decode(data: bytes, encoding: str) -> str:
    if encoding in ("auto", "utf-8"):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            if encoding == "utf-8":
                raise BadRequest("The file is not UTF-8 text; choose its encoding "
                                 "(Windows-1258) or save it as UTF-8.",
                                 rule="csv_encoding") from None
    try:
        return data.decode("cp1258")
    except UnicodeDecodeError:
        raise BadRequest("The file is neither UTF-8 nor Windows-1258 text.",
                         rule="csv_encoding_unknown") from None


def workbook_csv(data: bytes) -> str:
    """The first sheet of an Excel workbook as CSV text (empty cells as empty text)."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise BadRequest("The file is not an Excel workbook (.xlsx) that can be read.",
                         rule="xlsx_invalid") from None
    try:
        sheet = book.worksheets[0]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        cells = 0
        for row in sheet.iter_rows(values_only=True):
            cells += len(row)
            if cells > MAX_CELLS:
                raise BadRequest(f"The workbook has more than {MAX_CELLS} cells.",
                                 rule="xlsx_large", max=MAX_CELLS)
            writer.writerow([_cell(value) for value in row])
    finally:
        book.close()
    return unicodedata.normalize("NFC", out.getvalue())


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
