"""The user's side of a 工单: open it, add information, say it is not solved (escalate), confirm, rate, reopen.

Each use case: load the case (the owner's, or for ``escalate`` staff who may work it too) → one rule of
``model.py`` → ``casework.save`` (one conditional transaction with what it causes), once per Idempotency-Key.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

from chalicelib.adapters import idempotency
from chalicelib.escalation import casework, following, hours, model, notifications, phones, repository, show
from chalicelib.escalation import steps as step_defs
from chalicelib.escalation.store import DuplicateReference, ElementFailed
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger, metric, user_hash


def open_case(actor: Actor, ctx: Context, *, category: step_defs.Category, description: str,
              repayment_id: str | None, idempotency_key: str | None = None,
              limit: Callable[[], None] = lambda: None, insist: bool = False) -> idempotency.Outcome:
    """Open a case (201); under an Idempotency-Key a repeat replays the first answer instead of a second case
    (before ``limit``, the caller's rate limit, which refuses only new cases)."""
    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        repayment = None
        if repayment_id is not None:
            repayment = _require_own_repayment(actor, repayment_id)
            if not insist:
                _offer_existing(actor, repayment_id)
        clocks = hours.clocks(ctx.settings)
        phone4 = phones.last_four(actor.user_id, actor.username)   # search by phone's last four (never the number)
        for _ in range(5):  # a reference clash (1 in a million a day) just draws again
            case_id = model.new_reference(ctx.now, ctx.settings.time_zone)
            case = model.open_case(case_id=case_id, user_id=actor.user_id, username=actor.username,
                                   category=category, description=description, repayment_id=repayment_id,
                                   now=ctx.now, clocks=clocks)
            case = dataclasses.replace(case, phone4=phone4)
            case = following.on_open(case, ctx, repayment)   # due date → priority; an open incident → grouped
            if case.security:
                # Stolen funds: freeze first, so that even if writing the case fails the money is safe.
                _freeze(actor.user_id, case_id)
            view = show.case_view(ctx, case, staff=False)
            answered = casework.answer(claim, 201, view)
            try:
                casework.commit(None, case, notifications.arrival(case, ctx.settings, created=True), ctx=ctx,
                                extra=answered)
            except DuplicateReference:
                continue
            except ElementFailed:
                raise casework.WORDING.in_progress_error() from None
            logger.info("case opened", extra={"case_id": case_id, "category": category, "step": case.step,
                                              "user": user_hash(actor.user_id)})
            metric("CaseOpened", category=category)
            return casework.Saved(view, bool(answered), 201).outcome()
        raise refusals.Busy("暂时无法生成工单编号，请稍后重试。", code="reference_exhausted")

    payload = {"category": category, "description": description, "repayment_id": repayment_id, "insist": insist}
    return casework.once(actor, ctx, idempotency_key, "case_open", payload, action, checks=limit)


DUPLICATE = "你已有一个关于这笔还款的工单（{ref}），请在原工单中补充信息；如确属新问题，可选择仍要新建。"


def _offer_existing(actor: Actor, repayment_id: str) -> None:
    """An open 工单 of the caller already names this repayment: 409 with its reference (one Query)."""
    existing = repository.store().open_for_repayment(actor.user_id, repayment_id)
    if existing:
        ref = existing[0].case_id
        raise refusals.Conflicting(DUPLICATE.format(ref=ref), code="duplicate_case", details={"existing": ref})


def _require_own_repayment(actor: Actor, repayment_id: str):
    """A case may name only the caller's own repayment: one GetItem on the caller's key (no Scan), through
    the repay domain's facade; someone else's id looks like a missing one."""
    from chalicelib.repay import service as repay_service  # cold start: the repay domain loads only when needed
    try:
        repay_service.get(actor, repayment_id, repay_service.current())
    except refusals.Missing:
        raise refusals.Rejected("repayment_id：找不到这笔还款（只能关联您本人的还款记录）。",
                                code="repayment_not_found", field="repayment_id") from None
    return repay_service.stored(actor.user_id, repayment_id)   # its due date and payee (``following.on_open``)


def _freeze(user_id: str, case_id: str) -> None:
    from chalicelib.repay import service as repay_service  # cold start: the repay domain loads only when needed
    repay_service.freeze_account(user_id, reason="用户报告账户安全问题（疑似盗刷），立即冻结还款", case_id=case_id)


def escalate(actor: Actor, ctx: Context, case_id: str, reason: str,
             idempotency_key: str | None) -> idempotency.Outcome:
    """The owner says it is not solved, or staff escalates it; either way one step up, once per key.

    The Idempotency-Key is required here: a double-submitted "not solved" must not climb two steps.
    """
    idempotency.validate_key(idempotency_key)

    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        case = casework.load_visible(actor, case_id)
        if case.user_id == actor.user_id:
            by_whom, by, by_name = "user", None, None
        else:
            casework.require_step_role(actor, case)
            by_whom, by, by_name = "support", actor.user_id, actor.username or None
        new = model.escalate(case, ctx.now, clocks=hours.clocks(ctx.settings), actor=by_whom, reason=reason, by=by,
                             by_name=by_name)
        saved = casework.save(ctx, case, new, staff=by_whom == "support", claim=claim,
                              messages=notifications.arrival(new, ctx.settings, created=False, reason=reason))
        metric("CaseEscalated", actor=by_whom, step=new.step)
        return saved.outcome()
    return casework.once(actor, ctx, idempotency_key, "case_escalate", {"case_id": case_id, "reason": reason}, action)


def add_user_message(actor: Actor, ctx: Context, case_id: str, message: str,
                     idempotency_key: str | None = None,
                     first: Callable[[], None] = lambda: None) -> idempotency.Outcome:
    """The owner adds a message; ``first`` runs once the rule allowed it, before the save, and not on a replay
    (``inbound.py`` stores an e-mail's files there)."""
    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        case = casework.load_own(actor, case_id)
        new = model.user_message(case, ctx.now, hours.clocks(ctx.settings))
        first()
        # When the answer resumes a paused clock, the team is told it owes a response again.
        resumed = new.timeline[-1]["event"] == "resumed"
        messages = notifications.team_messages(new, "user_replied", ctx.settings) if resumed else []
        return casework.save(ctx, case, new, staff=False, claim=claim, messages=messages,
                             said=(casework.entry(ctx, "user", message),)).outcome()
    return casework.once(actor, ctx, idempotency_key, "case_message", {"case_id": case_id, "message": message},
                         action)


def _comment(comment: str | None) -> str | None:
    return (comment or "").strip() or None


def confirm(actor: Actor, ctx: Context, case_id: str, idempotency_key: str | None = None, *,
            rating: int | None = None, comment: str | None = None) -> idempotency.Outcome:
    """The owner confirms it is solved; with a 1–5 rating (and comment) stored on the case in the same write."""
    comment = _comment(comment) if rating is not None else None
    payload = {"case_id": case_id, **({"rating": rating, "comment": comment} if rating is not None else {})}

    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        case = casework.load_own(actor, case_id)
        new = model.confirm(case, ctx.now, rating=rating, comment=comment)
        saved = casework.save(ctx, case, new, staff=False, claim=claim)
        if rating is not None:
            metric("CaseSatisfaction", rating=str(rating))
        return saved.outcome()
    return casework.once(actor, ctx, idempotency_key, "case_confirm", payload, action)


def rate(actor: Actor, ctx: Context, case_id: str, rating: int, comment: str | None):
    """Rate a closed case once (confirmed without a rating, or closed by the sweep): the owner's view."""
    case = casework.load_own(actor, case_id)
    try:
        new = model.rate(case, ctx.now, rating=rating, comment=_comment(comment))
    except model.RuleViolation as exc:
        raise casework.conflict(exc, ctx) from None
    view = casework.save(ctx, case, new, staff=False).view
    metric("CaseSatisfaction", rating=str(rating))
    return view


def reopen(actor: Actor, ctx: Context, case_id: str, reason: str,
           idempotency_key: str | None = None) -> idempotency.Outcome:
    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        case = casework.load_own(actor, case_id)
        new = model.reopen(case, ctx.now, clocks=hours.clocks(ctx.settings), reason=reason)
        messages = notifications.team_messages(new, "arrived", ctx.settings, f"用户重新打开：{reason}")
        return casework.save(ctx, case, new, staff=False, claim=claim, messages=messages).outcome()
    return casework.once(actor, ctx, idempotency_key, "case_reopen", {"case_id": case_id, "reason": reason}, action)
