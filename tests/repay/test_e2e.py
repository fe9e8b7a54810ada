"""End to end over HTTP against the real local stack: quote → create → settlement by the SQS worker → retry."""
import uuid

import pytest
import requests

from tests.conftest import wait_for_status

pytestmark = pytest.mark.e2e


def test_quote_pay_settle_and_retry_over_http(local_stack):
    token = local_stack.token("e2e-repay", phone="+8613800138077")   # infra.local.ensure_user on the stack's pool
    auth = {"Authorization": f"Bearer {token}"}
    base = local_stack.api_url
    body = {"amount": "1234.50", "payee": {"kind": "credit_card", "issuer": "招商银行",
                                           "card_number": "6225880137654324"}}

    quote = requests.post(f"{base}/repayments/quote", json=body, headers=auth, timeout=10)
    assert quote.status_code == 200, quote.text
    assert quote.json()["total"] == "1234.50"

    key = uuid.uuid4().hex
    created = requests.post(f"{base}/repayments", json=body, headers={**auth, "Idempotency-Key": key}, timeout=10)
    assert created.status_code == 201, created.text
    repayment = created.json()
    assert repayment["status"] == "processing" and repayment["fee"] == quote.json()["fee"]
    replay = requests.post(f"{base}/repayments", json=body, headers={**auth, "Idempotency-Key": key}, timeout=10)
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json()["id"] == repayment["id"]

    done = wait_for_status(f"{base}/repayments/{repayment['id']}", auth, {"succeeded", "failed"})
    assert done["status"] == "succeeded" and done["actual_arrival"]
    assert [e["event"] for e in done["timeline"]] == ["created", "settled"]

    # a first-attempt failure, then a retry over HTTP
    failing = requests.post(f"{base}/repayments", json={**body, "amount": "100.51"},
                            headers={**auth, "Idempotency-Key": uuid.uuid4().hex}, timeout=10).json()
    failed = wait_for_status(f"{base}/repayments/{failing['id']}", auth, {"failed", "succeeded"})
    assert failed["status"] == "failed" and failed["failure"]["reason"] == "insufficient_funds"
    retried = requests.post(f"{base}/repayments/{failing['id']}/retry",
                            headers={**auth, "Idempotency-Key": uuid.uuid4().hex}, timeout=10)
    assert retried.status_code == 200 and retried.json()["status"] == "processing"
    assert wait_for_status(f"{base}/repayments/{failing['id']}", auth, {"succeeded", "failed"})["status"] == "succeeded"

    history = requests.get(f"{base}/repayments?limit=1", headers=auth, timeout=10).json()
    assert history["items"][0]["id"] == failing["id"] and history["next_cursor"]
