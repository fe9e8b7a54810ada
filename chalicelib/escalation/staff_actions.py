"""What support staff do to a 工单 (assigning it: ``assignment.py``): add an internal note, reply, escalate
(``user_side.escalate`` serves both sides), resolve, and — senior support only — lift an account's security freeze.

Staff actions take an optional Idempotency-Key (the workspace's forms always send their own): a form posted
twice — a double click, a resent request after a lost answer — acts once and answers the same. Each: load
the case the caller may work → one rule of ``model.py`` → ``casework.save``.
"""
from __future__ import annotations

import re

from chalicelib.adapters import idempotency
from chalicelib.escalation import casework, hours, model, notifications, repository, schemas
from chalicelib.escalation.store import ElementFailed, VersionConflict
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import SENIOR_SUPPORT, Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger, user_hash
from chalicelib.kernel.schema import as_body


def add_note(actor: Actor, ctx: Context, case_id: str, text: str,
             idempotency_key: str | None = None) -> idempotency.Outcome:
    """Internal note: its own item, never part of what a user route reads (written with the key's answer)."""
    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        casework.require_staff(actor)
        case = casework.load(case_id)
        casework.require_step_role(actor, case)
        note = {"at": model.iso(ctx.now), "author": actor.username or actor.user_id, "text": text}
        body = as_body(schemas.NoteAdded(case_id=case.case_id, note=schemas.InternalNote(**note)))
        completion = [claim.completion(201, body)] if claim else []
        try:
            repository.store().add_note(case.case_id, note, extra=completion)  # no version bump
        except ElementFailed:   # the key's claim lapsed and another request holds it now
            raise casework.WORDING.in_progress_error() from None
        return idempotency.Outcome(201, body, recorded=bool(completion))
    return casework.once(actor, ctx, idempotency_key, "case_note", {"case_id": case_id, "text": text}, action)


def reply(actor: Actor, ctx: Context, case_id: str, message: str, await_user: bool,
          idempotency_key: str | None = None) -> idempotency.Outcome:
    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        case = casework.load_workable(actor, case_id)
        new = model.reply(case, ctx.now, clocks=hours.clocks(ctx.settings), by=actor.user_id, await_user=await_user,
                          by_name=actor.username or None)
        return casework.save(ctx, case, new, staff=True, claim=claim,
                             messages=notifications.user_messages(new, "replied", ctx.settings),
                             said=(casework.entry(ctx, "support", message),)).outcome()
    return casework.once(actor, ctx, idempotency_key, "case_reply",
                         {"case_id": case_id, "message": message, "await_user": await_user}, action)


def resolve(actor: Actor, ctx: Context, case_id: str, summary_text: str,
            idempotency_key: str | None = None) -> idempotency.Outcome:
    """Resolve with a summary written for the user: it is also the conversation's next message (marked as
    the resolution), written in the same transaction, so the conversation ends with the answer."""
    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        case = casework.load_workable(actor, case_id)
        new = model.resolve(case, ctx.now, by=actor.user_id, summary=summary_text, by_name=actor.username or None)
        return casework.save(ctx, case, new, staff=True, claim=claim,
                             messages=notifications.user_messages(new, "resolved", ctx.settings),
                             said=(casework.entry(ctx, "support", summary_text, kind="resolution"),)).outcome()
    return casework.once(actor, ctx, idempotency_key, "case_resolve", {"case_id": case_id, "summary": summary_text},
                         action)


def unfreeze(actor: Actor, ctx: Context, user_id: str) -> schemas.AccountFreeze:
    """Only senior support lifts a security freeze; the user's frozen cases record it."""
    from chalicelib.repay import service as repay_service  # cold start: the repay domain loads only when needed
    if not actor.has_role(SENIOR_SUPPORT):
        raise refusals.NotAllowed("只有高级客服（senior-support）可以解除账户冻结。", code="forbidden_role")
    if not re.fullmatch(r"[A-Za-z0-9\-]{1,128}", user_id or ""):
        raise refusals.Invalid("user_id 格式不正确。", code="invalid_user_id", field="user_id")
    repay_service.unfreeze_account(user_id, actor=actor.user_id)
    for case in repository.store().cases_of_user(user_id):
        if case.frozen:
            try:
                casework.commit(case, model.unfrozen(case, ctx.now, by=actor.user_id, by_name=actor.username or None),
                                ctx=ctx)
            except VersionConflict:  # the freeze is lifted either way; the note is best effort
                logger.warning("unfreeze not recorded on case", extra={"case_id": case.case_id})
    logger.info("account unfrozen via escalation", extra={"user": user_hash(user_id)})
    return schemas.AccountFreeze(user_id=user_id, frozen=repay_service.is_frozen(user_id))
