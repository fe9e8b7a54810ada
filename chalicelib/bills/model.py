"""Bill, reminder and schedule rules as plain data and functions, no AWS.

- A ``Bill`` is what a user repays again and again: a credit card (issuer + last 4 + the connector's
  opaque token), a loan (platform + contract) or a utility account (biller + household number).
  It is due monthly on ``due_day`` (clamped to short months) or once on ``statement_due_date``.
- Its *period* is the due date it is working towards (``due_date_on``); reminders go on the days
  ``reminder_days`` before it (``3, 1`` and ``0`` = on the day), once per bill + period + kind.
- A ``Schedule`` pays a bill: on a date, "arrive by the due date" (the latest on-time moment,
  ``latest_on_time``), or monthly autopay for utilities (full bill or a fixed amount).
"""
from __future__ import annotations

import calendar as _calendar
import dataclasses
import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import TypeVar

from chalicelib.kernel import clock
from chalicelib.kernel.business_calendar import BusinessCalendar
from chalicelib.kernel.refusals import Conflicting, Invalid
from chalicelib.notices import QuietHours
from chalicelib.repay.fees import ArrivalRule
from chalicelib.repay.model import estimate_arrival

KINDS = ("credit_card", "loan", "utility")
KIND_LABELS = {"credit_card": "信用卡", "loan": "贷款", "utility": "生活缴费"}
UTILITY_LABELS = {"water": "水费", "electricity": "电费", "gas": "燃气费"}


def new_id(prefix: str, now: dt.datetime) -> str:
    """``<prefix>_`` + 12 hex digits of epoch ms + 8 random hex: ids sort by creation time."""
    return f"{prefix}_{int(now.timestamp() * 1000):012x}{secrets.token_hex(4)}"


def local_date(moment: dt.datetime, tz: str) -> dt.date:
    return moment.astimezone(clock.zone(tz)).date()


def start_of(day: dt.date, tz: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), clock.zone(tz))


def clamp_day(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, _calendar.monthrange(year, month)[1]))


def add_months(day: dt.date, months: int, keep_day: int | None = None) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return clamp_day(index // 12, index % 12 + 1, keep_day or day.day)


# ---------------------------------------------------------------- bills
@dataclass(frozen=True)
class Bill:
    id: str
    user_id: str
    username: str
    kind: str
    payee: dict                      # card: issuer, card_last4, card_token — never the number
    created_at: str
    updated_at: str
    name: str | None = None
    due_day: int | None = None       # monthly
    statement_due_date: str | None = None   # once (a statement's due date)
    reminders: bool = True
    version: int = 1

    def due_date_on(self, today: dt.date) -> dt.date | None:
        """The due date of the period ``today`` is in: the first due date on or after it (None: none left)."""
        if self.due_day:
            this_month = clamp_day(today.year, today.month, self.due_day)
            return this_month if this_month >= today else add_months(this_month, 1, self.due_day)
        if self.statement_due_date:
            due = dt.date.fromisoformat(self.statement_due_date)
            return due if due >= today else None
        return None

    def period_start(self, due: dt.date) -> dt.date:
        """The first day of the period ending on ``due`` (the day after the previous due date)."""
        previous = add_months(due, -1, self.due_day) if self.due_day else add_months(due, -1)
        return previous + dt.timedelta(days=1)

    def pays(self, repayment_payee: dict) -> bool:
        """Whether a repayment's payee is this bill's (cards by issuer + last 4)."""
        mine = self.payee
        if repayment_payee.get("kind") != self.kind:
            return False
        if self.kind == "credit_card":
            return (repayment_payee.get("issuer"), repayment_payee.get("card_last4")) == \
                (mine["issuer"], mine["card_last4"])
        if self.kind == "loan":
            return (repayment_payee.get("platform"), repayment_payee.get("contract_number")) == \
                (mine["platform"], mine["contract_number"])
        return (repayment_payee.get("biller"), repayment_payee.get("account_number")) == \
            (mine["biller"], mine["account_number"])

    def describe(self) -> str:
        """How texts name it: issuer/platform/biller and the last 4 digits only."""
        p = self.payee
        if self.kind == "credit_card":
            return f"{p['issuer']}信用卡（尾号 {p['card_last4']}）"
        if self.kind == "loan":
            return f"{p['platform']}借款（合同尾号 {p['contract_number'][-4:]}）"
        return f"{p['biller']}{UTILITY_LABELS[p['utility']]}（户号尾号 {p['account_number'][-4:]}）"

    def changed(self, now: dt.datetime, **changes) -> Bill:
        return dataclasses.replace(self, version=self.version + 1, updated_at=clock.isoformat(now), **changes)


def parse_reminder_days(text: str) -> tuple[int, ...]:
    """``"3,1,0"`` → (3, 1, 0), largest first; a malformed setting fails at start."""
    try:
        days = sorted({int(part) for part in text.split(",") if part.strip()}, reverse=True)
    except ValueError:
        raise ValueError(f"REMINDER_DAYS must look like 3,1,0, got {text!r}") from None
    if not days or any(d < 0 or d > 28 for d in days):
        raise ValueError(f"REMINDER_DAYS must be days between 0 and 28, got {text!r}")
    return tuple(days)


def reminder_kind(days_before: int) -> str:
    return "due_today" if days_before == 0 else f"due_in_{days_before}d"


@dataclass(frozen=True)
class Reminder:
    """A reminder to send now: of the period due on ``due``, ``days_before`` days ahead of it."""
    due: dt.date
    days_before: int

    @property
    def kind(self) -> str:
        return reminder_kind(self.days_before)


@dataclass(frozen=True)
class ReminderPlan:
    """What the sweep does with a bill at a moment: the reminder to send now (if any) and when to look again."""
    send: Reminder | None
    wake_at: dt.datetime | None   # next moment worth looking (already moved out of the quiet hours)


def reminder_moments(due: dt.date, days: tuple[int, ...], tz: str) -> list[tuple[dt.datetime, int]]:
    """Each reminder's earliest moment (the start of its day, local), earliest first."""
    return sorted((start_of(due - dt.timedelta(days=d), tz), d) for d in days)


def plan_reminders(bill: Bill, now: dt.datetime, days: tuple[int, ...], quiet: QuietHours, tz: str) -> ReminderPlan:
    """The latest reminder of the current period whose day has come is due (earlier ones it overtook
    are not sent late); none inside the quiet hours (the plan wakes at their end instead)."""
    due = bill.due_date_on(local_date(now, tz))
    if due is None:
        return ReminderPlan(None, None)
    moments = reminder_moments(due, days, tz)
    reached = [(at, d) for at, d in moments if at <= now]
    upcoming = [at for at, _ in moments if at > now]
    if reached and quiet.quiet(now):
        return ReminderPlan(None, quiet.send_after(now))
    send = Reminder(due, reached[-1][1]) if reached else None
    wake: dt.datetime | None
    if upcoming:
        wake = upcoming[0]
    else:   # the next period's first reminder
        following = bill.due_date_on(due + dt.timedelta(days=1))
        wake = reminder_moments(following, days, tz)[0][0] if following else None
        wake = max(wake, start_of(due + dt.timedelta(days=1), tz)) if wake else None
    return ReminderPlan(send, quiet.send_after(wake) if wake else None)


def reminder_text(bill: Bill, due: dt.date, days_before: int, amount_due: str | None = None) -> str:
    when = {0: "今天", 1: f"明天（{due.month} 月 {due.day} 日）"}.get(days_before,
                                                                 f"{days_before} 天后（{due.month} 月 {due.day} 日）")
    amount = f"应还 {amount_due} 元，" if amount_due else ""
    return (f"您的{bill.describe()}{when}到期，{amount}请按时还款以免产生逾期费用。"
            f"已还款请忽略。可在 App「账单」中关闭此提醒。")


# ---------------------------------------------------------------- "arrive by the due date"
class TooLate(Invalid):
    """No moment left that still arrives by the due date (→ 422)."""


def latest_on_time(rule: ArrivalRule, due: dt.date, calendar: BusinessCalendar, *, margin: dt.timedelta,
                   quiet: QuietHours, now: dt.datetime) -> dt.datetime:
    """The latest moment a repayment can start and still arrive by the end of ``due`` (local), less
    ``margin``, moved before the quiet hours (its outcome notice would wait for the morning);
    ``now`` when that moment has passed but starting now still arrives on time. Raises ``TooLate``.

    - cutoff (cards): the last business day on or before ``due``, at the cut-off;
    - realtime (loans): the end of ``due``;
    - within_hours (utilities): the end of ``due`` less the hours it may take.
    """
    zone = calendar.zone
    end_of_due = dt.datetime.combine(due, dt.time(23, 59, 59), zone)
    if rule.mode == "cutoff":
        day = due
        while not calendar.is_business_day(day):
            day -= dt.timedelta(days=1)
        moment = dt.datetime.combine(day, rule.cutoff or dt.time(17, 0), zone) - margin
    elif rule.mode == "within_hours":
        moment = end_of_due - dt.timedelta(hours=rule.hours or 24) - margin
    else:
        moment = end_of_due - margin
    if quiet.quiet(moment) and quiet.start is not None:
        local = moment.astimezone(zone)
        start_day = local.date() if local.time() >= quiet.start else local.date() - dt.timedelta(days=1)
        moment = dt.datetime.combine(start_day, quiet.start, zone) - margin
    if moment < now:
        moment = now
    if estimate_arrival(rule, moment, calendar).date > due:
        raise TooLate(f"已来不及在还款日 {due.isoformat()} 前到账，请立即手动还款，或联系发卡行/贷款机构。",
                      code="too_late_for_due_date", field="mode")
    return moment.astimezone(dt.UTC)


# ---------------------------------------------------------------- schedules
ON_DATE, BY_DUE_DATE, AUTOPAY = "on_date", "by_due_date", "autopay"
MODES = (ON_DATE, BY_DUE_DATE, AUTOPAY)

# statuses: verification_required → active ⇄ running → completed | cancelled
VERIFICATION_REQUIRED, ACTIVE, RUNNING, COMPLETED, CANCELLED = (
    "verification_required", "active", "running", "completed", "cancelled")
OPEN = (VERIFICATION_REQUIRED, ACTIVE)          # may still be changed or cancelled

# how long after a failure of each retryable reason the sweep tries again
RETRY_AFTER = {"insufficient_funds": dt.timedelta(hours=2), "biller_unavailable": dt.timedelta(minutes=30),
               "network_error": dt.timedelta(minutes=10), "maintenance": dt.timedelta(hours=1)}
ON_DATE_TIME = dt.time(9, 0)   # a payment "on a date" starts at 09:00 that day (local)


class NotChangeable(Conflicting):
    """The schedule already started (or ended): it can no longer be changed or cancelled (→ 409)."""

    def __init__(self, message: str = "这笔预约还款已开始执行或已结束，不能再修改或取消。"):
        super().__init__(message, code="schedule_not_changeable")


T = TypeVar("T")


class IncompleteSchedule(RuntimeError):
    """A stored schedule lacks a field its state always carries: a bug or a hand-edited item, never user
    input (the sweep logs it and leaves the schedule for the next run)."""


@dataclass(frozen=True)
class Schedule:
    id: str
    user_id: str
    username: str
    bill_id: str
    mode: str
    status: str
    created_at: str
    updated_at: str
    amount_fen: int | None = None        # fixed amount (on_date, by_due_date, autopay fixed)
    autopay_full: bool = False           # autopay: the whole bill the biller reports
    max_amount_fen: int | None = None    # autopay full: never more than this
    run_on: str | None = None            # on_date: the date
    period: str | None = None            # the due date (or run date) this run works towards
    run_at: str | None = None            # when the sweep starts (or retries, or checks) it
    repayment_id: str | None = None      # the repayment of the current period, once started
    retries: int = 0                     # automatic retries made in this period
    next_step: str | None = None         # running: "check" the repayment, or "retry" it at run_at
    verify_salt: str | None = None
    verify_hash: str | None = None
    verify_attempts: int = 0
    verify_expires_at: str | None = None
    cancel_reason: str | None = None
    runs: tuple[dict, ...] = field(default_factory=tuple)   # history: what ran, per period
    version: int = 1

    # What a schedule's state guarantees (the sweep relies on these):
    def current_period(self) -> str:
        """The due date (or run date) of the period worked towards: set at creation, moved by autopay."""
        return self._required(self.period, "period")

    def started_repayment(self) -> str:
        """A running schedule's repayment of the current period."""
        return self._required(self.repayment_id, "repayment_id")

    def fixed_fen(self) -> int:
        """The amount of a fixed-amount schedule (every one but a full-bill autopay)."""
        return self._required(self.amount_fen, "amount_fen")

    def cap_fen(self) -> int:
        """The most a full-bill autopay pays in one period."""
        return self._required(self.max_amount_fen, "max_amount_fen")

    def _required(self, value: T | None, name: str) -> T:
        if value is None:
            raise IncompleteSchedule(f"schedule {self.id} ({self.status}) has no {name}")
        return value

    def changed(self, now: dt.datetime, **changes) -> Schedule:
        return dataclasses.replace(self, version=self.version + 1, updated_at=clock.isoformat(now), **changes)

    def check_changeable(self) -> None:
        if self.status not in OPEN:
            raise NotChangeable()

    def finish_period(self, now: dt.datetime, outcome: str, message: str, *, next_period: str | None,
                      next_run_at: dt.datetime | None) -> Schedule:
        """Record what ran this period; autopay moves on to the next period, others complete."""
        entry = {"period": self.period, "repayment_id": self.repayment_id, "outcome": outcome,
                 "at": clock.isoformat(now), "message": message}
        entry = {k: v for k, v in entry.items() if v is not None}
        if next_period and next_run_at:
            return self.changed(now, status=ACTIVE, period=next_period, run_at=clock.isoformat(next_run_at),
                                repayment_id=None, retries=0, next_step=None, runs=self.runs + (entry,))
        return self.changed(now, status=COMPLETED, run_at=None, next_step=None, runs=self.runs + (entry,))
