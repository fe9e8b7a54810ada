"""Races the conditional writes must win: a freeze during a payment, two payments sharing the allowance."""
from chalicelib.edge.errors import from_domain
from chalicelib.kernel.actor import Actor
from chalicelib.repay import pay, schemas, service, store
from tests.repay.conftest import card


def test_a_freeze_committed_mid_payment_still_stops_it(alice, business_hours, monkeypatch):
    """The freeze lands after the payment was priced (and any read-then-check would have passed)."""
    caller = Actor(user_id=alice.user_id, username=alice.username)
    real_price = pay._price

    def price_then_freeze(*args, **kwargs):
        priced = real_price(*args, **kwargs)
        service.freeze_account(alice.user_id, reason="stolen_funds", case_id="case-race")
        return priced

    monkeypatch.setattr(pay, "_price", price_then_freeze)
    try:
        service.create(caller, "race-1", schemas.RepaymentRequest.model_validate(card("100.00")),
                       service.current())
    except Exception as exc:  # noqa: BLE001
        assert from_domain(exc).status == 423
    else:
        raise AssertionError("a repayment was created on a frozen account")
    assert store.list_repayments(alice.user_id, status=None, kind=None, limit=10, after_id=None)[0] == []
    assert store.get_usage(alice.user_id, "2026-11", "credit_card") == 0


def test_two_payments_priced_on_the_same_allowance_do_not_both_get_it(alice, business_hours, monkeypatch):
    """B reads the month's usage, A commits, B's commit fails its condition and B is priced again."""
    caller = Actor(user_id=alice.user_id, username=alice.username)
    real_usage = store.get_usage
    calls = []

    def usage_then_interleave(user_id, month, kind):
        seen = real_usage(user_id, month, kind)
        calls.append(seen)
        if len(calls) == 1:   # while B holds a stale reading, A pays 1,500.00
            service.create(caller, "payment-a", schemas.RepaymentRequest.model_validate(card("1500.00")),
                       service.current())
        return seen

    monkeypatch.setattr(store, "get_usage", usage_then_interleave)
    b = service.create(caller, "payment-b", schemas.RepaymentRequest.model_validate(card("1500.00")),
                       service.current())
    assert calls[0] == 0 and calls[-1] == 1500_00          # B was priced again on A's usage
    assert b.body["fee"] == "1.00"                         # 1,000.00 above the 2,000.00 allowance × 0.1 %
    assert real_usage(alice.user_id, "2026-11", "credit_card") == 3000_00
