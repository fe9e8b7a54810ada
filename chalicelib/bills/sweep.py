"""The bills sweep: due-date reminders and scheduled repayments.

Every minute the schedule fans out one SQS message per shard of the wake index (``fan_out``); each message
is worked by its own Lambda (``work`` → ``sweep_shard``) within a time budget, so throughput grows with
``WAKE_SHARDS`` and Lambda concurrency (docs/scale.md). Each worker Queries its shard of the sparse,
time-bucketed ``by_wake`` index for what is due (never a Scan), re-reads each bill or schedule consistently
and acts with writes conditional on the version it read:

- a bill: the reminder of its period whose day has come (unless switched off, or the period is paid
  already), recorded by a conditional put of ``REMIND#<bill>#<period>#<kind>`` in the same transaction
  as the outbox SMS and the move of its wake — two overlapping sweeps send it once;
- a schedule: starts its repayment through the same create path as ``POST /repayments`` with the
  Idempotency-Key ``schedule:<id>:<period>`` (a re-run replays the same repayment, never a second one),
  then checks it; a failure is retried per its reason while still on time, and the owner is told
  either way; a frozen account skips the run and says so.
Each text goes by SMS (deferred past the quiet hours by the outbox) and to the in-app inbox, in the same
unit of work (``chalicelib/notices/``).
"""
from __future__ import annotations

import collections
import datetime as dt
import json
import time
from collections.abc import Callable

from chalicelib import notices
from chalicelib.adapters import outbox, queues
from chalicelib.bills import model, store
from chalicelib.bills.rules import of as rules_of
from chalicelib.kernel import clock, refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger, metric
from chalicelib.kernel.money import format_fen
from chalicelib.repay import service as repay


def sweep(ctx: Context, *, limit: int | None = None) -> dict[str, int]:
    """Every shard, one after the other, in this process (tests, ``devtools.bills sweep``): what it did, by
    outcome. On AWS the schedule fans the shards out instead (``fan_out`` → ``work``)."""
    counts: collections.Counter = collections.Counter()
    for shard in range(ctx.settings.wake_shards):
        counts.update(sweep_shard(ctx, shard, limit=limit))
    return dict(counts)


def sweep_shard(ctx: Context, shard: int, *, limit: int | None = None,
                time_left: Callable[[], float] | None = None) -> dict[str, int]:
    """What is due in one shard of the wake index, oldest first, until none is left, ``limit`` items were
    handled or ``time_left()`` (seconds) runs out — the rest waits for the next run. Safe beside another worker
    on the same shard: every action is conditional on the version it read (a loser counts ``duplicate``,
    ``stale`` or ``raced``). A failing item is left for the next run."""
    counts: collections.Counter = collections.Counter()
    handled = 0
    rules = rules_of(ctx)
    for item in store.due(ctx.now, rules.time_zone, shard, lookback_days=rules.lookback_days):
        if (limit is not None and handled >= limit) or (time_left is not None and time_left() <= 0):
            counts["left"] += 1      # at least one more is due: the next run (a minute later) goes on
            break
        handled += 1
        try:
            if item.kind == "bill":
                counts[_wake_bill(item, ctx)] += 1
            elif item.kind == "schedule":
                counts[_wake_schedule(item, ctx)] += 1
        except Exception:
            logger.exception("bills sweep: item failed, the next run tries again", extra={"item": item.id})
            counts["error"] += 1
    if counts:
        logger.info("bills sweep", extra={"shard": shard, **counts})
    if counts["left"]:
        metric("BillsSweepBehind")     # a shard had more due than its budget: the dashboard's backlog signal
    return dict(counts)


# ---------------------------------------------------------------- fan-out (AWS): one SQS message per shard
def fan_out(ctx: Context) -> int:
    """The schedule's whole job (every minute): one message per wake shard to the bills wake queue, so the
    shards are worked in parallel by as many Lambdas (``work``); returns how many were sent. Throughput grows
    with ``WAKE_SHARDS``; the messages carry nothing but the shard and the minute (the worker reads the index)."""
    at = clock.isoformat(ctx.now)
    bodies = [json.dumps({"shard": shard, "at": at}) for shard in range(ctx.settings.wake_shards)]
    # raises when a message was not queued: the schedule's next minute sends every shard again anyway
    return queues.send_batch(ctx.settings.bills_wake_queue, bodies)


def work(body: str, ctx: Context, *, time_left: Callable[[], float] | None = None) -> dict[str, int]:
    """One fan-out message: sweep its shard within the time budget (``BILLS_SWEEP_BUDGET_SECONDS`` and the
    Lambda's remaining time). A message older than its minute's successor is still worked: the index, not the
    message, says what is due, and a second worker on the same shard only loses conditional writes."""
    try:
        shard = int(json.loads(body)["shard"])
        if not 0 <= shard < ctx.settings.wake_shards:
            raise ValueError(shard)
    except (ValueError, KeyError, TypeError):
        logger.error("malformed bills wake message dropped")
        return {"malformed": 1}
    started, budget = time.monotonic(), ctx.settings.bills_sweep_budget_seconds

    def left() -> float:
        own = budget - (time.monotonic() - started)
        return own if time_left is None else min(own, time_left())
    return sweep_shard(ctx, shard, time_left=left)


def _local(moment: dt.datetime, ctx: Context) -> str:
    return moment.astimezone(clock.zone(rules_of(ctx).time_zone)).strftime("%m月%d日 %H:%M")


# ---------------------------------------------------------------- reminders
def paid_for_period(bill: model.Bill, due: dt.date, ctx: Context) -> bool:
    """A repayment to this bill's payee since its period started, succeeded or still processing
    (Queries of the user's ``by_status`` index, newest first, stopping at the period's start)."""
    since = clock.isoformat(model.start_of(bill.period_start(due), rules_of(ctx).time_zone))
    return repay.paid_since(bill.user_id, bill.kind, since, bill.pays)


def _wake_bill(item: store.Due, ctx: Context) -> str:
    user_id, bill_id = item.user_id, item.id
    bill, wake_at = store.get_bill_and_wake(user_id, bill_id)
    now = ctx.now
    if bill is None or wake_at is None or wake_at > clock.isoformat(now):
        return "stale"      # deleted, or its wake moved (a change, another sweep) since the index was read
    tz = rules_of(ctx).time_zone
    if bill.reminders:
        plan = model.plan_reminders(bill, now, rules_of(ctx).reminder_days, rules_of(ctx).quiet, tz)
    else:
        plan = model.ReminderPlan(None, None)
    uow = store.begin()
    store.wake_bill(uow, bill, plan.wake_at, tz)
    sent, outcome = [], "moved"
    reminder = plan.send
    if reminder is not None:
        if paid_for_period(bill, reminder.due, ctx):
            outcome = "paid"
        else:
            amount = None
            if bill.kind == "utility":
                p = bill.payee
                found = repay.utility_bill(p["utility"], p["biller"], p["city"], p["account_number"])
                amount = format_fen(found.amount_due_fen) if found else None
            store.remind(uow, user_id, bill.id, reminder.due.isoformat(), reminder.kind, now)
            sent = notices.notify(uow, user_id, bill.username,
                                  model.reminder_text(bill, reminder.due, reminder.days_before, amount),
                                  kind="reminder", now=now, quiet=rules_of(ctx).quiet, ref={"bill_id": bill.id})
            outcome = "reminded"
    try:
        uow.commit()
    except store.ReminderAlreadySent as exc:
        if "wake" not in exc:     # sent already (an overlapping sweep): only move on
            only_wake = store.begin()
            store.wake_bill(only_wake, bill, plan.wake_at, tz)
            try:
                only_wake.commit()
            except store.Conflict:
                pass
        return "duplicate"
    except store.Conflict:
        return "duplicate"
    outbox.deliver(sent)
    if reminder is not None and outcome == "reminded":
        metric("BillReminderSent", kind=reminder.kind)
    return outcome


# ---------------------------------------------------------------- scheduled repayments
def _save(after: model.Schedule, before: model.Schedule, ctx: Context, text: str | None = None) -> bool:
    """The schedule over the version read and, with ``text``, the owner told (SMS and inbox) in the same unit."""
    uow = store.begin()
    store.save_schedule(uow, after, before.version, rules_of(ctx).time_zone)
    sent = [] if text is None else notices.notify(
        uow, after.user_id, after.username, text, kind="schedule", now=ctx.now, quiet=rules_of(ctx).quiet,
        ref={"schedule_id": after.id, "bill_id": after.bill_id, "repayment_id": after.repayment_id})
    try:
        uow.commit()
    except store.Conflict:
        return False
    outbox.deliver(sent)
    return True


def _next_period(s: model.Schedule, bill: model.Bill | None, ctx: Context) -> tuple[str | None, dt.datetime | None]:
    """Autopay moves to the bill's next due date; the other modes end after one period."""
    if s.mode != model.AUTOPAY or bill is None:
        return None, None
    due = bill.due_date_on(dt.date.fromisoformat(s.current_period()) + dt.timedelta(days=1))
    if due is None:
        return None, None
    rule = repay.rules_of(ctx).schedule.rules(bill.kind).arrival
    return due.isoformat(), model.latest_on_time(rule, due, repay.rules_of(ctx).calendar,
                                                 margin=rules_of(ctx).margin, quiet=rules_of(ctx).quiet, now=ctx.now)


def _finish(s: model.Schedule, bill: model.Bill | None, outcome: str, message: str, ctx: Context,
            text: str | None) -> str:
    period, run_at = _next_period(s, bill, ctx)
    after = s.finish_period(ctx.now, outcome, message, next_period=period, next_run_at=run_at)
    return outcome if _save(after, s, ctx, text) else "raced"


def _deadline(s: model.Schedule, bill: model.Bill | None, ctx: Context) -> dt.datetime | None:
    """The last moment a retry still arrives on time (None: none left): a minute before the cut-off, not the
    margin a schedule runs ahead of it (that margin is the room retries have)."""
    if bill is None:
        return None
    rules = rules_of(ctx)
    period = dt.date.fromisoformat(s.current_period())
    if s.mode == model.ON_DATE:
        due = bill.due_date_on(period)
        if due is None:   # no due date to meet: retry within the day it was meant for
            evening = rules.quiet.start or dt.time(21, 0)
            return dt.datetime.combine(period, evening, clock.zone(rules.time_zone)) - rules.margin
    else:
        due = period
    rule = repay.rules_of(ctx).schedule.rules(bill.kind).arrival
    try:
        return model.latest_on_time(rule, due, repay.rules_of(ctx).calendar, margin=dt.timedelta(minutes=1),
                                    quiet=rules.quiet, now=ctx.now)
    except model.TooLate:
        return None


def _request(s: model.Schedule, bill: model.Bill, amount_fen: int) -> repay.RepaymentRequest:
    p = bill.payee
    if bill.kind == "credit_card":
        payee = {"kind": "credit_card", "issuer": p["issuer"], "card_token": p["card_token"]}
    elif bill.kind == "loan":
        payee = {"kind": "loan", "platform": p["platform"], "contract_number": p["contract_number"]}
    else:
        payee = {k: p[k] for k in ("kind", "utility", "biller", "account_number", "city")}
    due = s.period if s.mode != model.ON_DATE else None
    return repay.RepaymentRequest.model_validate(
        {"amount": format_fen(amount_fen), "payee": payee, **({"due_date": due} if due else {})})


def _wake_schedule(item: store.Due, ctx: Context) -> str:
    s = store.get_schedule(item.user_id, item.id)
    if s is None or s.status not in (model.ACTIVE, model.RUNNING) or not s.run_at \
            or s.run_at > clock.isoformat(ctx.now):
        return "stale"
    bill = store.get_bill(s.user_id, s.bill_id)
    if s.status == model.ACTIVE:
        return _start(s, bill, ctx)
    if s.next_step == "retry":
        return _retry(s, bill, ctx)
    return _check(s, bill, ctx)


def _frozen_text(bill_label: str, ctx: Context) -> str:
    return (f"您的账户已冻结，预约的{bill_label}还款本次未执行，未扣款。如有疑问请拨打安全专线 "
            f"{repay.rules_of(ctx).security_hotline}；账单请通过其他方式按时还款。")


def _start(s: model.Schedule, bill: model.Bill | None, ctx: Context) -> str:
    if bill is None:
        after = s.changed(ctx.now, status=model.CANCELLED, cancel_reason="bill_deleted", run_at=None)
        return "cancelled" if _save(after, s, ctx) else "raced"
    label = bill.describe()
    if s.autopay_full:
        p = bill.payee
        found = repay.utility_bill(p["utility"], p["biller"], p["city"], p["account_number"])
        if found is None or found.amount_due_fen == 0:
            return _finish(s, bill, "nothing_due", "本期无欠费，未缴费。", ctx, None)
        if found.amount_due_fen > s.cap_fen():
            message = (f"本期账单 {format_fen(found.amount_due_fen)} 元，超过您设置的自动缴费上限 "
                       f"{format_fen(s.cap_fen())} 元，未自动缴费。")
            return _finish(s, bill, "over_limit", message, ctx, f"{label}{message}请在 {s.period} 前手动缴费。")
        amount = found.amount_due_fen
    else:
        amount = s.fixed_fen()
    actor = Actor(user_id=s.user_id, username=s.username)
    try:
        created = repay.create(actor, f"schedule:{s.id}:{s.period}", _request(s, bill, amount), ctx,
                             preverified=True, schedule_id=s.id)
    except refusals.Frozen:
        metric("ScheduledRepaymentSkipped", reason="frozen")
        return _finish(s, bill, "skipped_frozen", "账户已冻结，本次未执行，未扣款。", ctx, _frozen_text(label, ctx))
    except refusals.Conflicting:
        return "in_progress"     # another sweep holds the key right now; the next run finds its repayment
    except refusals.Invalid as exc:
        return _finish(s, bill, "not_started", exc.message or "未能发起还款。", ctx,
                       f"预约的{label}还款未能执行：{exc.message}请通过其他方式按时还款。")
    after = s.changed(ctx.now, status=model.RUNNING, repayment_id=created.body["id"], next_step="check",
                      run_at=clock.isoformat(ctx.now + rules_of(ctx).check_after))
    metric("ScheduledRepaymentStarted", mode=s.mode)
    return "started" if _save(after, s, ctx) else "raced"


def _check(s: model.Schedule, bill: model.Bill | None, ctx: Context) -> str:
    repayment = repay.stored(s.user_id, s.started_repayment())
    if repayment is None or repayment.status in (repay.PROCESSING, repay.VERIFICATION_REQUIRED):
        after = s.changed(ctx.now, run_at=clock.isoformat(ctx.now + rules_of(ctx).check_after))
        return "waiting" if _save(after, s, ctx) else "raced"
    if repayment.status == repay.SUCCEEDED:   # the settlement texted the owner already
        return _finish(s, bill, "succeeded", f"已还款 {format_fen(repayment.amount_fen)} 元，已到账。", ctx, None)
    label = bill.describe() if bill else "账单"
    amount = format_fen(repayment.amount_fen)
    reason = repayment.failure
    if reason is None:      # cancelled: nothing was charged
        return _finish(s, bill, "failed", "还款已取消，未扣款。", ctx,
                       f"预约的{label}还款 {amount} 元已取消，未扣款，请通过其他方式按时还款。")
    deadline = _deadline(s, bill, ctx)
    retry_at = ctx.now + model.RETRY_AFTER.get(reason.code, dt.timedelta(hours=1))
    article = f"说明：帮助中心 /help/articles/{reason.kb_article}"
    if reason.retryable and s.retries < rules_of(ctx).max_retries and deadline is not None and retry_at <= deadline:
        text = (f"预约的{label}还款 {amount} 元未成功：{reason.message}系统将于 {_local(retry_at, ctx)} 自动重试"
                f"（最晚 {_local(deadline, ctx)} 前重试仍可按时到账）；您也可以现在手动还款。{article}")
        after = s.changed(ctx.now, next_step="retry", run_at=clock.isoformat(retry_at))
        metric("ScheduledRepaymentRetryPlanned", reason=reason.code)
        return "retry_planned" if _save(after, s, ctx, text) else "raced"
    due = s.period if s.mode != model.ON_DATE else None
    by = f"请在还款日 {due} 前" if due else "请尽快"
    text = f"预约的{label}还款 {amount} 元未成功：{reason.message}{reason.next_step}{by}通过其他方式还款。{article}"
    return _finish(s, bill, "failed", f"{reason.message}{reason.next_step}", ctx, text)


def _retry(s: model.Schedule, bill: model.Bill | None, ctx: Context) -> str:
    actor = Actor(user_id=s.user_id, username=s.username)
    label = bill.describe() if bill else "账单"
    try:
        repay.retry(actor, f"schedule:{s.id}:{s.period}:retry:{s.retries + 1}", s.started_repayment(), ctx)
    except refusals.Frozen:
        return _finish(s, bill, "skipped_frozen", "账户已冻结，未重试。", ctx, _frozen_text(label, ctx))
    except refusals.Conflicting as exc:
        if getattr(exc, "code", None) == "request_in_progress":
            return "in_progress"
        # not retryable any more (or succeeded meanwhile): look at it again
    after = s.changed(ctx.now, next_step="check", retries=s.retries + 1,
                      run_at=clock.isoformat(ctx.now + rules_of(ctx).check_after))
    metric("ScheduledRepaymentRetried")
    return "retried" if _save(after, s, ctx) else "raced"
