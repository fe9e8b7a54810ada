"""The repayment store and its in-memory twin keep the same promises: each case runs against both (the
in-memory one in the fast tier, ``-m unit``; the DynamoDB one against moto). A unit of work writes all or
nothing; a lost condition names what lost (``AccountFrozen`` for the freeze check)."""
from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.kernel import clock
from chalicelib.repay import model, store
from chalicelib.repay.fees import Fee, FeeLine
from tests.repay.conftest import at
from tests.shared.twins import commit_together

ARRIVAL = model.Arrival(at("2026-11-25 17:00"), "当日到账")


@pytest.fixture(params=[pytest.param("memory", marks=pytest.mark.unit), "dynamodb"])
def kind(request):
    request.getfixturevalue("memory" if request.param == "memory" else "aws")
    clock.freeze(at("2026-11-25 10:00"))
    return request.param


def repayment(user_id: str = "u1", amount_fen: int = 100_00) -> model.Repayment:
    fee = Fee(amount_fen=amount_fen, fee_fen=0, lines=(FeeLine("service", "服务费", 0),), allowance_fen=200_000,
              used_before_fen=0, allowance_applied_fen=amount_fen, version="2026-11-01")
    return model.open_repayment(
        repayment_id=model.new_repayment_id(clock.now()), user_id=user_id, username="alice", kind="credit_card",
        payee={"kind": "credit_card", "issuer": "招商银行", "card_last4": "4324"}, fee=fee, month="2026-11",
        arrival=ARRIVAL, due_date=None, now=clock.now(), verification=None)


def commit(*adds) -> None:
    commit_together(store, *adds)


def test_a_repayment_and_its_allowance_commit_together_or_not_at_all(kind):
    first = repayment()
    commit(lambda u: store.create(u, first),
           lambda u: store.add_usage(u, "u1", "2026-11", "credit_card", 100_00, seen_fen=0))
    assert store.get("u1", first.id) == first and store.get_usage("u1", "2026-11", "credit_card") == 100_00
    second = repayment()
    with pytest.raises(store.Conflict) as lost:        # priced on a usage that has moved since
        commit(lambda u: store.create(u, second),
               lambda u: store.add_usage(u, "u1", "2026-11", "credit_card", 100_00, seen_fen=0))
    assert lost.value.names == {"allowance"}
    assert store.get("u1", second.id) is None and store.get_usage("u1", "2026-11", "credit_card") == 100_00


def test_a_frozen_account_loses_as_account_frozen(kind):
    store.set_frozen("u1", reason="stolen phone", case_id="c1")
    assert store.set_frozen("u1", reason="again", case_id="c2") is False       # frozen once
    with pytest.raises(store.AccountFrozen):
        commit(lambda u: store.not_frozen(u, "u1"), lambda u: store.create(u, repayment()))
    assert store.page("u1", status=None, kind=None, limit=10, after_id=None) == ([], None)
    clock.advance(dt.timedelta(seconds=1))
    assert store.clear_frozen("u1", actor="lead") and not store.clear_frozen("u1", actor="lead")
    commit(lambda u: store.not_frozen(u, "u1"), lambda u: store.create(u, repayment()))
    assert [e["event"] for e in sorted(store.account_log("u1"), key=lambda e: e["sk"])] == ["frozen", "unfrozen"]


def test_a_move_applies_only_over_the_state_it_was_read_in(kind):
    opened = repayment()
    commit(lambda u: store.create(u, opened))
    settled = opened.settle(clock.now(), clock.now())
    commit(lambda u: store.move(u, settled))
    failed_late = opened.fail(clock.now(), "insufficient_funds")       # read before the settle
    with pytest.raises(store.Conflict) as lost:
        commit(lambda u: store.move(u, failed_late))
    assert lost.value.names == {"repayment"}
    assert store.get("u1", opened.id).status == model.SUCCEEDED


def test_allowance_is_never_given_back_below_zero(kind):
    commit(lambda u: store.add_usage(u, "u1", "2026-11", "credit_card", 50_00, seen_fen=0))
    with pytest.raises(store.Conflict):
        commit(lambda u: store.release_usage(u, "u1", "2026-11", "credit_card", 60_00))
    commit(lambda u: store.release_usage(u, "u1", "2026-11", "credit_card", 50_00))
    assert store.get_usage("u1", "2026-11", "credit_card") == 0


def test_pages_are_newest_first_and_continue_where_they_stopped(kind):
    made = []
    for _ in range(3):
        made.append(repayment())
        commit(lambda u, r=made[-1]: store.create(u, r))
        clock.advance(dt.timedelta(seconds=1))
    commit(lambda u: store.create(u, repayment(user_id="u2")))
    first, after = store.page("u1", status=None, kind=None, limit=2, after_id=None)
    assert [r.id for r in first] == [made[2].id, made[1].id] and after == made[1].id
    rest, after = store.page("u1", status=None, kind=None, limit=2, after_id=after)
    assert [r.id for r in rest] == [made[0].id] and after is None
    processing, _ = store.page("u1", status=model.PROCESSING, kind="credit_card", limit=10, after_id=None)
    assert len(processing) == 3
