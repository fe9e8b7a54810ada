"""The repayment use cases against the in-memory stores (the fast tier: no moto, ``pytest -m unit``).

The same service functions the routes call; the stores, the outbox, the idempotency records and SMS are
their in-memory twins (``memory`` fixture, tests/conftest.py) with the same conditions, so a lost race
loses here as it does against DynamoDB.
"""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from chalicelib.kernel import clock, refusals
from chalicelib.kernel.actor import Actor
from chalicelib.repay import schemas, service, store
from tests.repay.conftest import at, card

ALICE = Actor(user_id="u-alice", username="alice")
BOB = Actor(user_id="u-bob", username="bob")


@pytest.fixture
def twins(memory):
    memory.sms.phones.update(alice="+8613800138001", bob="+8613800138002")
    clock.freeze(at("2026-11-25 10:00"))          # a Wednesday morning: a business day before the cut-off
    return memory


def request(body: dict) -> schemas.RepaymentRequest:
    return schemas.RepaymentRequest.model_validate(body)


def create(body: dict, key: str, actor: Actor = ALICE) -> service.Created:
    return service.create(actor, key, request(body), service.current())


def settlement_bodies(twins) -> list[dict]:
    return [json.loads(m.body) for m in twins.outbox.messages()
            if m.channel == "sqs" and m.target.endswith("-settlement")]


def code_texted(twins) -> str:
    return re.search(r"验证码 (\d{6})", twins.sms.sent[-1][1]).group(1)


def test_a_quote_prices_on_what_the_month_has_used(twins):
    first = service.quote(ALICE, request(card("1500.00")), service.current())
    assert first["fee"] == "0.00" and first["allowance"]["remaining_after"] == "500.00"
    create(card("1500.00"), "k1")
    second = service.quote(ALICE, request(card("1000.00")), service.current())
    assert second["allowance"]["used_before"] == "1500.00"
    assert second["fee"] == "0.50" and second["total"] == "1000.50"          # 0.1 % of the 500.00 above it
    assert service.quote(BOB, request(card("1000.00")), service.current())["fee"] == "0.00"   # per user


def test_create_then_the_same_key_replays_without_paying_twice(twins):
    first = create(card("100.00"), "order-1")
    again = create(card("100.00"), "order-1")
    assert first.status_code == again.status_code == 201 and not first.replayed and again.replayed
    assert again.body == first.body and first.body["status"] == "processing"
    assert len(twins.repay.repayments) == 1
    assert settlement_bodies(twins) == [{"repayment_id": first.body["id"], "user_id": ALICE.user_id, "attempt": 1}]
    assert store.get_usage(ALICE.user_id, "2026-11", "credit_card") == 100_00


def test_the_same_key_for_another_payment_is_refused_and_pays_nothing(twins):
    create(card("100.00"), "order-2")
    with pytest.raises(refusals.Rejected) as refused:
        create(card("200.00"), "order-2")
    assert refused.value.code == "idempotency_key_reused"
    assert len(twins.repay.repayments) == 1


def test_a_repayment_that_lost_the_allowance_race_is_priced_again(twins, monkeypatch):
    """Two repayments priced on the same month's usage: the second to commit loses its ``allowance`` condition
    and is priced again on what the first used — the free allowance is never given out twice."""
    real_usage, raced = store.get_usage, []

    def usage_then_the_other_commits(user_id, month, kind):
        seen = real_usage(user_id, month, kind)
        if not raced:
            raced.append(None)
            raced[0] = create(card("1500.00"), "other")       # commits between this pricing and its commit
        return seen
    monkeypatch.setattr(store, "get_usage", usage_then_the_other_commits)
    late = create(card("1500.00"), "late")
    assert raced[0].body["fee"] == "0.00"
    assert late.body["fee"] == "1.00"                           # 1000.00 above the 2000.00 allowance
    assert store.get_usage(ALICE.user_id, "2026-11", "credit_card") == 3000_00


def test_a_freeze_between_pricing_and_commit_refuses_and_writes_nothing(twins, monkeypatch):
    real_usage = store.get_usage

    def usage_then_freeze(user_id, month, kind):
        service.freeze_account(user_id, reason="stolen phone", case_id="c1")
        return real_usage(user_id, month, kind)
    monkeypatch.setattr(store, "get_usage", usage_then_freeze)
    with pytest.raises(refusals.Frozen) as refused:
        create(card("100.00"), "k")
    assert refused.value.code == "account_frozen"
    assert twins.repay.repayments == {} and store.get_usage(ALICE.user_id, "2026-11", "credit_card") == 0
    assert settlement_bodies(twins) == []
    monkeypatch.setattr(store, "get_usage", real_usage)
    service.unfreeze_account(ALICE.user_id, actor="lead")
    assert create(card("100.00"), "k").status_code == 201        # the key was given back with the refusal


def test_a_large_repayment_waits_for_its_code_then_settles_once(twins):
    created = create(card("6000.00"), "big")
    assert created.status_code == 202 and created.body["status"] == "verification_required"
    assert settlement_bodies(twins) == []                          # nothing is paid before the code
    code = code_texted(twins)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(refusals.Rejected) as refused:
        service.verify(ALICE, created.body["id"], schemas.VerifyRequest(code=wrong), service.current())
    assert refused.value.details == {"attempts_left": 4}
    verified = service.verify(ALICE, created.body["id"], schemas.VerifyRequest(code=code), service.current())
    assert verified["status"] == "processing"
    assert [b["attempt"] for b in settlement_bodies(twins)] == [1]
    again = service.verify(ALICE, created.body["id"], schemas.VerifyRequest(code=code), service.current())
    assert again["status"] == "processing" and len(settlement_bodies(twins)) == 1    # a repeated tap: no second


def test_cancelling_while_the_code_is_awaited_gives_the_allowance_back(twins):
    created = create(card("6000.00"), "big")
    assert store.get_usage(ALICE.user_id, "2026-11", "credit_card") == 6000_00
    cancelled = service.cancel(ALICE, created.body["id"], service.current())
    assert cancelled["status"] == "cancelled"
    assert store.get_usage(ALICE.user_id, "2026-11", "credit_card") == 0
    assert service.cancel(ALICE, created.body["id"], service.current())["status"] == "cancelled"   # repeat: as is
    assert store.get_usage(ALICE.user_id, "2026-11", "credit_card") == 0                          # not twice


def test_a_lapsed_code_is_cancelled_by_the_sweep_once(twins):
    create(card("6000.00"), "big")
    clock.advance(dt.timedelta(minutes=6))
    assert service.expire_lapsed(service.current()) == 1
    assert service.expire_lapsed(service.current()) == 0
    assert store.get_usage(ALICE.user_id, "2026-11", "credit_card") == 0


def test_settlement_records_the_outcome_once_and_tells_the_owner(twins):
    created = create(card("100.00"), "k")
    [body] = [m.body for m in twins.outbox.messages() if m.channel == "sqs" and m.target.endswith("-settlement")]
    assert service.settle(body, service.current()) == "succeeded"
    assert service.settle(body, service.current()) == "stale"            # delivered twice: recorded once
    shown = service.get(ALICE, created.body["id"], service.current())
    assert shown["status"] == "succeeded" and [e["event"] for e in shown["timeline"]] == ["created", "settled"]
    texts = [m.body for m in twins.outbox.messages() if m.channel == "sms"]
    assert len(texts) == 1 and "已到账" in texts[0] and "100.00" in texts[0]
    inbox = [n for n in twins.notices.items.values()]
    assert len(inbox) == 1 and inbox[0]["kind"] == "settled" and "已到账" in inbox[0]["text"]


def test_a_failed_repayment_is_retried_once_per_key(twins):
    created = create(card("100.51"), "k")             # the simulator: insufficient funds on the first attempt
    [body] = [m.body for m in twins.outbox.messages() if m.channel == "sqs" and m.target.endswith("-settlement")]
    assert service.settle(body, service.current()) == "failed"
    failed = service.get(ALICE, created.body["id"], service.current())
    assert failed["failure"]["reason"] == "insufficient_funds" and failed["failure"]["retryable"]
    retried = service.retry(ALICE, "retry-1", created.body["id"], service.current())
    again = service.retry(ALICE, "retry-1", created.body["id"], service.current())
    assert retried.body["status"] == "processing" and again.replayed and again.body == retried.body
    attempts = [b["attempt"] for b in settlement_bodies(twins)]
    assert attempts == [1, 2]                                      # one new attempt, not two
    second = [m.body for m in twins.outbox.messages() if m.channel == "sqs" and m.target.endswith("-settlement")][-1]
    assert service.settle(second, service.current()) == "succeeded"
    assert service.get(ALICE, created.body["id"], service.current())["attempt"] == 2


def test_a_frozen_account_cannot_retry_or_verify(twins):
    big = create(card("6000.00"), "big")
    service.freeze_account(ALICE.user_id, reason="stolen phone", case_id="c1")
    with pytest.raises(refusals.Frozen):
        service.verify(ALICE, big.body["id"], schemas.VerifyRequest(code=code_texted(twins)), service.current())
    assert service.get(ALICE, big.body["id"], service.current())["verification"]["attempts_left"] == 5
    service.unfreeze_account(ALICE.user_id, actor="lead")
    assert [e["event"] for e in store.account_log(ALICE.user_id)] == ["frozen", "unfrozen"]
