"""An account's unit: the rule it follows, how it is kept and changed, and how the
directory finds it."""

from __future__ import annotations

import unicodedata

import pytest

from signaling.accounts.accounts import AccountService
from signaling.accounts.audit import AuditLog
from signaling.accounts.directory import search, units
from signaling.accounts.fields import UNIT_MAX, check_unit
from signaling.errors import BadRequest
from signaling.store import Store

UNIT = "Vụ Tổ chức cán bộ"


@pytest.fixture
def accounts(store: Store) -> AccountService:
    return AccountService(store, seats=20)


def test_a_unit_is_one_trimmed_line_in_nfc() -> None:
    assert check_unit(f"  {unicodedata.normalize('NFD', UNIT)} ") == UNIT
    assert check_unit("") == "" and check_unit("   ") == ""  # no unit
    assert check_unit("x" * UNIT_MAX) == "x" * UNIT_MAX


@pytest.mark.parametrize(("text", "rule"), [
    ("Vụ\nTổ chức", "unit_control"), ("Vụ\u200bTổ chức", "unit_control"),
    ("Vụ\tTổ chức", "unit_control"), ("x" * (UNIT_MAX + 1), "unit_long"),
])
def test_a_bad_unit_is_refused_by_its_rule(text: str, rule: str) -> None:
    with pytest.raises(BadRequest) as refused:
        check_unit(text)
    assert refused.value.extra["rule"] == rule


def test_the_unit_is_kept_changed_and_audited(accounts: AccountService, store: Store) -> None:
    created = accounts.create("hung", "Trần Văn Hùng", "official", "password-123", unit=UNIT)
    assert created.unit == UNIT and accounts.get("hung").unit == UNIT
    with pytest.raises(BadRequest):
        accounts.update("hung", unit="a\nb")
    assert accounts.get("hung").unit == UNIT  # a refused change changes nothing
    assert accounts.update("hung", unit="Văn phòng Bộ").unit == "Văn phòng Bộ"
    assert accounts.update("hung", display_name="Trần Hùng").unit == "Văn phòng Bộ"
    (update, *_) = [e for e in AuditLog(store).entries() if e.action == "account.update"]
    assert update.after is not None and update.after["unit"] == "Văn phòng Bộ"


def test_the_directory_finds_people_and_units_by_unit_without_diacritics(
    accounts: AccountService,
) -> None:
    accounts.create("hung", "Trần Văn Hùng", "official", "password-123", unit=UNIT)
    accounts.create("dung", "Lê Thị Dũng", "official", "password-123", unit=UNIT)
    accounts.create("cu", "Nguyễn Văn Cũ", "official", "password-123", unit=UNIT)
    accounts.set_active("cu", False)
    accounts.create("minh", "Phạm Quang Minh", "leader", "password-123", unit="Văn phòng Bộ")
    everyone = accounts.list()
    assert [a.username for a in search(everyone, "to chuc", {})] == ["dung", "hung"]
    assert [a.username for a in search(everyone, "hung to chuc", {})] == ["hung"]
    found = units(everyone, "TO CHUC")
    assert list(found) == [UNIT]
    assert [a.username for a in found[UNIT]] == ["dung", "hung"]
    assert units(everyone, "hung") == {}  # a person's name is no unit
    assert list(units(everyone, "van phong")) == ["Văn phòng Bộ"]
