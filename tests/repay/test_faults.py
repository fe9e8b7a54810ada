"""Injected AWS faults: a clean 503 with Retry-After, nothing half-written, nothing stuck."""
import uuid

import botocore.client
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from tests.repay.conftest import card, queued_messages, run_worker

_real_call = botocore.client.BaseClient._make_api_call


@pytest.fixture
def dynamodb_fault(monkeypatch):
    """``dynamodb_fault("TransactWriteItems", "ThrottlingException")`` fails those calls until reset."""
    state = {}

    def faulty(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb" and state:
            if state["operation"] in ("*", operation):
                if state["error"] == "unreachable":
                    raise EndpointConnectionError(endpoint_url="https://dynamodb.example")
                if state["error"] == "TransactionConflict":  # another transaction held the item
                    raise ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "injected"},
                                       "CancellationReasons": [{"Code": "TransactionConflict"}]}, operation)
                raise ClientError({"Error": {"Code": state["error"], "Message": "injected"}}, operation)
        return _real_call(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", faulty)

    def inject(operation: str | None, error: str = "ProvisionedThroughputExceededException"):
        state.clear()
        if operation:
            state.update(operation=operation, error=error)
    return inject


@pytest.mark.parametrize("error", ["ProvisionedThroughputExceededException", "ThrottlingException",
                                   "InternalServerError", "unreachable"])
def test_dynamodb_outage_is_a_503_with_retry_after(as_alice, business_hours, dynamodb_fault, error):
    dynamodb_fault("*", error)
    response = as_alice.create(card("100.00"))
    assert response.status == 503
    assert response.headers["retry-after"].isdigit()
    assert response.json["error"]["code"] == "service_unavailable"
    dynamodb_fault(None)
    assert as_alice.api.get("/repayments", token=as_alice.user.token).json["items"] == []


def test_commit_failure_leaves_no_repayment_and_the_same_key_works_after(as_alice, business_hours, dynamodb_fault):
    key = uuid.uuid4().hex
    dynamodb_fault("TransactWriteItems", "ThrottlingException")
    assert as_alice.create(card("100.00"), key=key).status == 503
    dynamodb_fault(None)
    assert as_alice.api.get("/repayments", token=as_alice.user.token).json["items"] == []
    assert queued_messages() == []
    retried = as_alice.create(card("100.00"), key=key)
    assert retried.status == 201, retried.json     # not stuck "in flight" behind the failed attempt
    run_worker()
    assert as_alice.get(retried.json["id"]).json["status"] == "succeeded"
    listed = as_alice.api.get("/repayments", token=as_alice.user.token).json["items"]
    assert [r["id"] for r in listed] == [retried.json["id"]]


def test_read_throttling_on_history_is_a_503(as_alice, business_hours, dynamodb_fault):
    assert as_alice.create(card("100.00")).status == 201
    dynamodb_fault("Query")
    response = as_alice.api.get("/repayments", token=as_alice.user.token)
    assert response.status == 503 and response.json["error"]["code"] == "service_unavailable"


def test_transaction_conflict_is_a_503_for_repayments(as_alice, business_hours, dynamodb_fault):
    dynamodb_fault("TransactWriteItems", "TransactionConflict")
    response = as_alice.create(card("100.00"))
    assert response.status == 503 and response.headers["retry-after"].isdigit()
    dynamodb_fault(None)
    assert as_alice.api.get("/repayments", token=as_alice.user.token).json["items"] == []


def test_transaction_conflict_on_a_case_move_is_a_409(api, alice, agent, dynamodb_fault):
    opened = api.post("/support/cases", json_body={"category": "fees", "description": "手续费比说的多了"},
                      token=alice.token)
    assert opened.status == 201
    # frontline answers first, so the owner may escalate (README "Escalation")
    assert api.post(f"/support/cases/{opened.json['case_id']}/reply", json_body={"message": "正在核查"},
                    token=agent.token).status == 200
    dynamodb_fault("TransactWriteItems", "TransactionConflict")
    moved = api.post(f"/support/cases/{opened.json['case_id']}/escalate", json_body={"reason": "没有解决"},
                     token=alice.token, headers={"Idempotency-Key": uuid.uuid4().hex})
    dynamodb_fault(None)
    assert moved.status == 409 and moved.json["error"]["code"] == "version_conflict"
    assert api.get(f"/support/cases/{opened.json['case_id']}", token=alice.token).json["step"] == "frontline"
