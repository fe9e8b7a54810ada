"""Retry under an Idempotency-Key: required, replayed, and never a surprise attempt N+1."""
from chalicelib.adapters import outbox
from chalicelib.edge.errors import from_domain
from chalicelib.kernel.actor import Actor
from chalicelib.repay import service, store
from tests.repay.conftest import body_of, card, in_parallel, queued_messages, run_worker


def _failed(as_alice, amount="100.61"):
    """A repayment whose attempts always fail (insufficient funds), after its first attempt failed."""
    repayment_id = as_alice.create(card(amount)).json["id"]
    run_worker()
    assert as_alice.get(repayment_id).json["status"] == "failed"
    return repayment_id


def test_retry_needs_an_idempotency_key(api, as_alice, business_hours):
    repayment_id = _failed(as_alice)
    path = f"/repayments/{repayment_id}/retry"
    missing = api.post(path, token=as_alice.user.token)
    assert missing.status == 400 and missing.json["error"]["code"] == "idempotency_key_missing"
    invalid = api.post(path, token=as_alice.user.token, headers={"Idempotency-Key": "k" * 256})
    assert invalid.status == 400 and invalid.json["error"]["code"] == "idempotency_key_invalid"
    assert as_alice.get(repayment_id).json["status"] == "failed" and queued_messages() == []


def test_a_repeated_retry_after_its_attempt_finished_replays_instead_of_starting_another(as_alice, business_hours):
    repayment_id = _failed(as_alice)
    first = as_alice.retry(repayment_id, key="retry-1")
    assert first.status == 200 and first.json["attempt"] == 2 and "idempotent-replayed" not in first.headers
    run_worker()                                                   # attempt 2 fails in between
    assert as_alice.get(repayment_id).json["status"] == "failed"
    again = as_alice.retry(repayment_id, key="retry-1")            # the same tap, re-sent
    assert again.status == 200 and again.headers.get("idempotent-replayed") == "true"
    assert again.json == first.json
    current = as_alice.get(repayment_id).json
    assert current["status"] == "failed" and current["attempt"] == 2
    assert queued_messages() == []                                  # no attempt 3 was sent
    third = as_alice.retry(repayment_id, key="retry-2")            # a new tap is a new retry
    assert third.status == 200 and third.json["attempt"] == 3


def test_a_retry_that_died_after_committing_is_replayed_not_repeated(as_alice, business_hours, monkeypatch):
    """The attempt and the key's answer commit together: a crash after that can't free the key."""
    repayment_id = _failed(as_alice)

    def crash(message_ids):
        raise RuntimeError("the Lambda died here")

    monkeypatch.setattr(outbox, "deliver", crash)
    assert as_alice.retry(repayment_id, key="retry-9").status == 500
    monkeypatch.undo()
    assert outbox.drain() == 1                                       # the schedule sends what the crash did not
    records = queued_messages()
    assert [body_of(r)["attempt"] for r in records] == [2]
    run_worker(records)                                              # attempt 2 fails meanwhile
    again = as_alice.retry(repayment_id, key="retry-9")
    assert again.status == 200 and again.headers.get("idempotent-replayed") == "true"
    assert again.json["attempt"] == 2 and as_alice.get(repayment_id).json["attempt"] == 2
    assert queued_messages() == []


def test_the_same_key_on_another_repayment_is_422(as_alice, business_hours):
    first, second = _failed(as_alice, "100.61"), _failed(as_alice, "100.62")
    assert as_alice.retry(first, key="retry-3").status == 200
    reused = as_alice.retry(second, key="retry-3")
    assert reused.status == 422 and reused.json["error"]["code"] == "idempotency_key_reused"
    assert as_alice.get(second).json["status"] == "failed"


def test_parallel_retries_with_one_key_start_one_attempt(alice, as_alice, business_hours, atomic_calls):
    repayment_id = _failed(as_alice)
    caller = Actor(user_id=alice.user_id, username=alice.username)
    outcomes = in_parallel(10, lambda: service.retry(caller, "same-retry", repayment_id, service.current()))
    answered = [o for o in outcomes if isinstance(o, service.Created)]
    assert answered and all(o.body["attempt"] == 2 for o in answered), outcomes
    assert all(from_domain(o).status == 409 for o in outcomes if not isinstance(o, service.Created)), outcomes
    assert store.get_repayment(alice.user_id, repayment_id)["attempt"] == 2
    assert [body_of(r)["attempt"] for r in queued_messages()] == [2]


def test_retry_documents_its_header(api):
    operation = api.get("/openapi.json").json["paths"]["/repayments/{repayment_id}/retry"]["post"]
    header = [p for p in operation["parameters"] if p["in"] == "header"]
    assert [p["name"] for p in header] == ["Idempotency-Key"] and header[0]["required"] is True
    assert {"200", "400", "404", "409", "422", "423"} <= set(operation["responses"])
