"""Repayment test helpers: request bodies, a frozen business clock, and driving the settlement worker."""
from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from zoneinfo import ZoneInfo

import botocore.client
import pytest

SHANGHAI = ZoneInfo("Asia/Shanghai")
CARD = "6225880137654324"      # passes Luhn
BAD_CARD = "6225880137654325"  # fails Luhn


def card(amount: str = "100.00", **extra) -> dict:
    return {"amount": amount, "payee": {"kind": "credit_card", "issuer": "招商银行", "card_number": CARD}, **extra}


def loan(amount: str = "100.00", **extra) -> dict:
    return {"amount": amount, "payee": {"kind": "loan", "platform": "微粒贷", "contract_number": "WLD-2026-0001"},
            **extra}


def utility(amount: str = "100.00", **extra) -> dict:
    return {"amount": amount, "payee": {"kind": "utility", "utility": "electricity", "biller": "国网上海市电力公司",
                                        "account_number": "3100123456", "city": "上海"}, **extra}


def at(text: str) -> dt.datetime:
    """``"2026-11-25 10:00"`` in Asia/Shanghai."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def business_hours(aws):
    """A Wednesday morning in Shanghai (a business day, before the 17:00 cut-off)."""
    from chalicelib.kernel import clock
    clock.freeze(at("2026-11-25 10:00"))
    return clock


class Repay:
    """Calls the API as one user, and runs the settlement worker like Lambda would."""

    def __init__(self, api, user):
        self.api, self.user = api, user

    def quote(self, body):
        return self.api.post("/repayments/quote", json_body=body, token=self.user.token)

    def create(self, body, key: str | None = None, **kw):
        headers = {"Idempotency-Key": key or uuid.uuid4().hex}
        return self.api.post("/repayments", json_body=body, token=self.user.token, headers=headers, **kw)

    def get(self, repayment_id):
        return self.api.get(f"/repayments/{repayment_id}", token=self.user.token)

    def verify(self, repayment_id, code):
        return self.api.post(f"/repayments/{repayment_id}/verify", json_body={"code": code}, token=self.user.token)

    def retry(self, repayment_id, key: str | None = None):
        return self.api.post(f"/repayments/{repayment_id}/retry", token=self.user.token,
                             headers={"Idempotency-Key": key or uuid.uuid4().hex})


@pytest.fixture
def as_alice(api, alice):
    return Repay(api, alice)


@pytest.fixture
def as_bob(api, bob):
    return Repay(api, bob)


def in_parallel(count: int, call) -> list:
    """Start ``call()`` on ``count`` threads at once; what each returned or raised, in finishing order."""
    barrier = threading.Barrier(count)
    outcomes, lock = [], threading.Lock()

    def attempt():
        barrier.wait()
        try:
            result = call()
        except Exception as exc:  # noqa: BLE001 - collected for the test to assert on
            result = exc
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def queue_records(name: str, max_rounds: int = 10) -> list[dict]:
    """Receive (and delete) what is on the queue ``name``, as Lambda-shaped SQS records."""
    from chalicelib.adapters import aws
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    records = []
    for _ in range(max_rounds):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                       WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            break
        for m in messages:
            records.append({"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                            "attributes": {}, "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                            "eventSource": "aws:sqs", "awsRegion": "ap-southeast-1",
                            "eventSourceARN": f"arn:aws:sqs:ap-southeast-1:123456789012:{name}"})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return records


def queued_messages(max_rounds: int = 5) -> list[dict]:
    """Receive (and delete) what is on the settlement queue, as Lambda-shaped SQS records."""
    from chalicelib.config import settings
    return queue_records(settings().settlement_queue, max_rounds)


def run_worker(records: list[dict] | None = None) -> list[dict]:
    """Invoke the ``@app.on_sqs_message`` handler with a Lambda-shaped event; returns the records it got."""
    from chalicelib.routes.repayments import settle_repayments
    records = queued_messages() if records is None else records
    if records:
        settle_repayments({"Records": records}, None)
    return records


def body_of(record: dict) -> dict:
    return json.loads(record["body"])


@pytest.fixture
def atomic_calls(monkeypatch):
    """Each AWS call atomic, as DynamoDB makes each request (in-process moto checks a condition and
    writes without a lock, so two threads could both pass one conditional put)."""
    # reentrant: the first call to a service may build its resources first (the lazy ``aws`` fixture)
    real, lock = botocore.client.BaseClient._make_api_call, threading.RLock()

    def one_at_a_time(self, operation, params):
        with lock:
            return real(self, operation, params)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", one_at_a_time)
