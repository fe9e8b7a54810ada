"""Scheduled and automatic repayments: on time across a holiday, exactly once, frozen accounts, retries,
step-up at creation, changes until they start; and the outcome notices of every repayment."""
import re

import pytest

from chalicelib.bills import sweep as sweep_module
from chalicelib.repay import service as repay
from tests.bills.conftest import card_bill, drain, loan_bill, settle_all, sweep, texts, utility_bill
from tests.repay.conftest import atomic_calls, in_parallel  # noqa: F401 (fixture)

PHONE = "+8613800138001"   # alice


def run() -> dict:
    """One sweep, what it did with schedules (reminders of the same bills left aside)."""
    return {k: v for k, v in sweep().items() if k not in ("reminded", "paid", "moved")}


def _repayments(as_alice):
    return as_alice.get("/repayments?limit=100").json["items"]


def _schedule(as_alice, schedule_id):
    return as_alice.get(f"/schedules/{schedule_id}").json


def test_arrive_by_the_due_date_across_the_national_day_holiday(as_alice, clock_at, sms_sent):
    clock_at("2026-09-28 10:00")
    bill = as_alice.save(card_bill(due_day=5)).json               # due 5 October, inside the 1–7 October holiday
    made = as_alice.schedule(bill["id"], {"mode": "by_due_date", "amount": "300.00"})
    assert made.status == 201, made.text
    schedule = made.json
    # the last business day on or before the 5th is 30 September; cards arrive that day before the 17:00 cut-off
    assert schedule["status"] == "active" and schedule["period"] == "2026-10-05"
    assert schedule["runs_at"] == "2026-09-30T16:00:00+08:00" and "2026-09-30 16:00" in schedule["message"]

    clock_at("2026-09-30 15:59")
    assert run() == {}
    clock_at("2026-09-30 16:00")
    assert run() == {"started": 1}
    [repayment] = _repayments(as_alice)
    assert repayment["status"] == "processing" and repayment["expected_arrival"]["date"] == "2026-09-30"
    assert settle_all() == ["succeeded"]
    clock_at("2026-09-30 16:02")
    assert run() == {"succeeded": 1}
    done = _schedule(as_alice, schedule["id"])
    assert done["status"] == "completed" and "runs_at" not in done
    assert [(h["outcome"], h["repayment_id"]) for h in done["history"]] == [("succeeded", repayment["id"])]
    notice = [t for t in texts(sms_sent, PHONE) if "已到账" in t]
    assert len(notice) == 1 and "300.00" in notice[0] and "尾号 4324" in notice[0]


def test_a_rerun_after_a_crash_never_pays_twice(as_alice, clock_at, monkeypatch):
    clock_at("2026-12-07 10:00")
    bill = as_alice.save(card_bill()).json
    schedule = as_alice.schedule(bill["id"], {"mode": "by_due_date", "amount": "200.00"}).json
    clock_at("2026-12-10 16:00")
    real_save = sweep_module._save
    monkeypatch.setattr(sweep_module, "_save", lambda *a, **k: False)   # the sweep dies after creating the repayment
    assert run() == {"raced": 1}
    monkeypatch.setattr(sweep_module, "_save", real_save)
    assert run() == {"started": 1}                                    # the next run replays the same key
    assert len(_repayments(as_alice)) == 1
    assert _schedule(as_alice, schedule["id"])["repayment_id"] == _repayments(as_alice)[0]["id"]


def test_autopay_pays_each_month_once_even_when_sweeps_overlap(as_alice, clock_at, sms_sent, atomic_calls):
    clock_at("2026-12-01 10:00")
    bill = as_alice.save(utility_bill()).json                            # electricity, due on the 20th
    lookup = as_alice.post("/bills/lookup", {k: bill["payee"][k] for k in ("utility", "city", "biller",
                                                                           "account_number")}).json
    schedule = as_alice.schedule(bill["id"], {"mode": "autopay", "autopay_full": True, "max_amount": "500.00"}).json
    # utilities arrive within 24 h: the day before, moved out of the quiet hours
    assert schedule["runs_at"] == "2026-12-19T21:00:00+08:00"
    clock_at("2026-12-19 21:00")
    results = in_parallel(3, run)
    assert sorted(sum((list(r.items()) for r in results), [])).count(("started", 1)) >= 1
    [repayment] = _repayments(as_alice)
    assert repayment["amount"] == lookup["amount_due"] and repayment["payee"]["account_number"] == "3100123456"
    settle_all()
    clock_at("2026-12-19 21:03")
    sweep()
    after = _schedule(as_alice, schedule["id"])
    assert after["status"] == "active" and after["period"] == "2027-01-20"
    assert after["runs_at"] == "2027-01-19T21:00:00+08:00"
    assert [h["outcome"] for h in after["history"]] == ["succeeded"]
    clock_at("2027-01-19 21:00")
    assert run() == {"started": 1}
    assert len(_repayments(as_alice)) == 2


def test_autopay_over_its_limit_pays_nothing_and_says_so(as_alice, clock_at, sms_sent):
    clock_at("2026-12-01 10:00")
    bill = as_alice.save(utility_bill()).json
    schedule = as_alice.schedule(bill["id"], {"mode": "autopay", "autopay_full": True, "max_amount": "1.00"}).json
    clock_at("2026-12-19 21:00")
    assert run() == {"over_limit": 1}
    assert _repayments(as_alice) == []
    assert _schedule(as_alice, schedule["id"])["history"][0]["outcome"] == "over_limit"
    assert any("超过您设置的自动缴费上限" in t for t in texts(sms_sent, PHONE))


def test_a_frozen_account_skips_and_tells_the_user(as_alice, alice, clock_at, sms_sent):
    clock_at("2026-12-07 10:00")
    bill = as_alice.save(loan_bill()).json
    schedule = as_alice.schedule(bill["id"], {"mode": "on_date", "run_on": "2026-12-08", "amount": "100.00"}).json
    assert schedule["runs_at"] == "2026-12-08T09:00:00+08:00"
    repay.freeze_account(alice.user_id, reason="account_security", case_id="CS-1")
    clock_at("2026-12-08 09:00")
    assert run() == {"skipped_frozen": 1}
    assert _repayments(as_alice) == []
    done = _schedule(as_alice, schedule["id"])
    assert done["status"] == "completed" and done["history"][0]["outcome"] == "skipped_frozen"
    [text] = [t for t in texts(sms_sent, PHONE) if "冻结" in t]
    assert "未扣款" in text and repay.rules_of(repay.current()).security_hotline in text


def test_a_failed_scheduled_payment_is_retried_in_time_and_the_user_told(as_alice, clock_at, sms_sent):
    clock_at("2026-12-07 10:00")
    bill = as_alice.save(card_bill()).json
    schedule = as_alice.schedule(bill["id"], {"mode": "by_due_date", "amount": "300.53"}).json   # network error once
    clock_at("2026-12-10 16:00")
    sweep()
    assert settle_all() == ["failed"]
    clock_at("2026-12-10 16:02")
    assert run() == {"retry_planned": 1}
    [told] = [t for t in texts(sms_sent, PHONE) if "未成功" in t]
    assert "12月10日 16:12 自动重试" in told and "16:59 前" in told and "/help/articles/repayment-failed" in told
    assert "手动还款" in told
    assert _schedule(as_alice, schedule["id"])["message"].startswith("上次扣款未成功")
    clock_at("2026-12-10 16:12")
    assert run() == {"retried": 1}
    assert settle_all() == ["succeeded"]
    clock_at("2026-12-10 16:14")
    assert run() == {"succeeded": 1}
    assert len(_repayments(as_alice)) == 1 and _repayments(as_alice)[0]["status"] == "succeeded"
    assert _schedule(as_alice, schedule["id"])["status"] == "completed"


def test_a_failure_with_no_time_left_says_pay_another_way_before_the_due_date(as_alice, clock_at, sms_sent):
    clock_at("2026-12-07 10:00")
    bill = as_alice.save(card_bill()).json
    schedule = as_alice.schedule(bill["id"], {"mode": "by_due_date", "amount": "300.51"}).json   # insufficient funds
    clock_at("2026-12-10 16:00")
    sweep()
    settle_all()
    clock_at("2026-12-10 16:02")
    assert run() == {"failed": 1}
    [told] = [t for t in texts(sms_sent, PHONE) if "未成功" in t]
    assert "余额不足" in told and "请在还款日 2026-12-10 前通过其他方式还款" in told and "repayment-failed" in told
    assert _schedule(as_alice, schedule["id"])["history"][0]["outcome"] == "failed"


def test_large_schedules_are_confirmed_by_sms_when_made_not_when_run(as_alice, clock_at, sms_sent):
    clock_at("2026-12-07 10:00")
    bill = as_alice.save(card_bill()).json
    made = as_alice.schedule(bill["id"], {"mode": "by_due_date", "amount": "6000.00"}).json
    assert made["status"] == "verification_required" and made["verification_expires_at"]
    code = re.search(r"验证码 (\d{6})", texts(sms_sent, PHONE)[-1]).group(1)
    wrong = as_alice.post(f"/schedules/{made['id']}/verify", {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status == 422 and wrong.json["error"]["attempts_left"] == 4
    clock_at("2026-12-10 16:00")
    assert run() == {}                                               # unconfirmed: never runs
    clock_at("2026-12-07 10:01")
    assert as_alice.post(f"/schedules/{made['id']}/verify", {"code": code}).json["status"] == "active"
    sms_count = len(texts(sms_sent, PHONE))
    clock_at("2026-12-10 16:00")
    assert run() == {"started": 1}
    [repayment] = _repayments(as_alice)
    assert repayment["status"] == "processing"                         # no second code at run time
    assert not any("验证码" in t for t in texts(sms_sent, PHONE)[sms_count:])


def test_change_or_cancel_until_it_starts(as_alice, clock_at):
    clock_at("2026-12-07 10:00")
    bill = as_alice.save(loan_bill()).json
    schedule = as_alice.schedule(bill["id"], {"mode": "on_date", "run_on": "2026-12-09", "amount": "100.00"}).json
    changed = as_alice.patch(f"/schedules/{schedule['id']}", {"amount": "150.00", "run_on": "2026-12-08"}).json
    assert changed["amount"] == "150.00" and changed["runs_at"] == "2026-12-08T09:00:00+08:00"
    clock_at("2026-12-08 09:00")
    sweep()
    refused = as_alice.patch(f"/schedules/{schedule['id']}", {"amount": "10.00"})
    assert refused.status == 409 and refused.json["error"]["code"] == "schedule_not_changeable"
    assert as_alice.post(f"/schedules/{schedule['id']}/cancel").status == 409
    assert _repayments(as_alice)[0]["amount"] == "150.00"

    other = as_alice.schedule(bill["id"], {"mode": "by_due_date", "amount": "100.00"}).json
    cancelled = as_alice.post(f"/schedules/{other['id']}/cancel").json
    assert cancelled["status"] == "cancelled"
    assert as_alice.post(f"/schedules/{other['id']}/cancel").json["status"] == "cancelled"    # harmless repeat
    clock_at("2026-12-10 16:00")
    assert run() == {"waiting": 1}            # the first one's repayment is still processing; the cancelled never runs
    assert len(_repayments(as_alice)) == 1
    listed = as_alice.get("/schedules").json["items"]
    assert [s["id"] for s in listed] == [other["id"], schedule["id"]]


@pytest.mark.parametrize("body, code", [
    ({"mode": "by_due_date"}, None),                                          # no amount
    ({"mode": "on_date", "amount": "1.00"}, None),                            # no date
    ({"mode": "on_date", "amount": "1.00", "run_on": "2026-12-01"}, "run_on_in_past"),
    ({"mode": "on_date", "amount": "1.00", "run_on": "9999-12-31"}, "run_on_too_far"),
    ({"mode": "autopay", "amount": "1.00"}, "autopay_utilities_only"),
    ({"mode": "by_due_date", "amount": "60000.00"}, "amount_over_limit"),
    ({"mode": "by_due_date", "amount": 100}, None),
    ({"mode": "weekly", "amount": "1.00"}, None),
])
def test_bad_schedules_are_4xx(as_alice, clock_at, body, code):
    clock_at("2026-12-07 10:00")
    bill = as_alice.save(card_bill()).json
    response = as_alice.schedule(bill["id"], body)
    assert response.status == 400, response.text
    assert code is None or response.json["error"]["code"] == code


def test_too_late_to_arrive_by_the_due_date(as_alice, clock_at):
    clock_at("2026-12-10 17:30")          # the due day, after the card cut-off
    bill = as_alice.save(card_bill(due_day=10)).json
    refused = as_alice.schedule(bill["id"], {"mode": "by_due_date", "amount": "100.00"})
    assert refused.status == 400 and refused.json["error"]["code"] == "too_late_for_due_date"


# ---------------------------------------------------------------- outcome notices of any repayment
def _pay(as_alice, amount):
    return as_alice.post("/repayments", {"amount": amount, "payee": loan_bill()["payee"]},
                         headers={"Idempotency-Key": amount})


def test_success_failure_and_delay_each_tell_the_owner(as_alice, clock_at, sms_sent):
    clock_at("2026-12-07 10:00")
    _pay(as_alice, "100.00")
    _pay(as_alice, "100.55")               # invalid account
    _pay(as_alice, "100.56")               # delayed
    settle_all()
    sent = texts(sms_sent, PHONE)
    assert any("100.00 元" in t and "已到账" in t for t in sent)
    [failed] = [t for t in sent if "100.55" in t]
    assert "收款账户信息有误" in failed and "请核对收款信息" in failed and "/help/articles/repayment-failed" in failed
    [delayed] = [t for t in sent if "100.56" in t]
    assert "处理较慢" in delayed and "/help/articles/repayment-delay" in delayed


def test_notices_wait_for_the_end_of_the_quiet_hours(as_alice, clock_at, sms_sent):
    clock_at("2026-12-07 23:10")
    _pay(as_alice, "100.00")
    settle_all()
    assert not [t for t in texts(sms_sent, PHONE) if "已到账" in t]
    clock_at("2026-12-08 07:59")
    drain()
    assert not [t for t in texts(sms_sent, PHONE) if "已到账" in t]
    clock_at("2026-12-08 08:00")
    drain()
    assert len([t for t in texts(sms_sent, PHONE) if "已到账" in t]) == 1
