"""Bills test helpers: request bodies, a clock the tests move, the sweep and the settlement worker run in-process."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

SHANGHAI = ZoneInfo("Asia/Shanghai")
CARD = "6225880137654324"      # passes Luhn


def at(text: str) -> dt.datetime:
    """``"2026-11-25 10:00"`` in Asia/Shanghai."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def card_bill(**extra) -> dict:
    return {"payee": {"kind": "credit_card", "issuer": "招商银行", "card_number": CARD}, "due_day": 10, **extra}


def loan_bill(**extra) -> dict:
    return {"payee": {"kind": "loan", "platform": "微粒贷", "contract_number": "WLD-2026-0001"}, "due_day": 10, **extra}


def utility_bill(**extra) -> dict:
    return {"payee": {"kind": "utility", "utility": "electricity", "city": "上海", "biller": "国网上海市电力公司",
                      "account_number": "3100123456"}, "due_day": 20, **extra}


class Bills:
    """Calls the bills API as one user; runs the sweep, the settlement worker and the outbox drain like Lambda."""

    def __init__(self, api, user):
        self.api, self.user = api, user

    def save(self, body, **kw):
        return self.api.post("/bills", json_body=body, token=self.user.token, **kw)

    def get(self, path):
        return self.api.get(path, token=self.user.token)

    def patch(self, path, body):
        return self.api.request("PATCH", path, json_body=body, token=self.user.token)

    def delete(self, path):
        return self.api.request("DELETE", path, token=self.user.token)

    def post(self, path, body=None, **kw):
        return self.api.post(path, json_body=body if body is not None else {}, token=self.user.token, **kw)

    def schedule(self, bill_id, body):
        return self.post(f"/bills/{bill_id}/schedules", body)


@pytest.fixture
def as_alice(api, alice):
    return Bills(api, alice)


@pytest.fixture
def as_bob(api, bob):
    return Bills(api, bob)


@pytest.fixture
def clock_at(aws):
    """``clock_at("2026-12-07 10:00")`` freezes the clock there (Asia/Shanghai); returns the module."""
    from chalicelib.kernel import clock

    def move(text: str):
        clock.freeze(at(text))
        return clock
    return move


def sweep():
    from chalicelib.bills import service
    return service.sweep(service.current())


def settle_all() -> list[str]:
    """Run the settlement worker over every message in the settlement queue (as SQS would deliver them)."""
    from chalicelib.adapters import aws
    from chalicelib.config import settings
    from chalicelib.repay import service as repay
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=settings().settlement_queue)["QueueUrl"]
    outcomes = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return outcomes
        for message in messages:
            outcomes.append(repay.settle(message["Body"], repay.current()))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def pump_wake_queue() -> int:
    """Deliver the bills wake queue's messages (the schedule's fan-out) to the ``bills_wake`` worker, as
    Lambda's SQS trigger would, one message per invocation; returns how many were delivered."""
    from chalicelib.adapters import aws
    from chalicelib.config import settings
    from chalicelib.routes.bills import bills_wake
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=settings().bills_wake_queue)["QueueUrl"]
    delivered = 0
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for m in messages:
            bills_wake({"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"],
                                     "body": m["Body"], "attributes": {}, "messageAttributes": {},
                                     "eventSource": "aws:sqs", "awsRegion": "ap-southeast-1",
                                     "eventSourceARN": "arn:aws:sqs:ap-southeast-1:123456789012:bills-wake"}]}, None)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            delivered += 1
    return delivered


def drain():
    from chalicelib.adapters import outbox
    return outbox.drain()


def texts(sms_sent, phone: str) -> list[str]:
    return [text for to, text in sms_sent() if to == phone]

