"""The scheduled sweep cancels lapsed verifications found through the sparse index, exactly once."""
import datetime as dt

from chalicelib.kernel import clock
from chalicelib.repay import service, store, views
from tests.repay.conftest import card

LARGE = "6000.00"


def _status(user, repayment_id):
    return store.get(user.user_id, repayment_id).status   # the stored state: a GET would expire it lazily


def _lapsed_in_index():
    return store.lapsed_verifications(clock.isoformat(clock.now() + dt.timedelta(days=1)), limit=100)[0]


def test_the_sweep_cancels_what_lapsed_and_nothing_else(as_alice, business_hours, sms_sent):
    early = as_alice.create(card(LARGE)).json["id"]
    clock.advance(dt.timedelta(minutes=3))
    later = as_alice.create(card(LARGE)).json["id"]
    small = as_alice.create(card("10.00")).json["id"]
    assert {i["id"] for i in _lapsed_in_index()} == {early, later}      # only those awaiting a code are indexed
    clock.advance(dt.timedelta(minutes=2, seconds=1))                   # early: 5 min 1 s; later: 2 min 1 s

    assert service.expire_lapsed(service.current()) == 1
    assert _status(as_alice.user, early) == "cancelled"
    assert _status(as_alice.user, later) == "verification_required"
    assert _status(as_alice.user, small) == "processing"
    timeline = store.get(as_alice.user.user_id, early).timeline
    assert [e["event"] for e in timeline] == ["created", "verification_expired"]
    assert store.get_usage(as_alice.user.user_id, "2026-11", "credit_card") == 6000_00 + 10_00   # early's back
    assert {i["id"] for i in _lapsed_in_index()} == {later}             # a cancelled one leaves the index

    clock.advance(dt.timedelta(minutes=3))
    assert service.expire_lapsed(service.current()) == 1
    assert _status(as_alice.user, later) == "cancelled"
    assert _lapsed_in_index() == []
    assert service.expire_lapsed(service.current()) == 0


def test_a_resent_code_moves_the_expiry(as_alice, business_hours, sms_sent):
    repayment_id = as_alice.create(card(LARGE)).json["id"]
    clock.advance(dt.timedelta(minutes=4))
    assert as_alice.api.post(f"/repayments/{repayment_id}/resend-code", token=as_alice.user.token).status == 200
    clock.advance(dt.timedelta(minutes=2))          # past the first code's expiry, not the new one's
    assert service.expire_lapsed(service.current()) == 0
    clock.advance(dt.timedelta(minutes=3, seconds=1))
    assert service.expire_lapsed(service.current()) == 1
    assert _status(as_alice.user, repayment_id) == "cancelled"


def test_two_overlapping_sweeps_cancel_each_exactly_once(as_alice, business_hours, sms_sent, monkeypatch):
    """Sweep A has queried the index and reads the first repayment when sweep B runs from start to end;
    every read A makes is of the state before B (as if B's writes landed just after A's reads). A's
    writes then fail their conditions: each repayment is cancelled once, its allowance given back once."""
    ids = [as_alice.create(card(LARGE)).json["id"] for _ in range(3)]
    clock.advance(dt.timedelta(minutes=6))
    before_b = {i: store.get(as_alice.user.user_id, i) for i in ids}
    b_result = []

    def read_before_b(user_id, repayment_id):
        if not b_result:
            b_result.append("running")
            b_result[0] = service.expire_lapsed(service.current())   # B, whole, inside A's run
        return before_b[repayment_id]

    monkeypatch.setattr(store, "get", read_before_b)
    a_result = service.expire_lapsed(service.current())
    monkeypatch.undo()

    assert {r.status for r in before_b.values()} == {"verification_required"}
    assert b_result == [3] and a_result == 0
    for repayment_id in ids:
        events = [e["event"] for e in store.get(as_alice.user.user_id, repayment_id).timeline]
        assert events == ["created", "verification_expired"]
    assert store.get_usage(as_alice.user.user_id, "2026-11", "credit_card") == 0
    assert service.expire_lapsed(service.current()) == 0      # a third run finds nothing


def test_the_sweep_and_a_read_do_not_both_cancel(as_alice, business_hours, sms_sent):
    repayment_id = as_alice.create(card(LARGE)).json["id"]
    clock.advance(dt.timedelta(minutes=6))
    stale = store.get(as_alice.user.user_id, repayment_id)
    assert as_alice.get(repayment_id).json["status"] == "cancelled"     # the lazy path got there first
    assert views.expire(stale, service.current()) is False              # the sweep's write on its read fails
    assert service.expire_lapsed(service.current()) == 0
    assert [e["event"] for e in store.get(as_alice.user.user_id, repayment_id).timeline].count(
        "verification_expired") == 1
    assert store.get_usage(as_alice.user.user_id, "2026-11", "credit_card") == 0


def test_the_scheduled_handler_runs_the_sweep(as_alice, business_hours, sms_sent):
    from chalicelib.routes.repayments import expire_verifications
    repayment_id = as_alice.create(card(LARGE)).json["id"]
    clock.advance(dt.timedelta(minutes=6))
    expire_verifications({"id": "evt", "detail-type": "Scheduled Event", "source": "aws.events",
                          "time": "2026-11-25T02:06:00Z", "region": "ap-southeast-1", "resources": [],
                          "detail": {}, "account": "123456789012", "version": "0"}, None)
    assert _status(as_alice.user, repayment_id) == "cancelled"


def test_the_sweep_never_scans(as_alice, business_hours, sms_sent, monkeypatch):
    from chalicelib.adapters import aws
    as_alice.create(card(LARGE))
    clock.advance(dt.timedelta(minutes=6))
    from chalicelib.repay import dynamo_store
    table = aws.table(dynamo_store.settings().repayments_table)
    calls = []
    real_query = table.query
    monkeypatch.setattr(type(table), "scan", lambda *a, **k: (_ for _ in ()).throw(AssertionError("Scan")),
                        raising=False)
    monkeypatch.setattr(dynamo_store, "_table", lambda: table)
    monkeypatch.setattr(table, "query", lambda **kw: calls.append(kw.get("IndexName")) or real_query(**kw))
    assert service.expire_lapsed(service.current()) == 1
    assert calls == ["by_verify_expiry"]
