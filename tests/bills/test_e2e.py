"""End to end on the real local stack: save a card with a due date, get the 3-day reminder (SMS captured by
moto), schedule "arrive by the due date", the sweep pays it, the owner is told, downloads the receipt and
verifies it.

The HTTP calls and the settlement worker run in the stack at real time; the sweep is also run here, in
this process against the stack's moto, with the clock moved to the moments it matters (``devtools.bills``
does the same by hand), so the test does not wait three days.
"""
import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
import requests

from devtools import bills as devtools_bills
from tests.conftest import wait_for_status

pytestmark = pytest.mark.e2e
SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONE = "+8613800138066"


def _texts(stack) -> list[str]:
    return [t["message"] for t in devtools_bills.texts(stack.moto_url) if t["phone_number"] == PHONE]


def _sweep_at(moment: dt.datetime) -> dict:
    from chalicelib.bills import service
    from chalicelib.kernel import clock
    clock.freeze(moment)
    try:
        return service.sweep(service.current())
    finally:
        clock.reset()


def test_card_reminder_schedule_sweep_notice_receipt(local_stack):
    token = local_stack.token("e2e-bills", phone=PHONE)        # also points this process at the stack's moto
    auth = {"Authorization": f"Bearer {token}"}
    base = local_stack.api_url
    from chalicelib.kernel import clock
    today = clock.local_now("Asia/Shanghai").date()  # the stack's clock (it starts at TEST_CLOCK_START, any hour)
    due = today + dt.timedelta(days=10)

    saved = requests.post(f"{base}/bills", headers=auth, timeout=10, json={
        "payee": {"kind": "credit_card", "issuer": "招商银行", "card_number": "6225880137654324"},
        "statement_due_date": due.isoformat()})
    assert saved.status_code == 201, saved.text
    bill = saved.json()
    assert bill["payee"]["card_last4"] == "4324" and "card_number" not in bill["payee"]

    # 3 days before the due date, by day: the reminder is texted once
    three_days_before = dt.datetime.combine(due - dt.timedelta(days=3), dt.time(10, 0), SHANGHAI)
    assert _sweep_at(three_days_before).get("reminded") == 1
    assert _sweep_at(three_days_before + dt.timedelta(minutes=1)).get("reminded") is None
    reminders = [t for t in _texts(local_stack) if "到期" in t]
    assert len(reminders) == 1 and "3 天后" in reminders[0] and "尾号 4324" in reminders[0]

    made = requests.post(f"{base}/bills/{bill['id']}/schedules", headers=auth, timeout=10,
                         json={"mode": "by_due_date", "amount": "1234.00"})
    assert made.status_code == 201, made.text
    schedule = made.json()
    runs_at = dt.datetime.fromisoformat(schedule["runs_at"])
    assert schedule["status"] == "active" and runs_at.date() <= due and schedule["runs_at"][:16].replace(
        "T", " ") in schedule["message"]

    # the sweep starts it at its moment, through the same create path; the stack's worker settles it
    assert _sweep_at(runs_at + dt.timedelta(seconds=30)).get("started") == 1
    started = requests.get(f"{base}/schedules/{schedule['id']}", headers=auth, timeout=10).json()
    assert started["status"] == "running" and started["repayment_id"]
    repayment = wait_for_status(f"{base}/repayments/{started['repayment_id']}", auth, {"succeeded", "failed"})
    assert repayment["status"] == "succeeded" and repayment["amount"] == "1234.00"
    assert repayment["expected_arrival"]["date"] <= due.isoformat()

    assert _sweep_at(runs_at + dt.timedelta(minutes=5)).get("succeeded") == 1
    done = requests.get(f"{base}/schedules/{schedule['id']}", headers=auth, timeout=10).json()
    assert done["status"] == "completed" and done["history"][0]["repayment_id"] == repayment["id"]

    # the owner is told (at once, or at 08:00 if the worker settled it inside the quiet hours)
    def success_texts():
        return [t for t in _texts(local_stack) if "1234.00" in t and "已到账" in t]
    deadline = time.monotonic() + 10
    while not success_texts() and time.monotonic() < deadline:
        time.sleep(0.3)
    if not success_texts():
        from chalicelib.adapters import outbox
        clock.freeze(clock.now() + dt.timedelta(hours=11))
        try:
            outbox.drain()
        finally:
            clock.reset()
    assert len(success_texts()) == 1

    receipt = requests.get(f"{base}/repayments/{repayment['id']}/receipt", headers=auth, timeout=10)
    assert receipt.status_code == 200, receipt.text
    assert receipt.json()["payee"] == "招商银行 信用卡 尾号 4324" and receipt.json()["amount"] == "1234.00"
    checked = requests.get(f"{base}{receipt.json()['verify_url']}", timeout=10).json()
    assert checked["valid"] is True and checked["amount"] == "1234.00"
