"""The settlement worker, and what commits with every move of a repayment.

Safe under duplicate delivery and Lambda retries: a message only acts on the attempt it names
while that attempt is processing, and every outcome is written only over the state it was read in.
"""
from __future__ import annotations

import json

from chalicelib import notices
from chalicelib.adapters import outbox, queues
from chalicelib.kernel import clock
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger, metric
from chalicelib.kernel.money import format_fen
from chalicelib.repay import connector, model, store
from chalicelib.repay.model import Change, Repayment
from chalicelib.repay.rules import of as rules_of


def message(repayment: Repayment, attempt: int, ctx: Context) -> outbox.Message:
    body = outbox.as_json({"repayment_id": repayment.id, "user_id": repayment.user_id, "attempt": attempt})
    return outbox.Message(channel="sqs", target=rules_of(ctx).settlement_queue, body=body)


def add_move(uow, change: Change, ctx: Context) -> list[str]:
    """Add a move to the unit of work: the repayment's write (``repayment``), the month's allowance given
    back (``allowance``), the settlement message of the attempt it starts (``outbox``); the ids of the
    messages to deliver once it committed."""
    repayment = change.before
    store.move(uow, change)
    if change.release_fen:
        store.release_usage(uow, repayment.user_id, repayment.usage_month, repayment.kind, change.release_fen)
    if change.settle_attempt is None:
        return []
    return [outbox.add(uow, message(repayment, change.settle_attempt, ctx), name="outbox")]


def settle(body: str, ctx: Context) -> str:
    """Handle one settlement message; returns what happened (for logs and tests)."""
    try:
        found = json.loads(body)
        user_id, repayment_id, attempt = found["user_id"], found["repayment_id"], int(found["attempt"])
    except (ValueError, KeyError, TypeError):
        logger.error("malformed settlement message dropped")
        metric("SettlementMessageMalformed")
        return "malformed"
    repayment = store.get(user_id, repayment_id)
    if repayment is None or not repayment.awaits_settlement(attempt):
        return "stale"
    request = connector.SettlementRequest(
        reference=f"{repayment_id}#{attempt}", repayment_id=repayment_id, kind=repayment.kind,
        amount_fen=repayment.amount_fen, payee=dict(repayment.payee), attempt=attempt,
        submitted_at=clock.parse(repayment.processing_since or repayment.created_at))
    outcome = connector.get().settle(request)
    calendar = rules_of(ctx).calendar
    change: Change | None
    if isinstance(outcome, connector.Succeeded):
        change = repayment.settle(ctx.now, calendar.local(outcome.settled_at))
    elif isinstance(outcome, connector.Failed):
        change = repayment.fail(ctx.now, outcome.reason)
    else:
        change = repayment.delay(ctx.now, calendar.local(outcome.expected_at))
    notice_ids: list[str] = []
    if change is not None:
        uow = store.begin()
        add_move(uow, change, ctx)
        notice_ids = [*outcome_notice(uow, change, ctx), outbox.add(uow, outcome_event(change, ctx), name="event")]
        try:
            uow.commit()
        except store.Conflict:
            return "stale"  # another delivery recorded this attempt's outcome first
    outbox.deliver(notice_ids)
    if outcome.status not in ("succeeded", "failed"):
        _recheck_later(body, ctx)
        return "pending"
    logger.info("repayment settled", extra={"repayment_id": repayment_id, "outcome": outcome.status,
                                            "reason": outcome.reason})
    metric("RepaymentSettlement", outcome=outcome.status, reason=outcome.reason or "none")
    return outcome.status


# ---------------------------------------------------------------- outcome notices
def notice_text(change: Change) -> str | None:
    """What the owner is texted when a settlement moves their repayment (None: nothing to say)."""
    after = change.after
    what = f"{model.KIND_LABELS[after.kind]} {format_fen(after.amount_fen)} 元（{model.mask_payee(after.payee)}）"
    if change.event == "settled":
        return f"您的{what}已到账。电子回单可在 App「还款记录」中查看和下载。"
    if change.event == "delayed":
        return (f"您的{what}银行处理较慢，预计 {after.expected_arrival_at[:16].replace('T', ' ')} 前到账，"
                f"资金已在处理中，无需重复还款。说明：帮助中心 /help/articles/{model.KB_DELAY}")
    reason = after.failure
    if reason is None:
        return None
    if after.schedule_id:   # a scheduled repayment: its sweep says when it retries and what else to do
        return None
    return f"您的{what}未成功：{reason.message}{reason.next_step}说明：帮助中心 /help/articles/{reason.kb_article}"


def outcome_notice(uow, change: Change, ctx: Context) -> list[str]:
    """Add the text to the owner about this outcome and its in-app notice to the unit of work of the move
    (so both exist exactly when the outcome is recorded); the text is deferred past the quiet hours, the
    in-app notice is not. The outbox ids to deliver after the commit."""
    text = notice_text(change)
    if text is None:
        return []
    after = change.after
    kind = change.event if change.event in ("settled", "delayed") else "failed"
    return notices.notify(uow, after.user_id, after.username, text, kind=kind, now=ctx.now,
                          quiet=notices.QuietHours.parse(rules_of(ctx).quiet_hours), ref={"repayment_id": after.id})


def outcome_event(change: Change, ctx: Context) -> outbox.Message:
    """The outcome for the 工单 linked to this repayment (escalation's repayment-events consumer): what
    happened, in the owner's words, and the payee's name (an incident groups failures by it; card last-4 at
    most), committed with the move so every outcome is told at least once."""
    after = change.after
    event = change.event if change.event in ("settled", "delayed") else "failed"
    names = {k: v for k, v in after.payee.items() if k in ("kind", "issuer", "platform", "biller")}
    body = {"repayment_id": after.id, "user_id": after.user_id, "attempt": after.attempt, "event": event,
            "reason": after.failure_reason if event == "failed" else None, "kind": after.kind, "payee": names,
            "due_date": after.due_date, "text": case_text(change),
            "receipt_url": f"/help/repayments/{after.id}/receipt" if event == "settled" else None}
    return outbox.Message(channel="sqs", target=rules_of(ctx).repayment_events_queue, body=outbox.as_json(body))


def case_text(change: Change) -> str:
    """The system message a linked 工单 shows for this outcome."""
    after = change.after
    what = f"{model.KIND_LABELS[after.kind]} {format_fen(after.amount_fen)} 元（{model.mask_payee(after.payee)}）"
    if change.event == "settled":
        return f"您关联的{what}已到账。电子回单已生成，可在下方链接查看。"
    if change.event == "delayed":
        return (f"您关联的{what}银行处理较慢，预计 {after.expected_arrival_at[:16].replace('T', ' ')} 前到账，"
                "资金已在处理中，无需重复还款。")
    reason = after.failure
    detail = f"{reason.message}{reason.next_step}" if reason else ""
    return f"您关联的{what}未成功：{detail}"


def _recheck_later(body: str, ctx: Context) -> None:
    """Ask again after a while. If this send fails the handler raises and SQS redelivers the message."""
    rules = rules_of(ctx)
    queues.send(rules.settlement_queue, body, delay_seconds=rules.settlement_recheck_seconds)
