"""Races over HTTP against the real local stack (moto one request at a time, as DynamoDB is atomic per request).

The in-process race tests (test_races.py, test_idempotency.py) force one interleaving
each; these send real bursts through ``chalice local`` and check what a user would see.
"""
import time
import uuid
from decimal import Decimal

import pytest
import requests

from tests.conftest import burst

pytestmark = pytest.mark.e2e
CARD = {"kind": "credit_card", "issuer": "招商银行", "card_number": "6225880137654324"}


def _create(base, auth, amount, key, tries=6):
    """A client that honours 503 + Retry-After and sends the same key again (the documented contract)."""
    for _ in range(tries):
        response = requests.post(f"{base}/repayments", json={"amount": amount, "payee": CARD},
                                 headers={**auth, "Idempotency-Key": key}, timeout=30)
        if response.status_code not in (409, 503):
            return response
        time.sleep(float(response.headers.get("Retry-After", "1")))
    return response


def _wait_for(base, auth, repayment_id, statuses, attempt=1, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = requests.get(f"{base}/repayments/{repayment_id}", headers=auth, timeout=10).json()
        if body["status"] in statuses and body.get("attempt", attempt) >= attempt:
            return body
        time.sleep(0.3)
    raise AssertionError(f"repayment {repayment_id} still {body['status']} after {timeout}s")


def test_parallel_payments_with_different_keys_are_all_stored_and_share_the_allowance_exactly(local_stack):
    """12 × 300.00 on a credit card at once: 12 repayments, 3,600.00 of the 2,000.00 monthly allowance used,
    and the fee (0.1 % above the allowance, at least 0.10) charged on exactly 1,600.00."""
    auth = {"Authorization": f"Bearer {local_stack.token(f'race-pay-{uuid.uuid4().hex[:8]}')}"}
    base = local_stack.api_url
    keys = [uuid.uuid4().hex for _ in range(12)]
    answers = burst(12, lambda i: _create(base, auth, "300.00", keys[i]))
    assert [a.status_code for a in answers] == [201] * 12, [a.text for a in answers if a.status_code != 201]
    ids = {a.json()["id"] for a in answers}
    assert len(ids) == 12

    listed = requests.get(f"{base}/repayments?limit=50", headers=auth, timeout=10).json()["items"]
    assert {r["id"] for r in listed} == ids
    quote = requests.post(f"{base}/repayments/quote", json={"amount": "100.00", "payee": CARD}, headers=auth,
                          timeout=10).json()
    assert quote["allowance"]["used_before"] == "3600.00"
    # who paid the fee depends on the order they committed in; what was charged in total does not:
    # 200.00 of the seventh payment and all of the last five are above the allowance
    fees = sorted(Decimal(a.json()["fee"]) for a in answers)
    assert fees == [Decimal("0.00")] * 6 + [Decimal("0.10")] + [Decimal("0.30")] * 5


def test_parallel_retries_with_one_key_start_one_attempt(local_stack):
    """A retry tapped ten times at once, then once more after the worker failed the new attempt too:
    one new attempt, never a third (#11 bug 3)."""
    auth = {"Authorization": f"Bearer {local_stack.token(f'race-retry-{uuid.uuid4().hex[:8]}')}"}
    base = local_stack.api_url
    created = _create(base, auth, "100.61", uuid.uuid4().hex)   # .61: insufficient_funds on every attempt
    assert created.status_code == 201, created.text
    repayment_id = created.json()["id"]
    _wait_for(base, auth, repayment_id, {"failed"})

    key = uuid.uuid4().hex
    retry = lambda i: requests.post(f"{base}/repayments/{repayment_id}/retry",  # noqa: E731
                                    headers={**auth, "Idempotency-Key": key}, timeout=30)
    answers = burst(10, retry)
    assert all(a.status_code in (200, 409) for a in answers), [(a.status_code, a.text) for a in answers]
    assert any(a.status_code == 200 for a in answers)
    failed_again = _wait_for(base, auth, repayment_id, {"failed"}, attempt=2)
    assert failed_again["attempt"] == 2

    late = retry(0)   # the same tap, delivered late: the answer it had, not attempt 3
    assert late.status_code == 200, late.text
    final = requests.get(f"{base}/repayments/{repayment_id}", headers=auth, timeout=10).json()
    assert final["attempt"] == 2
    assert [e["event"] for e in final["timeline"]].count("retried") == 1
