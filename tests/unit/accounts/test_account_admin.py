"""Account administration in the service: secretaries of leaders, password reset and
change, the audit trail, API tokens and who must leave live meetings."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from signaling.accounts.accounts import AccountService
from signaling.accounts.audit import AuditLog, acting_from
from signaling.accounts.passwords import PasswordRejected
from signaling.accounts.sessions import SessionService
from signaling.accounts.tokens import ApiTokenService
from signaling.errors import BadRequest, NotFound, Unauthorized
from signaling.store import Store

PASSWORD = "correct horse"


@pytest.fixture
def accounts(store: Store) -> AccountService:
    service = AccountService(store, seats=10)
    service.create("lan", "Nguyễn Thị Lan", "leader", PASSWORD)
    service.create("hung", "Trần Hùng", "leader", PASSWORD)
    service.create("minh", "Lê Minh", "secretary", PASSWORD)
    service.create("hoa", "Phạm Hoa", "clerk", PASSWORD)
    return service


def test_secretaries_of_leaders(accounts: AccountService, store: Store) -> None:
    accounts.assign_secretary("minh", "lan", "admin")
    accounts.assign_secretary("minh", "hung", "admin")
    accounts.assign_secretary("MINH", "hung", "admin")  # again: nothing changes
    assert accounts.leaders_of("minh") == ["hung", "lan"]
    assert accounts.secretaries_of("lan") == ["minh"]
    with pytest.raises(BadRequest, match="'hoa' is not a secretary"):
        accounts.assign_secretary("hoa", "lan")
    with pytest.raises(BadRequest, match="'hoa' is not a leader"):
        accounts.assign_secretary("minh", "hoa")
    with pytest.raises(NotFound):
        accounts.assign_secretary("minh", "nobody")
    accounts.unassign_secretary("minh", "hung", "admin")
    assert accounts.leaders_of("minh") == ["lan"]
    accounts.set_role("lan", "official", "admin")  # no longer a leader: assignment goes
    assert accounts.leaders_of("minh") == []
    actions = [e.action for e in AuditLog(store).entries() if e.target == "minh"]
    assert actions.count("secretary.assign") == 2 and actions.count("secretary.unassign") == 1


def test_reset_then_change_password(accounts: AccountService, store: Store) -> None:
    sessions = SessionService(store, idle=timedelta(hours=1),
                              absolute=timedelta(hours=8))
    session = sessions.create("hoa")
    one_time = accounts.reset_password("hoa", "admin")
    with pytest.raises(Unauthorized):
        sessions.get(session.token)
    with pytest.raises(Unauthorized):
        accounts.authenticate("hoa", PASSWORD)
    assert accounts.authenticate("hoa", one_time).must_change_password
    with pytest.raises(BadRequest, match="current password is wrong"):
        accounts.change_password("hoa", "not it", "hoa-new-secret-1")
    with pytest.raises(PasswordRejected, match="must differ"):
        accounts.change_password("hoa", one_time, one_time)
    with pytest.raises(PasswordRejected, match="at least 10"):
        accounts.change_password("hoa", one_time, "short")
    accounts.change_password("hoa", one_time, "hoa-new-secret-1")
    assert accounts.authenticate("hoa", "hoa-new-secret-1").must_change_password is False
    entries = [(e.actor, e.action) for e in AuditLog(store).entries() if e.target == "hoa"]
    assert ("admin", "account.reset_password") in entries
    assert ("hoa", "account.change_password") in entries
    assert all(one_time not in str(e.after) for e in AuditLog(store).entries())


def test_first_admin_must_change_a_generated_password(store: Store) -> None:
    service = AccountService(store, seats=3)
    password = service.ensure_first_admin({})
    assert password is not None
    assert service.authenticate("admin", password).must_change_password


def test_audit_keeps_before_and_after(accounts: AccountService, store: Store) -> None:
    with acting_from("10.10.0.7"):
        accounts.update("hoa", display_name="Phạm Thị Hoa", role="official", actor="admin")
    accounts.set_active("hoa", False, "admin")
    accounts.set_active("hoa", False, "admin")  # no change, no entry
    entries = [e for e in AuditLog(store).entries() if e.target == "hoa"]
    assert [e.action for e in entries] == ["account.deactivate", "account.update",
                                           "account.create"]
    deactivate, update, create = entries
    assert update.before == {"display_name": "Phạm Hoa", "role": "clerk", "active": True,
                             "must_change_password": False, "unit": ""}
    assert update.after is not None and update.after["role"] == "official"
    assert deactivate.after is not None and deactivate.after["active"] is False
    assert create.before is None
    assert [e.address for e in entries] == ["", "10.10.0.7", ""]  # where each actor was
    text = AuditLog(store).to_csv()
    assert text.splitlines()[0] == "id,at,actor,address,action,target,before,after"
    assert "account.deactivate,hoa" in text and ",admin,10.10.0.7,account.update,hoa," in text


def test_api_tokens_are_hashed_and_revocable(accounts: AccountService, store: Store) -> None:
    tokens = ApiTokenService(store, accounts)
    token, secret = tokens.create("lan", "HR sync", "admin")
    row = store.fetch_one("SELECT token_hash FROM api_tokens WHERE id = ?", (token.id,))
    assert row is not None
    assert row["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(dict(row))
    assert tokens.authenticate(secret).username == "lan"
    assert tokens.get(token.id).last_used_at is not None
    with pytest.raises(Unauthorized):
        tokens.authenticate(secret + "x")
    accounts.set_active("lan", False, "admin")
    with pytest.raises(Unauthorized):
        tokens.authenticate(secret)
    accounts.set_active("lan", True, "admin")
    assert tokens.revoke(token.id, "admin").active is False
    with pytest.raises(Unauthorized):
        tokens.authenticate(secret)
    with pytest.raises(BadRequest):
        tokens.create("lan", "  ", "admin")


def test_signed_out_accounts(accounts: AccountService, store: Store) -> None:
    sessions = SessionService(store, idle=timedelta(hours=1),
                              absolute=timedelta(hours=8))
    for name in ("lan", "hung", "minh", "hoa"):
        sessions.create(name)
    assert accounts.signed_out(["lan", "hung", "minh", "hoa"]) == []
    accounts.set_active("lan", False)
    accounts.reset_password("hung")
    sessions.create("hung")  # signed in with the one-time password, not changed yet
    sessions.revoke_all("minh")
    assert accounts.signed_out(["lan", "hung", "minh", "hoa", "ghost"]) == [
        "ghost", "hung", "lan", "minh"]


def test_search_and_licence(accounts: AccountService) -> None:
    assert [a.username for a in accounts.search("trần")] == ["hung"]
    assert [a.username for a in accounts.search("", "leader")] == ["hung", "lan"]
    assert [a.username for a in accounts.search("HO")] == ["hoa"]
    licence = accounts.licence()
    assert (licence.seats, licence.used, licence.free) == (10, 4, 6)
