"""The settlement worker, and what commits with every move of a repayment.

Safe under duplicate delivery and Lambda retries: a message only acts on the attempt it names
while that attempt is processing, and every outcome is written only over the state it was read in.
"""
from __future__ import annotations

import json

from chalicelib import aws, clock, outbox
from chalicelib.logs import logger, metric
from chalicelib.repay import connector, store
from chalicelib.repay.context import Context
from chalicelib.repay.model import Change, Repayment


def message(repayment: Repayment, attempt: int, ctx: Context) -> outbox.Message:
    body = outbox.as_json({"repayment_id": repayment.id, "user_id": repayment.user_id, "attempt": attempt})
    return outbox.Message(channel="sqs", target=ctx.rules.settlement_queue, body=body)


def elements(change: Change, ctx: Context) -> tuple[dict[str, dict], list[str]]:
    """The named transaction elements of a move (the repayment's write, the month's allowance given
    back, the settlement message of the attempt it starts) and the ids of the messages to deliver."""
    repayment = change.before
    named = {"repayment": store.update(change)}
    if change.release_fen:
        named["allowance"] = store.release_usage(repayment.user_id, repayment.usage_month, repayment.kind,
                                                 change.release_fen)
    sent = []
    if change.settle_attempt is not None:
        settle_message = message(repayment, change.settle_attempt, ctx)
        named["outbox"] = outbox.put(settle_message)
        sent.append(settle_message.message_id)
    return named, sent


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
    calendar = ctx.rules.calendar
    if outcome.status == "succeeded":
        change = repayment.settle(ctx.now, calendar.local(outcome.settled_at))
    elif outcome.status == "failed":
        change = repayment.fail(ctx.now, outcome.reason)
    else:
        change = repayment.delay(ctx.now, calendar.local(outcome.expected_at or ctx.now))
    try:
        if change is not None:
            store.commit(elements(change, ctx)[0])
    except store.ConditionFailed:
        return "stale"  # another delivery recorded this attempt's outcome first
    if outcome.status not in ("succeeded", "failed"):
        _recheck_later(body, ctx)
        return "pending"
    logger.info("repayment settled", extra={"repayment_id": repayment_id, "outcome": outcome.status,
                                            "reason": outcome.reason})
    metric("RepaymentSettlement", outcome=outcome.status, reason=outcome.reason or "none")
    return outcome.status


def _recheck_later(body: str, ctx: Context) -> None:
    """Ask again after a while. If this send fails the handler raises and SQS redelivers the message."""
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=ctx.rules.settlement_queue)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=body,
                     DelaySeconds=max(0, min(900, ctx.rules.settlement_recheck_seconds)))
