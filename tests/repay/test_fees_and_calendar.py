"""Fee schedule and arrival estimates: allowance, month boundary, cut-off, weekends and holidays."""
import datetime as dt

import pytest

from chalicelib.config import settings
from chalicelib.kernel import clock
from chalicelib.kernel.business_calendar import BusinessCalendar
from chalicelib.repay import fees, model
from tests.repay.conftest import at, card, loan, utility


@pytest.fixture
def schedule():
    return fees.FeeSchedule.from_file(settings().fee_schedule_path)


@pytest.fixture
def cal():
    return BusinessCalendar.from_file(settings().holidays_path)


# ---------------------------------------------------------------- fees (pure)
def test_credit_card_free_within_monthly_allowance(schedule):
    fee = fees.compute(schedule, "credit_card", 2000_00, used_this_month_fen=0)
    assert fee.fee_fen == 0 and fee.allowance_applied_fen == 2000_00 and fee.allowance_remaining_after_fen == 0


def test_credit_card_pays_point_one_percent_above_the_allowance(schedule):
    fee = fees.compute(schedule, "credit_card", 3000_00, used_this_month_fen=0)
    assert fee.fee_fen == 1_00            # 0.1% of the 1000.00 above the free 2000.00
    assert fee.total_fen == 3001_00


def test_minimum_fee_once_the_allowance_is_exhausted(schedule):
    fee = fees.compute(schedule, "credit_card", 50_00, used_this_month_fen=2000_00)
    assert fee.fee_fen == 10              # 0.1% of 50.00 is 0.05 → minimum 0.10
    fee = fees.compute(schedule, "credit_card", 1999_00, used_this_month_fen=1900_00)
    assert fee.allowance_applied_fen == 100_00 and fee.fee_fen == 1_90  # 0.1% of 1899.00 = 1.899 → 1.90


def test_rounding_is_half_up_to_the_fen(schedule):
    assert fees.compute(schedule, "credit_card", 150_50, used_this_month_fen=2000_00).fee_fen == 15  # 0.1505 → 0.15
    assert fees.compute(schedule, "credit_card", 155_00, used_this_month_fen=2000_00).fee_fen == 16  # 0.155 → 0.16


def test_loans_large_amounts_are_free_and_fee_is_capped(schedule):
    assert fees.compute(schedule, "loan", 20000_00, used_this_month_fen=0).fee_fen == 0        # free_above
    # 0.1% of 14999.00 = 14.999 → 15.00
    assert fees.compute(schedule, "loan", 19999_00, used_this_month_fen=0).fee_fen == 15_00
    assert fees.compute(schedule, "loan", 19999_00, used_this_month_fen=5000_00).fee_fen == 20_00  # 19.999 → 20.00
    capped = fees.FeeSchedule.from_dict({**_raw(), "kinds": {**_raw()["kinds"], "loan": {
        **_raw()["kinds"]["loan"], "free_above": None}}})
    assert fees.compute(capped, "loan", 100000_00, used_this_month_fen=5000_00).fee_fen == 50_00  # max_fee


def _raw():
    import yaml
    with open(settings().fee_schedule_path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_utility_small_amount_surcharge(schedule):
    small = fees.compute(schedule, "utility", 9_99, used_this_month_fen=0)
    assert small.fee_fen == 50 and [line.code for line in small.lines] == ["service_fee", "small_amount_surcharge"]
    assert fees.compute(schedule, "utility", 10_00, used_this_month_fen=0).fee_fen == 0


def test_allowance_month_is_the_shanghai_calendar_month():
    # 2026-11-30 16:30 UTC is already 1 December in Shanghai.
    assert fees.month_of(dt.datetime(2026, 11, 30, 16, 30, tzinfo=dt.UTC), "Asia/Shanghai") == "2026-12"
    assert fees.month_of(dt.datetime(2026, 11, 30, 15, 59, tzinfo=dt.UTC), "Asia/Shanghai") == "2026-11"


# ---------------------------------------------------------------- calendar (pure)
def test_business_days_weekends_holidays_and_make_up_days(cal):
    assert cal.is_business_day(dt.date(2026, 11, 27))            # Friday
    assert not cal.is_business_day(dt.date(2026, 11, 28))        # Saturday
    assert not cal.is_business_day(dt.date(2026, 10, 1))         # National Day
    assert cal.is_business_day(dt.date(2026, 10, 10))            # Saturday make-up working day
    assert cal.next_business_day(dt.date(2026, 11, 27)) == dt.date(2026, 11, 30)
    assert cal.next_business_day(dt.date(2026, 9, 30)) == dt.date(2026, 10, 8)
    assert cal.add_business_days(dt.date(2026, 11, 27), 2) == dt.date(2026, 12, 1)


def test_add_business_hours_skips_nights_weekends_and_holidays(cal):
    friday_5pm = at("2026-11-27 17:00")
    assert cal.add_business_hours(friday_5pm, 2) == at("2026-11-30 10:00")
    assert cal.add_business_hours(at("2026-09-30 17:30"), 1) == at("2026-10-08 09:30")


def test_credit_card_cut_off_friday_1659_vs_1701(cal, schedule):
    rule = schedule.rules("credit_card").arrival
    before = model.estimate_arrival(rule, at("2026-11-27 16:59"), cal)
    after = model.estimate_arrival(rule, at("2026-11-27 17:01"), cal)
    assert before.date == dt.date(2026, 11, 27)
    assert after.date == dt.date(2026, 11, 30)      # Monday
    assert model.estimate_arrival(rule, at("2026-11-27 17:00"), cal).date == dt.date(2026, 11, 30)


def test_credit_card_before_a_holiday_waits_for_the_next_business_day(cal, schedule):
    rule = schedule.rules("credit_card").arrival
    assert model.estimate_arrival(rule, at("2026-09-30 17:30"), cal).date == dt.date(2026, 10, 8)
    assert model.estimate_arrival(rule, at("2026-10-03 09:00"), cal).date == dt.date(2026, 10, 8)


def test_loans_are_real_time_and_utilities_within_24_hours(cal, schedule):
    saturday = at("2026-11-28 22:00")
    assert model.estimate_arrival(schedule.rules("loan").arrival, saturday, cal).expected_at == saturday
    assert model.estimate_arrival(schedule.rules("utility").arrival, saturday, cal).expected_at == \
        at("2026-11-29 22:00")


# ---------------------------------------------------------------- through the API
def test_quote_shows_the_cut_off_and_warns_about_the_due_date(as_alice, aws):
    clock.freeze(at("2026-11-27 17:01"))
    quote = as_alice.quote(card("500.00", due_date="2026-11-27")).json
    assert quote["expected_arrival"]["date"] == "2026-11-30"
    assert quote["warning"]["code"] == "arrives_after_due_date"
    assert quote["warning"]["kb_article"] == "repayment-delay"
    clock.freeze(at("2026-11-27 16:59"))
    quote = as_alice.quote(card("500.00", due_date="2026-11-27")).json
    assert quote["expected_arrival"]["date"] == "2026-11-27" and quote["warning"] is None


def test_allowance_is_consumed_by_repayments_and_resets_next_month(as_alice, aws):
    clock.freeze(at("2026-11-30 10:00"))
    assert as_alice.create(card("1500.00")).json["fee"] == "0.00"
    second = as_alice.quote(card("1000.00")).json
    assert second["allowance"] == {"monthly": "2000.00", "used_before": "1500.00", "applied": "500.00",
                                   "remaining_after": "0.00"}
    assert second["fee"] == "0.50"
    assert as_alice.create(card("1000.00")).json["fee"] == "0.50"
    assert as_alice.quote(card("100.00")).json["fee"] == "0.10"       # exhausted: minimum fee
    assert as_alice.quote(loan("100.00")).json["fee"] == "0.00"       # other kinds have their own allowance
    clock.freeze(at("2026-12-01 00:00"))                              # new month in Shanghai
    assert as_alice.quote(card("100.00")).json["fee"] == "0.00"


def test_quote_and_create_price_the_same(as_alice, business_hours):
    quote = as_alice.quote(utility("5.00")).json
    assert quote["fee"] == "0.50" and quote["total"] == "5.50"
    assert as_alice.create(utility("5.00")).json["total"] == "5.50"
