"""#21.2: a known Idempotency-Key is answered with its first answer before any rate limit or other pre-check
(Stripe's contract), so a client that lost an answer — a 503 whose write had in fact committed — can always
learn what happened instead of paying again with a new key."""
from __future__ import annotations

import datetime as dt

import botocore.exceptions
import pytest

from tests.repay.conftest import card


@pytest.fixture
def one_a_day(monkeypatch, aws):
    from chalicelib import config
    monkeypatch.setenv("RATE_LIMITS", "repayment_create=1/86400,case_open=1/86400")
    config.reload()


def _unreachable(*args, **kwargs):
    raise botocore.exceptions.EndpointConnectionError(endpoint_url="https://sqs.ap-southeast-1.amazonaws.com")


def test_a_create_answered_503_after_its_write_committed_replays_despite_the_limit(one_a_day, as_alice, api, alice,
                                                                                   business_hours, monkeypatch):
    from chalicelib.adapters import outbox
    real_deliver = outbox.deliver
    monkeypatch.setattr(outbox, "deliver", _unreachable)    # the write commits, then the answer is lost
    lost = as_alice.create(card("10.00"), key="pay-electricity-1")
    assert lost.status == 503
    monkeypatch.setattr(outbox, "deliver", real_deliver)
    stored = api.get("/repayments", token=alice.token).json["items"]
    assert len(stored) == 1                                  # it was stored although the client saw 503
    replay = as_alice.create(card("10.00"), key="pay-electricity-1")
    assert replay.status == 201, replay.text                 # not 429: the key is known
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json["id"] == stored[0]["id"]
    assert replay.headers["location"] == f"/repayments/{stored[0]['id']}"
    # The limit still holds for anything new, and a refused new key is given back (usable once allowed).
    refused = as_alice.create(card("20.00"), key="pay-electricity-2")
    assert refused.status == 429 and refused.json["error"]["code"] == "rate_limited"
    business_hours.advance(dt.timedelta(days=1))
    later = as_alice.create(card("20.00"), key="pay-electricity-2")
    assert later.status == 201 and "idempotent-replayed" not in later.headers
    assert len(api.get("/repayments", token=alice.token).json["items"]) == 2


def test_a_different_body_under_a_known_key_is_still_422_not_429(one_a_day, as_alice, business_hours):
    assert as_alice.create(card("10.00"), key="k-1").status == 201
    reused = as_alice.create(card("99.00"), key="k-1")
    assert reused.status == 422 and reused.json["error"]["code"] == "idempotency_key_reused"


def test_a_known_amount_rule_does_not_stand_before_the_replay(as_alice, business_hours, monkeypatch):
    """The per-payment amount limit is a pre-check too: a payment accepted under yesterday's rules replays
    as accepted, even after the rule was lowered."""
    created = as_alice.create(card("900.00"), key="k-amount")
    assert created.status == 201
    from chalicelib.repay import pay
    monkeypatch.setattr(pay, "_check_limit", lambda request, ctx: (_ for _ in ()).throw(
        pay.refusals.Invalid("amount：单笔最多 500.00 元", code="amount_over_limit", field="amount")))
    replay = as_alice.create(card("900.00"), key="k-amount")
    assert replay.status == 201 and replay.json["id"] == created.json["id"]
    assert as_alice.create(card("900.00"), key="k-amount-new").json["error"]["code"] == "amount_over_limit"


def test_opening_a_case_replays_its_key_before_the_limit(one_a_day, api, alice, business_hours):
    body = {"category": "repayment_delay", "description": "还款三天了还没到账，请帮忙查询"}
    first = api.post("/support/cases", token=alice.token, json_body=body, headers={"Idempotency-Key": "case-1"})
    assert first.status == 201
    replay = api.post("/support/cases", token=alice.token, json_body=body, headers={"Idempotency-Key": "case-1"})
    assert replay.status == 201, replay.text
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json["case_id"] == first.json["case_id"]
    refused = api.post("/support/cases", token=alice.token, json_body=body, headers={"Idempotency-Key": "case-2"})
    assert refused.status == 429
    assert len(api.get("/support/cases", token=alice.token).json["items"]) == 1
