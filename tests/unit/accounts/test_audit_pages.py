"""The audit log read in pages and by filter; the sentences and changes it is shown as."""

from __future__ import annotations

from pathlib import Path

from signaling.accounts.audit import AuditLog, record
from signaling.store import Store
from web.pages.audit_view import changes_of, sentence_of


def test_pages_and_filters(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "g.sqlite3")
    try:
        with store.transaction() as db:
            for i in range(120):
                record(db, "root" if i % 2 else "cli", "account.update" if i % 3 else
                       "account.create", f"user{i}", None, {"role": "official"})
        log = AuditLog(store)
        assert log.matching() == 120 and len(log.entries(limit=50, offset=100)) == 20
        newest = log.entries(limit=1)[0]
        assert newest.target == "user119"
        assert log.matching(action="account.create") == 40
        assert log.matching(actor="root", action="account.create") == 20
        assert [e.target for e in log.entries(search="user11", limit=5)][:2] == [
            "user119", "user118"]
        assert log.actions() == ["account.create", "account.update"]
        entry = log.entries(action="account.create", limit=1)[0]
        names = {"root": "Quản trị viên", "user117": "Trần Văn Hùng"}
        assert sentence_of("vi", entry, lambda u: names.get(u, u)) == \
            "Quản trị viên đã tạo tài khoản cho Trần Văn Hùng."
        (change,) = changes_of("en", entry)
        assert (change.field, change.before, change.after) == ("Role", "—", "Official")
    finally:
        store.close()
