"""CSV import of accounts: the preview, and an all-or-nothing apply under the seat cap."""

from __future__ import annotations

import pytest

from signaling.accounts.accounts import AccountService
from signaling.accounts.audit import AuditLog
from signaling.accounts.csv_import import AccountImport, read_csv
from signaling.errors import BadRequest, LicenceExhausted
from signaling.store import Store

GOOD = """username,display_name,role,password
lan,Nguyễn Thị Lan,leader,lan-secret-pass
minh,Trần Văn Minh,secretary,
hoa,Lê Thị Hoa,clerk,
"""


@pytest.fixture
def accounts(store: Store) -> AccountService:
    service = AccountService(store, seats=5)
    service.create("admin", "Quản trị", "admin", "admin-password-1")
    return service


@pytest.fixture
def importer(store: Store, accounts: AccountService) -> AccountImport:
    return AccountImport(store, accounts)


def test_preview_of_a_good_file_changes_nothing(
    importer: AccountImport, accounts: AccountService
) -> None:
    plan = importer.preview(GOOD)
    assert [(r.line, r.username, r.status) for r in plan.rows] == [
        (2, "lan", "created"), (3, "minh", "created"), (4, "hoa", "created")]
    assert plan.can_apply and not plan.over_cap and plan.seats_left == 4
    assert [a.username for a in accounts.list()] == ["admin"]


def test_apply_of_a_good_file(importer: AccountImport, accounts: AccountService,
                              store: Store) -> None:
    created = importer.apply(GOOD, "admin")
    by_name = {a.username: a for a in created}
    assert by_name["lan"].one_time_password is None  # the file gave a password
    minh_password = by_name["minh"].one_time_password
    assert minh_password is not None and len(minh_password) >= 12
    # A password an administrator wrote in the file is changed at first sign-in too.
    assert accounts.authenticate("lan", "lan-secret-pass").must_change_password is True
    minh = accounts.authenticate("minh", minh_password)
    assert (minh.display_name, minh.role, minh.must_change_password) == (
        "Trần Văn Minh", "secretary", True)
    actions = [(e.action, e.target) for e in AuditLog(store).entries()]
    assert ("accounts.import", "csv") in actions
    assert {t for a, t in actions if a == "account.create"} == {"admin", "lan", "minh", "hoa"}
    # The same file again: every row is unchanged, there is nothing to apply.
    again = importer.preview(GOOD)
    assert {r.status for r in again.rows} == {"unchanged"} and not again.can_apply
    with pytest.raises(BadRequest, match="already exists"):
        importer.apply(GOOD, "admin")


def test_a_bad_file_lists_every_reason_and_imports_nothing(
    importer: AccountImport, accounts: AccountService
) -> None:
    accounts.create("tuan", "Phạm Tuấn", "official", "tuan-password-1")
    bad = (
        "username;display_name;role;password\n"
        "good.one;Người Tốt;clerk;\n"
        "Bad Name;Tên Sai;clerk;\n"
        "nobody;;clerk;\n"
        "emperor;Hoàng Đế;emperor;\n"
        "shorty;Mật Khẩu Ngắn;clerk;short\n"
        "good.one;Lặp Lại;clerk;\n"
        "tuan;Phạm Tuấn;leader;\n"
        "tuan2;Phạm Tuấn 2;leader;a;b\n"
    )
    plan = importer.preview(bad)
    outcome = {r.line: (r.status, r.rule) for r in plan.rows}
    assert outcome == {
        2: ("created", ""),
        3: ("rejected", "username_invalid"),
        4: ("rejected", "display_name_empty"),
        5: ("rejected", "role_unknown"),
        6: ("rejected", "too_short"),
        7: ("rejected", "csv_duplicate"),
        8: ("rejected", "csv_differs"),
        9: ("rejected", "csv_cells"),
    }
    assert all(r.reason for r in plan.rejected)
    assert not plan.can_apply
    with pytest.raises(BadRequest, match="7 rows are rejected; nothing was imported"):
        importer.apply(bad, "admin")
    assert accounts.find("good.one") is None


@pytest.mark.parametrize(("text", "rule"), [
    ("", "csv_empty"),
    ("username,display_name\nlan,Lan\n", "csv_header"),
    ("username,display_name,role,email\n", "csv_header"),
    ("username,display_name,role\n", "csv_empty"),
])
def test_unreadable_files(importer: AccountImport, text: str, rule: str) -> None:
    with pytest.raises(BadRequest) as info:
        importer.preview(text)
    assert info.value.extra["rule"] == rule


def test_a_file_over_the_cap_is_refused_whole_by_the_database(
    importer: AccountImport, accounts: AccountService, store: Store
) -> None:
    rows = "".join(f"user{i},Người {i},official\n" for i in range(5))
    text = "username,display_name,role\n" + rows
    plan = importer.preview(text)
    assert plan.over_cap and not plan.can_apply and len(plan.created) == 5
    with pytest.raises(LicenceExhausted) as info:
        importer.apply(text, "admin")
    assert "1 of 5 seats are used, 4 left" in info.value.detail
    assert [a.username for a in accounts.list()] == ["admin"]  # rolled back, all of it
    assert AuditLog(store).count() == 1  # only the admin's own creation


def test_byte_order_mark_and_blank_lines_are_accepted() -> None:
    rows = read_csv("\ufeffUsername, Display_Name ,ROLE\n\nlan,Lan,leader\n\n")
    assert rows == [(3, {"username": "lan", "display_name": "Lan", "role": "leader"})]
