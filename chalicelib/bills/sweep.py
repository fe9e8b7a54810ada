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
transaction (``chalicelib/notices.py``).
"""
from __future__ import annotations

import collections
import datetime as dt
import functools
import json
import time
from typing import Callable

from chalicelib import notices
from chalicelib.adapters import aws, outbox
from chalicelib.kernel import clock, refusals
from chalicelib.config import settings
from chalicelib.kernel.actor import Actor
from chalicelib.bills import model, store
from chalicelib.bills.context import Context
from chalicelib.kernel.logs import logger, metric
from chalicelib.repay import connector, model as repay_model, pay, schemas as repay_schemas, store as repay_store
from chalicelib.kernel.money import format_fen


def sweep(ctx: Context, *, limit: int | None = None) -> dict[str, int]:
    """Every shard, one after the other, in this process (tests, ``devtools.bills sweep``): what it did, by
    outcome. On AWS the schedule fans the shards out instead (``fan_out`` → ``work``)."""
    counts: collections.Counter = collections.Counter()
    for shard in range(settings().wake_shards):
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
    for item in store.iter_due(ctx.now, ctx.time_zone, shard, lookback_days=ctx.lookback_days):
        if (limit is not None and handled >= limit) or (time_left is not None and time_left() <= 0):
            counts["left"] += 1      # at least one more is due: the next run (a minute later) goes on
            break
        handled += 1
        try:
            if item["sk"].startswith("BILL#"):
                counts[_wake_bill(item, ctx)] += 1
            elif item["sk"].startswith("SCHED#"):
                counts[_wake_schedule(item, ctx)] += 1
        except Exception:
            logger.exception("bills sweep: item failed, the next run tries again", extra={"item": item["sk"]})
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
    sqs = aws.client("sqs")
    url = _queue_url(settings().bills_wake_queue)
    at = clock.isoformat(ctx.now)
    bodies = [json.dumps({"shard": shard, "at": at}) for shard in range(settings().wake_shards)]
    for start in range(0, len(bodies), 10):
        batch = bodies[start:start + 10]
        answer = sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "MessageBody": body} for n, body in enumerate(batch)])
        if answer.get("Failed"):    # raise: the schedule's next minute sends every shard again anyway
            raise RuntimeError(f"bills fan-out: {len(answer['Failed'])} message(s) not queued")
    return len(bodies)


def work(body: str, ctx: Context, *, time_left: Callable[[], float] | None = None) -> dict[str, int]:
    """One fan-out message: sweep its shard within the time budget (``BILLS_SWEEP_BUDGET_SECONDS`` and the
    Lambda's remaining time). A message older than its minute's successor is still worked: the index, not the
    message, says what is due, and a second worker on the same shard only loses conditional writes."""
    try:
        shard = int(json.loads(body)["shard"])
        if not 0 <= shard < settings().wake_shards:
            raise ValueError(shard)
    except (ValueError, KeyError, TypeError):
        logger.error("malformed bills wake message dropped")
        return {"malformed": 1}
    started, budget = time.monotonic(), settings().bills_sweep_budget_seconds

    def left() -> float:
        own = budget - (time.monotonic() - started)
        return own if time_left is None else min(own, time_left())
    return sweep_shard(ctx, shard, time_left=left)


@functools.cache
def _queue_url(name: str) -> str:
    return aws.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def _local(moment: dt.datetime, ctx: Context) -> str:
    return moment.astimezone(clock.zone(ctx.time_zone)).strftime("%m月%d日 %H:%M")


# ---------------------------------------------------------------- reminders
def paid_for_period(bill: model.Bill, due: dt.date, ctx: Context) -> bool:
    """A repayment to this bill's payee since its period started, succeeded or still processing
    (Queries of the user's ``by_status`` index, newest first, stopping at the period's start)."""
    since = clock.isoformat(model.start_of(bill.period_start(due), ctx.time_zone))
    for status in (repay_model.SUCCEEDED, repay_model.PROCESSING):
        items, _ = repay_store.list_repayments(bill.user_id, status=status, kind=bill.kind, limit=25, after_id=None)
        if any(i["created_at"] >= since and bill.pays(i["payee"]) for i in items):
            return True
    return False


def _wake_bill(item: dict, ctx: Context) -> str:
    user_id, bill_id = item["user_id"], item["id"]
    bill, wake_at = store.get_bill_and_wake(user_id, bill_id)
    now = ctx.now
    if bill is None or wake_at is None or wake_at > clock.isoformat(now):
        return "stale"      # deleted, or its wake moved (a change, another sweep) since the index was read
    plan = model.plan_reminders(bill, now, ctx.reminder_days, ctx.quiet, ctx.time_zone) if bill.reminders \
        else model.ReminderPlan(None, None, None, None)
    key = store.bill_key(user_id, bill.id)
    elements = {"wake": store.move_wake(key, bill.id, bill.version, plan.wake_at, ctx.time_zone)}
    sent, outcome = [], "moved"
    if plan.send:
        if paid_for_period(bill, plan.due, ctx):
            outcome = "paid"
        else:
            amount = None
            if bill.kind == "utility":
                p = bill.payee
                found = connector.get().utility_bill(p["utility"], p["biller"], p["city"], p["account_number"])
                amount = format_fen(found.amount_due_fen) if found else None
            told, sent = notices.notify(user_id, bill.username, model.reminder_text(bill, plan.due, plan.days_before, amount),
                                        kind="reminder", now=now, quiet=ctx.quiet, ref={"bill_id": bill.id})
            elements.update(reminder=store.reminder_sent(user_id, bill.id, plan.due.isoformat(), plan.send, now),
                            **told)
            outcome = "reminded"
    try:
        store.commit(elements)
    except store.ConditionFailed as exc:
        if "reminder" in exc and "wake" not in exc:     # sent already (an overlapping sweep): only move on
            try:
                store.commit({"wake": elements["wake"]})
            except store.ConditionFailed:
                pass
        return "duplicate"
    outbox.deliver(sent)
    if outcome == "reminded":
        metric("BillReminderSent", kind=plan.send)
    return outcome


# ---------------------------------------------------------------- scheduled repayments
def _notify(s: model.Schedule, text: str, ctx: Context) -> tuple[dict, list[str]]:
    return notices.notify(s.user_id, s.username, text, kind="schedule", now=ctx.now, quiet=ctx.quiet,
                          ref={"schedule_id": s.id, "bill_id": s.bill_id, "repayment_id": s.repayment_id})


def _save(after: model.Schedule, before: model.Schedule, ctx: Context, text: str | None = None) -> bool:
    elements, sent = ({}, []) if text is None else _notify(after, text, ctx)
    try:
        store.commit({"schedule": store.replace_schedule(after, before.version, ctx.time_zone), **elements})
    except store.ConditionFailed:
        return False
    outbox.deliver(sent)
    return True


def _next_period(s: model.Schedule, bill: model.Bill | None, ctx: Context) -> tuple[str | None, dt.datetime | None]:
    """Autopay moves to the bill's next due date; the other modes end after one period."""
    if s.mode != model.AUTOPAY or bill is None:
        return None, None
    due = bill.due_date_on(dt.date.fromisoformat(s.period) + dt.timedelta(days=1))
    if due is None:
        return None, None
    rule = ctx.repay.rules.schedule.rules(bill.kind).arrival
    return due.isoformat(), model.latest_on_time(rule, due, ctx.repay.rules.calendar, margin=ctx.margin,
                                                 quiet=ctx.quiet, now=ctx.now)


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
    if s.mode == model.ON_DATE:
        due = bill.due_date_on(dt.date.fromisoformat(s.period))
        if due is None:   # no due date to meet: retry within the day it was meant for
            day = dt.date.fromisoformat(s.period)
            return dt.datetime.combine(day, ctx.quiet.start or dt.time(21, 0), clock.zone(ctx.time_zone)) - ctx.margin
    else:
        due = dt.date.fromisoformat(s.period)
    rule = ctx.repay.rules.schedule.rules(bill.kind).arrival
    try:
        return model.latest_on_time(rule, due, ctx.repay.rules.calendar, margin=dt.timedelta(minutes=1), quiet=ctx.quiet,
                                    now=ctx.now)
    except model.TooLate:
        return None


def _request(s: model.Schedule, bill: model.Bill, amount_fen: int) -> repay_schemas.RepaymentRequest:
    p = bill.payee
    if bill.kind == "credit_card":
        payee = {"kind": "credit_card", "issuer": p["issuer"], "card_token": p["card_token"]}
    elif bill.kind == "loan":
        payee = {"kind": "loan", "platform": p["platform"], "contract_number": p["contract_number"]}
    else:
        payee = {k: p[k] for k in ("kind", "utility", "biller", "account_number", "city")}
    due = s.period if s.mode != model.ON_DATE else None
    return repay_schemas.RepaymentRequest.model_validate(
        {"amount": format_fen(amount_fen), "payee": payee, **({"due_date": due} if due else {})})


def _wake_schedule(item: dict, ctx: Context) -> str:
    s = store.get_schedule(item["user_id"], item["id"])
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
            f"{ctx.repay.rules.security_hotline}；账单请通过其他方式按时还款。")


def _start(s: model.Schedule, bill: model.Bill | None, ctx: Context) -> str:
    if bill is None:
        after = s.changed(ctx.now, status=model.CANCELLED, cancel_reason="bill_deleted", run_at=None)
        return "cancelled" if _save(after, s, ctx) else "raced"
    label = bill.describe()
    amount = s.amount_fen
    if s.autopay_full:
        p = bill.payee
        found = connector.get().utility_bill(p["utility"], p["biller"], p["city"], p["account_number"])
        if found is None or found.amount_due_fen == 0:
            return _finish(s, bill, "nothing_due", "本期无欠费，未缴费。", ctx, None)
        if found.amount_due_fen > s.max_amount_fen:
            message = (f"本期账单 {format_fen(found.amount_due_fen)} 元，超过您设置的自动缴费上限 "
                       f"{format_fen(s.max_amount_fen)} 元，未自动缴费。")
            return _finish(s, bill, "over_limit", message, ctx, f"{label}{message}请在 {s.period} 前手动缴费。")
        amount = found.amount_due_fen
    actor = Actor(user_id=s.user_id, username=s.username)
    try:
        created = pay.create(actor, f"schedule:{s.id}:{s.period}", _request(s, bill, amount), ctx.repay,
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
                      run_at=clock.isoformat(ctx.now + ctx.check_after))
    metric("ScheduledRepaymentStarted", mode=s.mode)
    return "started" if _save(after, s, ctx) else "raced"


def _check(s: model.Schedule, bill: model.Bill | None, ctx: Context) -> str:
    repayment = repay_store.get(s.user_id, s.repayment_id)
    if repayment is None or repayment.status in (repay_model.PROCESSING, repay_model.VERIFICATION_REQUIRED):
        after = s.changed(ctx.now, run_at=clock.isoformat(ctx.now + ctx.check_after))
        return "waiting" if _save(after, s, ctx) else "raced"
    if repayment.status == repay_model.SUCCEEDED:   # the settlement texted the owner already
        return _finish(s, bill, "succeeded", f"已还款 {format_fen(repayment.amount_fen)} 元，已到账。", ctx, None)
    label = bill.describe() if bill else "账单"
    amount = format_fen(repayment.amount_fen)
    reason = repayment.failure
    if reason is None:      # cancelled: nothing was charged
        return _finish(s, bill, "failed", "还款已取消，未扣款。", ctx, f"预约的{label}还款 {amount} 元已取消，未扣款，请通过其他方式按时还款。")
    deadline = _deadline(s, bill, ctx)
    retry_at = ctx.now + model.RETRY_AFTER.get(reason.code, dt.timedelta(hours=1))
    article = f"说明：帮助中心 /help/articles/{reason.kb_article}"
    if reason.retryable and s.retries < ctx.max_retries and deadline is not None and retry_at <= deadline:
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
        pay.retry(actor, f"schedule:{s.id}:{s.period}:retry:{s.retries + 1}", s.repayment_id, ctx.repay)
    except refusals.Frozen:
        return _finish(s, bill, "skipped_frozen", "账户已冻结，未重试。", ctx, _frozen_text(label, ctx))
    except refusals.Conflicting as exc:
        if getattr(exc, "code", None) == "request_in_progress":
            return "in_progress"
        # not retryable any more (or succeeded meanwhile): look at it again
    after = s.changed(ctx.now, next_step="check", retries=s.retries + 1,
                      run_at=clock.isoformat(ctx.now + ctx.check_after))
    metric("ScheduledRepaymentRetried")
    return "retried" if _save(after, s, ctx) else "raced"
