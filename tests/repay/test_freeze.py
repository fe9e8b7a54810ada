"""Account freeze: the contract the escalation domain relies on."""
import datetime as dt

from chalicelib.kernel import clock
from chalicelib.repay import service, store


def test_freeze_is_idempotent_recorded_and_reversible(aws):
    assert service.is_frozen("u1") is False
    service.freeze_account("u1", reason="stolen_funds", case_id="case-1")
    service.freeze_account("u1", reason="stolen_funds", case_id="case-1")
    assert service.is_frozen("u1") is True
    assert service.is_frozen("u2") is False
    clock.advance(dt.timedelta(seconds=1))
    service.unfreeze_account("u1", actor="lead")
    service.unfreeze_account("u1", actor="lead")
    assert service.is_frozen("u1") is False
    events = [e["event"] for e in sorted(store.account_log("u1"), key=lambda e: e["sk"])]
    assert events == ["frozen", "unfrozen"]
