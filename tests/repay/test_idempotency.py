"""Idempotency-Key: replay, mismatch, in flight, expiry, and exactly one repayment under concurrency."""
import datetime as dt
import hashlib

from chalicelib.adapters import idempotency
from chalicelib.edge.errors import from_domain
from chalicelib.kernel import clock
from chalicelib.kernel.actor import Actor
from chalicelib.repay import schemas, service, store
from tests.repay.conftest import card, in_parallel, queued_messages


def _repayments(user_id):
    items, _ = store.list_repayments(user_id, status=None, kind=None, limit=100, after_id=None)
    return items


def test_same_key_same_body_replays_the_first_answer(as_alice, business_hours):
    first = as_alice.create(card("100.00"), key="order-1")
    again = as_alice.create(card("100.00"), key="order-1")
    assert first.status == again.status == 201
    assert again.json == first.json
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(_repayments(as_alice.user.user_id)) == 1
    assert len(queued_messages()) == 1          # settled once, not twice


def test_same_key_different_body_is_422(as_alice, business_hours):
    assert as_alice.create(card("100.00"), key="order-2").status == 201
    response = as_alice.create(card("100.01"), key="order-2")
    assert response.status == 422
    assert response.json["error"]["code"] == "idempotency_key_reused"
    assert len(_repayments(as_alice.user.user_id)) == 1


def test_key_still_in_flight_is_409(as_alice, business_hours):
    request = schemas.RepaymentRequest.model_validate(card("100.00"))
    key_hash = hashlib.sha256(b"order-3").hexdigest()
    assert idempotency.hold(as_alice.user.user_id, service.CREATE_SCOPE, key_hash, owner="other-request",
                            fingerprint_of=lambda salt: idempotency.fingerprint(request.model_dump(mode="json"), salt),
                            lock_seconds=30) is None
    response = as_alice.create(card("100.00"), key="order-3")
    assert response.status == 409
    assert response.json["error"]["code"] == "request_in_progress"
    assert response.headers.get("retry-after") == "1"
    # the first request died: after its lock the key can be used again, once
    clock.advance(dt.timedelta(seconds=31))
    assert as_alice.create(card("100.00"), key="order-3").status == 201
    assert as_alice.create(card("100.00"), key="order-3").headers.get("idempotent-replayed") == "true"


def test_keys_are_per_user(as_alice, as_bob, business_hours):
    assert as_alice.create(card("100.00"), key="shared").status == 201
    bob = as_bob.create(card("100.00"), key="shared")
    assert bob.status == 201 and "idempotent-replayed" not in bob.headers


def test_keys_live_24_hours(as_alice, business_hours):
    first = as_alice.create(card("100.00"), key="order-4").json
    clock.advance(dt.timedelta(hours=23, minutes=59))
    assert as_alice.create(card("100.00"), key="order-4").json["id"] == first["id"]
    clock.advance(dt.timedelta(minutes=2))
    later = as_alice.create(card("100.00"), key="order-4")
    assert later.status == 201 and later.json["id"] != first["id"]
    item = store._table().get_item(Key=idempotency.record_key(as_alice.user.user_id, service.CREATE_SCOPE,
                                                              hashlib.sha256(b"order-4").hexdigest()))["Item"]
    assert int(item["expires_at"]) == clock.epoch() + 86400   # the DynamoDB TTL attribute


def test_twenty_concurrent_duplicates_make_one_repayment(alice, business_hours, atomic_calls):
    caller = Actor(user_id=alice.user_id, username=alice.username)
    request = schemas.RepaymentRequest.model_validate(card("321.00"))
    results = in_parallel(20, lambda: service.create(caller, "same-key", request, service.current()))
    outcomes = [("created", r) if isinstance(r, service.Created) else ("error", r) for r in results]
    repayments = _repayments(alice.user_id)
    assert len(repayments) == 1
    created = [r for kind, r in outcomes if kind == "created"]
    assert all(r.body["id"] == repayments[0]["id"] for r in created)
    assert sum(1 for r in created if not r.replayed) == 1
    errors = [e for kind, e in outcomes if kind == "error"]
    assert all(from_domain(e).status == 409 for e in errors), errors   # what the user gets: 409
    assert len(queued_messages()) == 1
    assert store.get_usage(alice.user_id, "2026-11", "credit_card") == 321_00


def test_idempotency_key_header_is_required_and_bounded(api, alice, business_hours):
    body = card("100.00")
    missing = api.post("/repayments", json_body=body, token=alice.token)
    assert missing.status == 400 and missing.json["error"]["code"] == "idempotency_key_missing"
    too_long = api.post("/repayments", json_body=body, token=alice.token, headers={"Idempotency-Key": "k" * 256})
    assert too_long.status == 400 and too_long.json["error"]["code"] == "idempotency_key_invalid"
    assert api.post("/repayments", json_body=body, token=alice.token,
                    headers={"Idempotency-Key": "k" * 255}).status == 201
    assert _repayments(alice.user_id)[0]["amount_fen"] == 100_00
