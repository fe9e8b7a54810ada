"""The SQS settlement worker: every simulator outcome, retry, delays and duplicate deliveries."""
import datetime as dt

import pytest

from chalicelib.kernel import clock
from chalicelib.repay import store
from tests.repay.conftest import body_of, card, loan, queued_messages, run_worker, utility


@pytest.mark.parametrize("amount, reason, kb", [
    ("100.51", "insufficient_funds", "repayment-failed"),
    ("100.52", "biller_unavailable", "repayment-failed"),
    ("100.53", "network_error", "repayment-failed"),
    ("100.54", "maintenance", "repayment-delay"),
])
def test_retryable_failure_then_retry_succeeds(as_alice, business_hours, amount, reason, kb):
    repayment_id = as_alice.create(loan(amount)).json["id"]
    run_worker()
    failed = as_alice.get(repayment_id).json
    assert failed["status"] == "failed"
    assert failed["failure"]["reason"] == reason and failed["failure"]["retryable"] is True
    assert failed["failure"]["kb_article"] == kb and failed["failure"]["next_step"]
    assert failed["actual_arrival"] is None

    retried = as_alice.retry(repayment_id)
    assert retried.status == 200 and retried.json["status"] == "processing" and retried.json["attempt"] == 2
    again = as_alice.retry(repayment_id)                      # a second tap changes nothing
    assert again.status == 200 and again.json["attempt"] == 2
    records = queued_messages()
    assert [body_of(r)["attempt"] for r in records] == [2]    # one settlement message for the retry
    run_worker(records)
    done = as_alice.get(repayment_id).json
    assert done["status"] == "succeeded" and done["failure"] is None
    assert [e["event"] for e in done["timeline"]] == ["created", reason, "retried", "settled"]


def test_invalid_account_is_not_retryable(as_alice, business_hours):
    repayment_id = as_alice.create(utility("100.55")).json["id"]
    run_worker()
    failed = as_alice.get(repayment_id).json
    assert failed["failure"]["reason"] == "invalid_account" and failed["failure"]["retryable"] is False
    response = as_alice.retry(repayment_id)
    assert response.status == 409 and response.json["error"]["code"] == "not_retryable"
    assert queued_messages() == []
    assert store.get_usage(as_alice.user.user_id, "2026-11", "utility") == 0   # never settles: usage given back


def test_retryable_failure_keeps_its_allowance(as_alice, business_hours):
    as_alice.create(card("100.51"))
    run_worker()
    assert store.get_usage(as_alice.user.user_id, "2026-11", "credit_card") == 100_51


def test_persistent_failure_fails_again_on_retry(as_alice, business_hours):
    repayment_id = as_alice.create(card("100.61")).json["id"]
    run_worker()
    as_alice.retry(repayment_id)
    run_worker()
    failed = as_alice.get(repayment_id).json
    assert failed["status"] == "failed" and failed["attempt"] == 2
    assert failed["failure"]["reason"] == "insufficient_funds"


def test_retry_only_for_failed_repayments(as_alice, business_hours):
    repayment_id = as_alice.create(card("100.00")).json["id"]
    assert as_alice.retry(repayment_id).status == 409        # still processing (first attempt)
    run_worker()
    assert as_alice.retry(repayment_id).status == 409        # succeeded


def test_delay_is_shown_then_settles_on_a_later_check(as_alice, business_hours):
    created = as_alice.create(card("100.56")).json
    first = queued_messages()
    run_worker(first)
    delayed = as_alice.get(created["id"]).json
    assert delayed["status"] == "processing"
    assert delayed["notice"]["code"] == "delayed" and delayed["notice"]["kb_article"] == "repayment-delay"
    assert delayed["timeline"][-1]["event"] == "delayed"
    # the worker asked again later (a delayed SQS message); still pending → no second "delayed" entry
    run_worker(first)
    assert [e["event"] for e in as_alice.get(created["id"]).json["timeline"]] == ["created", "delayed"]
    clock.advance(dt.timedelta(seconds=31))
    run_worker(first)
    done = as_alice.get(created["id"]).json
    assert done["status"] == "succeeded" and done["notice"] is None
    assert [e["event"] for e in done["timeline"]] == ["created", "delayed", "settled"]


def test_duplicate_delivery_never_settles_twice(as_alice, business_hours):
    repayment_id = as_alice.create(card("100.00")).json["id"]
    records = queued_messages()
    run_worker(records + records)        # the same message twice in a batch
    run_worker(records)                  # and again later (Lambda retry)
    done = as_alice.get(repayment_id).json
    assert [e["event"] for e in done["timeline"]] == ["created", "settled"]
    item = store.get_repayment(as_alice.user.user_id, repayment_id)
    assert int(item["version"]) == 2     # created + settled: no further write happened


def test_stale_attempt_message_is_ignored_after_retry(as_alice, business_hours):
    repayment_id = as_alice.create(card("100.51")).json["id"]
    first = queued_messages()
    run_worker(first)
    as_alice.retry(repayment_id)
    run_worker(first)                    # attempt 1 redelivered late: must not touch attempt 2
    item = store.get_repayment(as_alice.user.user_id, repayment_id)
    assert item["status"] == "processing" and int(item["attempt"]) == 2


def test_malformed_message_is_dropped(aws):
    from chalicelib.repay import service
    from chalicelib.routes.repayments import settle_repayments
    assert service.settle("not json", service.current()) == "malformed"
    assert service.settle('{"repayment_id": "rp_x"}', service.current()) == "malformed"
    settle_repayments({"Records": [{"messageId": "1", "receiptHandle": "r", "body": "not json", "attributes": {},
                                    "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                                    "eventSourceARN": "arn:aws:sqs:ap-southeast-1:123456789012:q",
                                    "awsRegion": "ap-southeast-1"}]}, None)


def test_worker_failure_raises_for_redelivery(as_alice, business_hours, monkeypatch):
    from chalicelib.repay import connector

    class Down:
        def settle(self, request):
            raise ConnectionError("bank unreachable")

    as_alice.create(card("100.00"))
    records = queued_messages()
    monkeypatch.setattr(connector, "get", lambda: Down())
    with pytest.raises(RuntimeError):
        run_worker(records)
    monkeypatch.undo()
    run_worker(records)
    assert as_alice.get(body_of(records[0])["repayment_id"]).json["status"] == "succeeded"
