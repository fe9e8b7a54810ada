"""Due-date reminders: timing, quiet hours, exactly once under overlapping sweeps, paid bills, switched off."""
import datetime as dt
import uuid

import pytest

from chalicelib.bills import model, store
from chalicelib.notices import QuietHours
from tests.bills.conftest import at, card_bill, loan_bill, pump_wake_queue, settle_all, sweep, texts, utility_bill
from tests.repay.conftest import atomic_calls  # noqa: F401 (fixture)

PHONE = "+8613800138001"   # alice


@pytest.fixture
def saved(as_alice, clock_at):
    clock_at("2026-12-01 10:00")
    return as_alice.save(card_bill()).json     # due on the 10th: reminders 7th, 9th, 10th from 08:00


def _reminders(sms_sent):
    return [t for t in texts(sms_sent, PHONE) if "到期" in t]


def test_three_days_one_day_and_on_the_day(saved, alice, clock_at, sms_sent):
    clock_at("2026-12-06 23:59")
    assert sweep() == {} and _reminders(sms_sent) == []          # nothing before the 3-day mark
    clock_at("2026-12-07 08:00")
    assert sweep() == {"reminded": 1}
    clock_at("2026-12-07 12:00")
    assert sweep() == {}                                          # once per kind
    clock_at("2026-12-09 08:01")
    sweep()
    clock_at("2026-12-10 08:00")
    sweep()
    sent = _reminders(sms_sent)
    assert len(sent) == 3
    assert "3 天后（12 月 10 日）到期" in sent[0] and "明天（12 月 10 日）到期" in sent[1] and "今天到期" in sent[2]
    assert all("招商银行信用卡（尾号 4324）" in t and "6225" not in t for t in sent)
    # the next period starts over: its 3-day reminder wakes on 7 January
    _, wake = store.get_bill_and_wake(alice.user_id, saved["id"])
    assert wake == "2027-01-07T00:00:00.000Z"


def test_days_are_configurable(as_alice, clock_at, sms_sent, monkeypatch):
    monkeypatch.setenv("REMINDER_DAYS", "5")
    from chalicelib import config
    config.reload()
    clock_at("2026-12-01 10:00")
    as_alice.save(card_bill())
    clock_at("2026-12-05 09:00")
    sweep()
    clock_at("2026-12-07 09:00")
    sweep()
    sent = _reminders(sms_sent)
    assert len(sent) == 1 and "5 天后" in sent[0]


def test_a_late_sweep_sends_only_the_latest_reminder(saved, clock_at, sms_sent):
    clock_at("2026-12-09 09:00")        # the sweep missed the 7th (or the bill was saved late)
    assert sweep() == {"reminded": 1}
    assert len(_reminders(sms_sent)) == 1 and "明天" in _reminders(sms_sent)[0]


def test_quiet_hours_defer_to_eight(as_alice, clock_at, sms_sent):
    clock_at("2026-12-06 23:30")
    as_alice.save(card_bill(due_day=9))          # 3-day mark is the 6th: already reached, but it is 23:30
    assert sweep() == {}                          # not sent at night …
    clock_at("2026-12-07 07:59")
    assert sweep() == {} and _reminders(sms_sent) == []
    clock_at("2026-12-07 08:00")                  # … but at 08:00
    assert sweep() == {"reminded": 1}
    assert len(_reminders(sms_sent)) == 1


def test_quiet_hours_rule():
    quiet = QuietHours.parse("22:00-08:00")
    assert quiet.quiet(at("2026-12-07 22:00")) and quiet.quiet(at("2026-12-08 07:59"))
    assert not quiet.quiet(at("2026-12-07 21:59")) and not quiet.quiet(at("2026-12-08 08:00"))
    assert quiet.send_after(at("2026-12-07 23:10")) == at("2026-12-08 08:00")
    assert quiet.send_after(at("2026-12-08 03:00")) == at("2026-12-08 08:00")
    assert quiet.send_after(at("2026-12-08 12:00")) == at("2026-12-08 12:00")
    assert not QuietHours.parse("").quiet(at("2026-12-08 03:00"))
    with pytest.raises(ValueError):
        QuietHours.parse("late")


def test_two_overlapping_sweeps_send_each_reminder_once(saved, alice, clock_at, sms_sent, monkeypatch):
    """Sweep A has read the bill when sweep B runs from start to end; A's writes then fail their conditions."""
    clock_at("2026-12-07 09:00")
    before_b = store.get_bill_and_wake(alice.user_id, saved["id"])
    b_result = []

    def read_before_b(user_id, bill_id):
        if not b_result:
            b_result.append("running")
            b_result[0] = sweep()
        return before_b
    monkeypatch.setattr(store, "get_bill_and_wake", read_before_b)
    a_result = sweep()
    monkeypatch.undo()
    assert b_result == [{"reminded": 1}] and a_result == {"duplicate": 1}
    assert len(_reminders(sms_sent)) == 1
    assert [r["kind"] for r in store.reminders_of(alice.user_id, saved["id"])] == ["due_in_3d"]
    assert sweep() == {}


def test_concurrent_sweeps_in_threads(saved, clock_at, sms_sent, atomic_calls):
    from tests.repay.conftest import in_parallel
    clock_at("2026-12-07 09:00")
    results = in_parallel(4, sweep)
    assert not [r for r in results if isinstance(r, Exception)]
    assert len(_reminders(sms_sent)) == 1


def test_a_paid_bill_gets_no_reminder(as_alice, saved, clock_at, sms_sent):
    clock_at("2026-12-05 10:00")
    paid = as_alice.post("/repayments", {"amount": "500.00", "payee": {
        "kind": "credit_card", "issuer": "招商银行", "card_token": saved["payee"]["card_token"]}},
        headers={"Idempotency-Key": uuid.uuid4().hex})
    assert paid.status == 201
    settle_all()
    clock_at("2026-12-07 09:00")
    assert sweep() == {"paid": 1}
    clock_at("2026-12-10 09:00")
    sweep()
    assert _reminders(sms_sent) == []


def test_a_repayment_before_the_period_does_not_count(as_alice, clock_at, sms_sent):
    clock_at("2026-11-05 10:00")       # paid for November's due date …
    bill = as_alice.save(loan_bill()).json
    as_alice.post("/repayments", {"amount": "100.00", "payee": {k: v for k, v in bill["payee"].items()}},
                  headers={"Idempotency-Key": uuid.uuid4().hex})
    settle_all()
    for day in ("2026-11-07", "2026-11-09", "2026-11-10"):
        clock_at(f"{day} 09:00")
        assert sweep() == {"paid": 1}
    clock_at("2026-12-07 09:00")       # … so December's is still unpaid
    assert sweep() == {"reminded": 1}


def test_switched_off_per_bill(as_alice, saved, clock_at, sms_sent):
    other = as_alice.save(loan_bill()).json
    as_alice.patch(f"/bills/{saved['id']}", {"reminders": False})
    clock_at("2026-12-07 09:00")
    sweep()
    sent = _reminders(sms_sent)
    assert len(sent) == 1 and "微粒贷" in sent[0]
    assert other["reminders"] is True


def test_utility_reminder_says_the_amount_due(as_alice, clock_at, sms_sent):
    clock_at("2026-12-01 10:00")
    as_alice.save(utility_bill())
    clock_at("2026-12-17 09:00")
    sweep()
    [text] = _reminders(sms_sent)
    assert "国网上海市电力公司电费（户号尾号 3456）" in text and "应还" in text and "元" in text


def test_the_sweep_never_scans_and_reads_every_shard(saved, clock_at, monkeypatch):
    from chalicelib.bills import dynamo_store
    table = dynamo_store._table()
    calls = []
    real_query = table.query
    monkeypatch.setattr(type(table), "scan", lambda *a, **k: (_ for _ in ()).throw(AssertionError("Scan")),
                        raising=False)
    monkeypatch.setattr(dynamo_store, "_table", lambda: table)
    monkeypatch.setattr(table, "query", lambda **kw: calls.append(kw["ExpressionAttributeValues"][":p"])
                        or real_query(**kw))
    clock_at("2026-12-07 09:00")
    assert sweep() == {"reminded": 1}
    days = [(dt.date(2026, 12, 7) - dt.timedelta(days=back)).isoformat() for back in range(8)]   # lookback 7
    assert sorted(set(calls)) == sorted(f"WAKE#{day}{suffix}" for day in days for suffix in ("", "#1", "#2", "#3"))


def test_the_scheduled_handler_runs_the_sweep(saved, clock_at, sms_sent):
    """On AWS the schedule fans out one message per shard and the queue's workers sweep (tests/bills/
    test_sweep_fanout.py): the reminder reaches the user through that path."""
    from chalicelib.routes.bills import bills_sweep
    clock_at("2026-12-07 09:00")
    bills_sweep({"id": "evt", "detail-type": "Scheduled Event", "source": "aws.events", "time": "2026-12-07T01:00:00Z",
                 "region": "ap-southeast-1", "resources": [], "detail": {}, "account": "123456789012",
                 "version": "0"}, None)
    assert pump_wake_queue() == 4
    assert len(_reminders(sms_sent)) == 1


@pytest.mark.parametrize("today, due_day, expected", [
    ("2026-12-05", 10, "2026-12-10"), ("2026-12-10", 10, "2026-12-10"), ("2026-12-11", 10, "2027-01-10"),
    ("2027-02-01", 31, "2027-02-28"), ("2027-03-01", 31, "2027-03-31"),
])
def test_due_dates_of_short_months(today, due_day, expected):
    bill = model.Bill(id="bl_x", user_id="u", username="u", kind="loan", payee={}, created_at="", updated_at="",
                      due_day=due_day)
    assert bill.due_date_on(dt.date.fromisoformat(today)).isoformat() == expected
