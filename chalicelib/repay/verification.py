"""Step-up verification: the SMS code confirms a large repayment (5 minutes, 5 attempts, then cancelled).

Also what can happen while the code is awaited: a new code (``resend_code``), the owner cancelling
(``cancel``), and the scheduled sweep cancelling lapsed verifications (``expire_lapsed``).
"""
from __future__ import annotations

from collections.abc import Callable

from chalicelib.adapters import outbox
from chalicelib.kernel import clock, refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger, metric, user_hash
from chalicelib.repay import model, pay, schemas, settlement, store, views
from chalicelib.repay.errors import AccountFrozen
from chalicelib.repay.freeze import frozen_error
from chalicelib.repay.rules import of as rules_of

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
        change = repayment.verify(request.code, ctx.now, max_attempts=rules_of(ctx).verification_max_attempts)
        uow = store.begin()
        store.not_frozen(uow, actor.user_id)
        sent = settlement.add_move(uow, change, ctx)
        try:
            uow.commit()
        except AccountFrozen:
            raise frozen_error(rules_of(ctx).security_hotline) from None
        except store.Conflict:
            continue   # another tap moved it first: decide this one on the new state
        return _answer(change, sent, ctx)
    raise refusals.Conflicting()


def _answer(change: model.Change, sent: list[str], ctx: Context) -> dict:
    if change.event == "verification_attempts_exhausted":
        metric("RepaymentCancelled", reason=change.event)
        raise refusals.Rejected(model.CANCEL_MESSAGES["verification_attempts_exhausted"],
                              code="verification_attempts_exhausted", details={"attempts_left": 0})
    if change.event == "verification_failed":
        left = change.after.attempts_left(rules_of(ctx).verification_max_attempts)
        raise refusals.Rejected(f"验证码不正确，还可以再试 {left} 次。", code="invalid_code",
                              field="code", details={"attempts_left": left})
    outbox.deliver(sent)
    logger.info("repayment verified", extra={"repayment_id": change.after.id})
    return views.view(change.after, ctx)   # as committed, before the worker can move it


# ---------------------------------------------------------------- a new code
def resend_code(actor: Actor, repayment_id: str, ctx: Context) -> dict:
    """Text a new code; the old one stops working (its hash is replaced in the same conditional write).

    At most ``verification_max_resends`` per repayment and one per ``verification_resend_interval_seconds``
    (429, with ``Retry-After`` when waiting helps). Parallel resends: one write wins, the others are decided
    again on what it wrote (too soon → 429), so exactly one new code is valid and only it is texted.
    The new code gets the full time to live; attempts already used stay used.
    """
    rules = rules_of(ctx)
    for _ in range(_ROUNDS):
        repayment = views.expire_if_due(views.load(actor, repayment_id), ctx)
        verification = model.new_verification(repayment.id, ctx.now, rules.verification_ttl_seconds)
        change = repayment.resend(ctx.now, verification, max_resends=rules.verification_max_resends,
                                  min_interval_seconds=rules.verification_resend_interval_seconds)
        uow = store.begin()
        store.not_frozen(uow, actor.user_id)
        store.move(uow, change)
        try:
            uow.commit()
        except AccountFrozen:
            raise frozen_error(rules.security_hotline) from None
        except store.Conflict:
            continue   # another resend or a verify moved it first: decide again on the new state
        pay.send_code(actor, change.after, verification.code, ctx)
        logger.info("verification code resent", extra={"repayment_id": repayment.id,
                                                       "resends": change.after.verify_resends})
        metric("VerificationCodeResent")
        return views.view(change.after, ctx)
    raise refusals.Conflicting()


# ---------------------------------------------------------------- the owner cancels
def cancel(actor: Actor, repayment_id: str, ctx: Context) -> dict:
    """Cancel a repayment still waiting for its code (nothing was charged; the month's allowance comes
    back in the same transaction). Already cancelled (a repeated tap, or the code lapsed): shown as it
    is. Processing, succeeded or failed: 409. Allowed on a frozen account (it moves no money)."""
    for _ in range(_ROUNDS):
        repayment = views.expire_if_due(views.load(actor, repayment_id), ctx)
        if repayment.status == model.CANCELLED:
            return views.view(repayment, ctx)
        change = repayment.cancel_by_owner(ctx.now)
        uow = store.begin()
        settlement.add_move(uow, change, ctx)
        try:
            uow.commit()
        except store.Conflict:
            continue   # a verify, resend or the sweep moved it first: decide again on the new state
        logger.info("repayment cancelled by owner", extra={"repayment_id": repayment.id,
                                                           "user": user_hash(actor.user_id)})
        metric("RepaymentCancelled", reason=change.event)
        return views.view(change.after, ctx)
    raise refusals.Conflicting()


# ---------------------------------------------------------------- the sweep
def expire_lapsed(ctx: Context, *, page_size: int = 100, max_items: int = 1000) -> int:
    """Cancel every verification whose code expired (``@app.schedule``), oldest first; returns how many
    this run cancelled. Finds them by a Query of the sparse ``by_verify_expiry`` index (never a Scan),
    re-reads each consistently and cancels it conditionally on that state: a repayment another sweep,
    a read or a verify moved first is skipped, so overlapping runs cancel each one exactly once."""
    cancelled, seen, after = 0, 0, None
    now = clock.isoformat(ctx.now)
    while seen < max_items:
        found, after = store.lapsed(now, limit=min(page_size, max_items - seen), after=after)
        for user_id, repayment_id in found:
            seen += 1
            repayment = store.get(user_id, repayment_id)
            if repayment is not None and views.expire(repayment, ctx):
                cancelled += 1
        if not after:
            break
    if cancelled:
        logger.info("lapsed verifications cancelled", extra={"cancelled": cancelled})
    return cancelled
