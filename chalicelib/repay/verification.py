"""Step-up verification: the SMS code confirms a large repayment (5 minutes, 5 attempts, then cancelled)."""
from __future__ import annotations

from typing import Callable

from chalicelib import domain, outbox
from chalicelib.actor import Actor
from chalicelib.logs import logger, metric
from chalicelib.repay import model, schemas, settlement, store, views
from chalicelib.repay.context import Context
from chalicelib.repay.freeze import frozen_error

_ROUNDS = 3   # a tap that lost a race to another tap is decided again on what that one wrote


def verify(actor: Actor, repayment_id: str, request: schemas.VerifyRequest, ctx: Context, *,
           before_check: Callable[[], None] = lambda: None) -> dict:
    """Check the code: right → processing (settlement of the attempt); wrong → one attempt used, the last
    one cancels. ``before_check`` runs once, just before a code is first checked (the rate limit
    counts code checks, not taps that find nothing to check). A frozen account answers 423 before
    any attempt is used; a tap that lost a race is decided again, not answered 409."""
    checked = False
    for _ in range(_ROUNDS):
        repayment = views.expire_if_due(views.load(actor, repayment_id), ctx)
        if repayment.status not in (model.VERIFICATION_REQUIRED, model.CANCELLED) and repayment.verified_at:
            return views.view(repayment, ctx)   # verified already (a repeated tap): show where it is now
        repayment.check_verifiable()
        if not checked:
            before_check()
            checked = True
        change = repayment.verify(request.code, ctx.now, max_attempts=ctx.rules.verification_max_attempts)
        named, sent = settlement.elements(change, ctx)
        try:
            store.commit({"frozen": store.not_frozen_check(actor.user_id), **named})
        except store.ConditionFailed as exc:
            if "frozen" in exc:
                raise frozen_error(ctx.rules.security_hotline) from None
            continue   # another tap moved it first: decide this one on the new state
        return _answer(change, sent, ctx)
    raise domain.Conflicting()


def _answer(change: model.Change, sent: list[str], ctx: Context) -> dict:
    if change.event == "verification_attempts_exhausted":
        metric("RepaymentCancelled", reason=change.event)
        raise domain.Rejected(model.CANCEL_MESSAGES["verification_attempts_exhausted"],
                              code="verification_attempts_exhausted", details={"attempts_left": 0})
    if change.event == "verification_failed":
        left = change.after.attempts_left(ctx.rules.verification_max_attempts)
        raise domain.Rejected(f"验证码不正确，还可以再试 {left} 次。", code="invalid_code",
                              field="code", details={"attempts_left": left})
    outbox.deliver(sent)
    logger.info("repayment verified", extra={"repayment_id": change.after.id})
    return views.view(change.after, ctx)   # as committed, before the worker can move it
