"""Reading repayments: one repayment, the history page, and how a ``Repayment`` is shown."""
from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable

from chalicelib.kernel import refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import metric
from chalicelib.kernel.money import format_fen
from chalicelib.repay import model, schemas, store
from chalicelib.repay.fees import FeeLine
from chalicelib.repay.model import Repayment
from chalicelib.repay.rules import of as rules_of

_ID = re.compile(r"rp_[0-9a-f]{20}")


def load(actor: Actor, repayment_id: str) -> Repayment:
    return load_own(actor.user_id, repayment_id)


def load_own(user_id: str, repayment_id: str) -> Repayment:
    repayment = store.get(user_id, repayment_id) if _ID.fullmatch(repayment_id or "") else None
    if repayment is None:  # someone else's id looks exactly like a missing one
        raise refusals.Missing("找不到这笔还款。", code="repayment_not_found")
    return repayment


def expire(repayment: Repayment, ctx: Context) -> bool:
    """Cancel a verification past its time, allowance given back, in one write conditional on the state
    it was read in. True if this call did it; False if not due or another request or sweep did it first."""
    change = repayment.expire(ctx.now)
    if change is None:
        return False
    uow = store.begin()
    store.move(uow, change)
    store.release_usage(uow, repayment.user_id, repayment.usage_month, repayment.kind, change.release_fen)
    try:
        uow.commit()
    except store.Conflict:
        return False   # another request (or the sweep) moved it first
    metric("RepaymentCancelled", reason=change.event)
    return True


def expire_if_due(repayment: Repayment, ctx: Context) -> Repayment:
    """A verification past its time cancels the repayment on the next touch too (the sweep may not have run yet)."""
    if repayment.expire(ctx.now) is None:
        return repayment
    expire(repayment, ctx)
    # Read again whoever cancelled it (this call or a racing one); repayments are never deleted.
    return load_own(repayment.user_id, repayment.id)


def get(actor: Actor, repayment_id: str, ctx: Context) -> dict:
    return view(expire_if_due(load(actor, repayment_id), ctx), ctx)


def history(actor: Actor, query: schemas.ListQuery, ctx: Context) -> dict:
    after = _decode_cursor(query.cursor) if query.cursor else None
    found, last = store.page(actor.user_id, status=query.status, kind=query.kind, limit=query.limit, after_id=after)
    shown = [expire_if_due(r, ctx) for r in found]  # a lapsed verification shows (and is) cancelled
    page = schemas.RepaymentPage(items=[summary(r) for r in shown],
                                 next_cursor=_encode_cursor(last) if last else None).model_dump(mode="json")
    page["items"] = [_compact_payee(i) for i in page["items"]]
    return page


def _encode_cursor(repayment_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": repayment_id}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = data["after"]
        if not isinstance(after, str) or not _ID.fullmatch(after):
            raise ValueError
        return after
    except (ValueError, KeyError, TypeError):
        raise refusals.Invalid("cursor：翻页标记无效，请从第一页重新查询。", field="cursor") from None


# ---------------------------------------------------------------- shaping
def fee_lines(lines: Iterable[FeeLine]) -> list[schemas.FeeLineView]:
    return [schemas.FeeLineView(code=line.code, label=line.label, amount=format_fen(line.amount_fen))
            for line in lines]


def arrival(expected_at: str, note: str) -> schemas.ArrivalView:
    return schemas.ArrivalView(expected_at=expected_at, date=expected_at[:10], note=note)


def warning(stored: dict | None) -> schemas.WarningView | None:
    """A due-date warning (``model.due_date_warning``, kept as a dict on the repayment) as shown."""
    return schemas.WarningView.model_validate(stored) if stored is not None else None


def _failure(repayment: Repayment) -> dict | None:
    reason = repayment.failure
    if reason is None:
        return None
    return {"reason": reason.code, "message": reason.message, "next_step": reason.next_step,
            "kb_article": reason.kb_article, "retryable": reason.retryable}


def _notice(repayment: Repayment) -> schemas.NoticeView | None:
    if repayment.delayed:
        return schemas.NoticeView(code="delayed", message=model.DELAY_MESSAGE, kb_article=model.KB_DELAY)
    reason = repayment.cancel_reason
    if repayment.status == model.CANCELLED and reason is not None and reason in model.CANCEL_MESSAGES:
        return schemas.NoticeView(code=reason, message=model.CANCEL_MESSAGES[reason], kb_article=model.KB_FAILED)
    return None


def _money(repayment: Repayment) -> dict:
    return {"amount": format_fen(repayment.amount_fen), "fee": format_fen(repayment.fee_fen),
            "total": format_fen(repayment.total_fen)}


def view(repayment: Repayment, ctx: Context) -> dict:
    verification = None
    # A repayment awaiting its code always carries the code's expiry (set with the code, see model.create).
    if repayment.status == model.VERIFICATION_REQUIRED and repayment.verify_expires_at is not None:
        verification = schemas.VerificationView(
            expires_at=repayment.verify_expires_at,
            attempts_left=repayment.attempts_left(rules_of(ctx).verification_max_attempts))
    result = schemas.RepaymentView(
        **_summary_fields(repayment),
        fee_breakdown=fee_lines(repayment.fee_lines), fee_schedule_version=repayment.fee_schedule_version,
        attempt=repayment.attempt, updated_at=repayment.updated_at, due_date=repayment.due_date,
        warning=warning(repayment.warning), notice=_notice(repayment), verification=verification,
        timeline=[schemas.TimelineEntryView(at=e["at"], status=e["status"], event=e["event"], message=e["message"])
                  for e in repayment.timeline])
    return _compact_payee(result.model_dump(mode="json"))


def _compact_payee(body: dict) -> dict:
    """Only the payee fields of its kind (the others are optional in the schema, so absent, not null)."""
    body["payee"] = {k: v for k, v in body["payee"].items() if v is not None}
    return body


def _summary_fields(repayment: Repayment) -> dict:
    """The fields a history page shows; a full view adds the rest."""
    return dict(id=repayment.id, status=repayment.status, kind=repayment.kind, payee=repayment.payee,
                **_money(repayment), created_at=repayment.created_at,
                expected_arrival=arrival(repayment.expected_arrival_at, repayment.expected_arrival_note),
                actual_arrival=repayment.actual_arrival_at, failure=_failure(repayment))


def summary(repayment: Repayment) -> schemas.RepaymentSummary:
    return schemas.RepaymentSummary(**_summary_fields(repayment))
