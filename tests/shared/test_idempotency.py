"""The shared Idempotency-Key mechanism on its own: scopes, replay, reuse, in flight, release on failure."""
import datetime as dt

import pytest

from chalicelib.adapters import idempotency
from chalicelib.edge import errors
from chalicelib.kernel import clock, refusals


def _counting_action(calls, status=200):
    def action(claim):
        calls.append(claim)
        return idempotency.Outcome(status, {"n": len(calls)})
    return action


def test_the_first_answer_is_stored_and_replayed_once_per_key_and_scope(aws):
    calls = []
    first = idempotency.run("u1", "k1", scope="retry", payload={"id": "a"}, action=_counting_action(calls))
    again = idempotency.run("u1", "k1", scope="retry", payload={"id": "a"}, action=_counting_action(calls))
    assert (first.status_code, first.body, first.replayed) == (200, {"n": 1}, False)
    assert (again.status_code, again.body, again.replayed) == (200, {"n": 1}, True)
    # another scope, another user: the same key is a new request
    assert idempotency.run("u1", "k1", scope="escalate", payload={"id": "a"},
                           action=_counting_action(calls)).replayed is False
    assert idempotency.run("u2", "k1", scope="retry", payload={"id": "a"},
                           action=_counting_action(calls)).replayed is False
    assert len(calls) == 3


def test_a_different_payload_is_422_and_one_in_flight_is_409(aws):
    idempotency.run("u1", "k2", scope="retry", payload={"id": "a"}, action=_counting_action([]))
    with pytest.raises(refusals.Rejected) as reused:
        idempotency.run("u1", "k2", scope="retry", payload={"id": "b"}, action=_counting_action([]))
    assert reused.value.code == "idempotency_key_reused"
    held = idempotency.claim("u1", "k3", scope="retry", payload={"id": "a"})
    assert isinstance(held, idempotency.Claim)
    with pytest.raises(refusals.Conflicting) as busy:
        idempotency.run("u1", "k3", scope="retry", payload={"id": "a"}, action=_counting_action([]))
    assert busy.value.code == "request_in_progress" and busy.value.retry_after == 1
    refusal = errors.from_domain(busy.value)
    assert (refusal.status, refusal.headers) == (409, {"Retry-After": "1"})


def test_a_failed_request_gives_its_key_back(aws):
    def boom(claim):
        raise refusals.Conflicting("不行。")
    with pytest.raises(refusals.Conflicting):
        idempotency.run("u1", "k4", scope="retry", payload={}, action=boom)
    assert idempotency.run("u1", "k4", scope="retry", payload={}, action=_counting_action([])).replayed is False


def test_a_dead_claim_lapses_after_its_lock(aws):
    clock.freeze(dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC))
    idempotency.claim("u1", "k5", scope="retry", payload={})
    clock.advance(dt.timedelta(seconds=idempotency.LOCK_SECONDS + 1))
    assert idempotency.run("u1", "k5", scope="retry", payload={}, action=_counting_action([])).replayed is False


@pytest.mark.parametrize("key, code", [(None, "idempotency_key_missing"), ("", "idempotency_key_missing"),
                                       ("k" * 256, "idempotency_key_invalid"), ("键", "idempotency_key_invalid")])
def test_the_header_is_validated(key, code):
    with pytest.raises(refusals.Invalid) as refused:
        idempotency.validate_key(key)
    assert refused.value.code == code and errors.from_domain(refused.value).status == 400
