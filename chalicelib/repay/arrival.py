"""When a repayment arrives: the fee schedule's arrival rule of its kind on the business calendar."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from chalicelib.kernel.business_calendar import BusinessCalendar
from chalicelib.repay.fees import ArrivalRule

KB_DELAY = "repayment-delay"


@dataclass(frozen=True)
class Arrival:
    expected_at: dt.datetime   # aware, in the calendar's zone
    note: str

    @property
    def date(self) -> dt.date:
        return self.expected_at.date()


def estimate_arrival(rule: ArrivalRule, submitted_at: dt.datetime, calendar: BusinessCalendar) -> Arrival:
    local = calendar.local(submitted_at)
    if rule.mode == "realtime":
        return Arrival(local, "实时到账")
    if rule.mode == "within_hours":
        return Arrival(local + dt.timedelta(hours=rule.hours or 24), f"{rule.hours or 24} 小时内到账")
    cutoff = rule.cutoff or dt.time(17, 0)
    cutoff_text = cutoff.strftime("%H:%M")
    if calendar.is_business_day(local.date()) and local.time() < cutoff:
        day, note = local.date(), f"工作日 {cutoff_text} 前提交，预计当日到账"
    else:
        day = calendar.next_business_day(local.date())
        note = f"非工作日或 {cutoff_text} 后提交，预计下一个工作日（{day.isoformat()}）到账"
    end_of_day = dt.datetime.combine(day, dt.time(23, 59, 59), calendar.zone)
    return Arrival(end_of_day, note)


def due_date_warning(arrival: Arrival, due_date: dt.date | None) -> dict | None:
    if due_date is None or arrival.date <= due_date:
        return None
    return {"code": "arrives_after_due_date",
            "message": f"预计 {arrival.date.isoformat()} 到账，晚于还款日 {due_date.isoformat()}，可能产生逾期费用。"
                       f"建议尽早还款或联系发卡行。",
            "kb_article": KB_DELAY}
