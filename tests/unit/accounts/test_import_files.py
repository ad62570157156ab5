"""Importing accounts from what administrators have: an Excel workbook or a CSV file in
UTF-8 or Windows-1258, with Vietnamese headers and role names, names in NFC."""

from __future__ import annotations

import io
import unicodedata

import pytest
from openpyxl import Workbook

from signaling.accounts.csv_import import ROLE_NAMES, column_of, read_csv, role_of
from signaling.accounts.directory import fold
from signaling.accounts.fields import ROLES
from signaling.accounts.import_files import upload_text
from signaling.errors import BadRequest
from web import i18n

NAME = "Trần Văn Hùng"


def cp1258(text: str) -> bytes:
    """`text` as Windows-1258 writes it: a letter it holds precomposed, then the tone
    mark as a combining character."""
    out = b""
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", char)
        for mark in marks:
            rest = [m for m in marks if m != mark]
            try:
                out += unicodedata.normalize("NFC", base + mark).encode("cp1258")
                out += "".join(rest).encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
        else:
            out += (base + "".join(marks)).encode("cp1258")
    return out


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_excel_workbook_with_vietnamese_headers_reads_as_rows() -> None:
    data = workbook([["Tên đăng nhập", "Họ và tên", "Vai trò", "Mật khẩu"],
                     ["hung", unicodedata.normalize("NFD", NAME), "Cán bộ", None],
                     ["an", "Nguyễn Văn An", "Lãnh đạo", "mat-khau-rieng-42"],
                     [None, None, None, None]])
    rows = read_csv(upload_text(data, "danh-sach.xlsx"))
    assert [values for _, values in rows] == [
        {"username": "hung", "display_name": NAME, "role": "Cán bộ", "password": ""},
        {"username": "an", "display_name": "Nguyễn Văn An", "role": "Lãnh đạo",
         "password": "mat-khau-rieng-42"}]
    assert role_of(rows[0][1]["role"]) == "official" and role_of("Lãnh đạo") == "leader"


def test_a_windows_1258_file_is_detected_or_chosen() -> None:
    text = f"Tên đăng nhập;Họ tên;Vai trò\nhung;{NAME};Cán bộ\n"
    data = cp1258(text)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert upload_text(data) == text
    assert upload_text(data, "x.csv", "windows-1258") == text
    with pytest.raises(BadRequest) as refused:
        upload_text(data, "x.csv", "utf-8")
    assert refused.value.extra["rule"] == "csv_encoding"
    assert upload_text(text.encode("utf-8")) == text


def test_a_broken_workbook_is_refused_with_a_rule() -> None:
    with pytest.raises(BadRequest) as refused:
        upload_text(b"PK\x03\x04 not really a zip", "x.xlsx")
    assert refused.value.extra["rule"] == "xlsx_invalid"


@pytest.mark.parametrize("role", ROLES)
def test_every_role_is_read_by_its_name_in_both_languages(role: str) -> None:
    for lang in i18n.LANGUAGES:
        assert role_of(i18n.translate(lang, f"role.{role}")) == role
    assert role_of(role.upper()) == role
    assert fold(role) in ROLE_NAMES[role]


def test_headers_are_read_in_either_language() -> None:
    assert column_of("Tên đăng nhập") == "username" and column_of("USERNAME") == "username"
    assert column_of("Họ tên") == "display_name" and column_of("display_name") == "display_name"
    assert column_of(" Vai trò ") == "role" and column_of("Mật khẩu") == "password"
    assert column_of("Đơn vị") == "unit" and column_of("Unit") == "unit"
    assert column_of("Phòng ban") == "phong ban"  # unknown columns are still refused by name
