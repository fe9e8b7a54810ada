"""Paying: quote, create (exactly once per Idempotency-Key) and retry a failed repayment (likewise)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.adapters import idempotency, outbox, sms
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger, metric, user_hash
from chalicelib.kernel.money import format_fen
from chalicelib.repay import connector, fees, model, schemas, settlement, store, views
from chalicelib.repay.errors import AccountFrozen
from chalicelib.repay.freeze import frozen_error
from chalicelib.repay.rules import of as rules_of

_MAX_PRICING_ROUNDS = 5          # concurrent repayments of the same kind re-price on the new usage
CREATE_SCOPE = ""                # POST /repayments: its key records predate scopes (chalicelib/adapters/idempotency.py)
CREATE_WORDING = idempotency.Wording(
    reused="这个 Idempotency-Key 已用于另一笔不同的还款，请为新的还款使用新的 Key。",
    in_progress="同一笔还款正在处理中，请稍后查询结果，不要重复提交。")
RETRY_SCOPE = "retry"
RETRY_WORDING = idempotency.Wording(
    reused="这个 Idempotency-Key 已用于另一笔还款的重试，请为新的重试使用新的 Key。",
    in_progress="这笔还款的重试正在处理中，请稍后查询结果，不要重复提交。")


@dataclass(frozen=True)
class Created:
    status_code: int
    body: dict
    replayed: bool = False


def _check_limit(request: schemas.RepaymentRequest, ctx: Context) -> None:
    rules = rules_of(ctx).schedule.rules(request.payee.kind)
    if request.amount_fen > rules.limit_fen:
        raise refusals.Invalid(
            f"amount：{model.KIND_LABELS[request.payee.kind]}单笔最多 {format_fen(rules.limit_fen)} 元",
            code="amount_over_limit", field="amount")


@dataclass(frozen=True)
class _Priced:
    fee: fees.Fee
    arrival: model.Arrival
    month: str


def _price(user_id: str, request: schemas.RepaymentRequest, ctx: Context) -> _Priced:
    schedule = rules_of(ctx).schedule
    kind = request.payee.kind
    month = fees.month_of(ctx.now, schedule.time_zone)
    used = store.get_usage(user_id, month, kind)
    fee = fees.compute(schedule, kind, request.amount_fen, used)
    arrival = model.estimate_arrival(schedule.rules(kind).arrival, ctx.now, rules_of(ctx).calendar)
    return _Priced(fee, arrival, month)


# ---------------------------------------------------------------- quote
def quote(actor: Actor, request: schemas.RepaymentRequest, ctx: Context) -> dict:
    _check_limit(request, ctx)
    priced = _price(actor.user_id, request, ctx)
    fee, at = priced.fee, priced.arrival.expected_at.isoformat(timespec="seconds")
    view = schemas.QuoteView(
        kind=request.payee.kind, amount=format_fen(fee.amount_fen), fee=format_fen(fee.fee_fen),
        total=format_fen(fee.total_fen), fee_breakdown=views.fee_lines(fee.lines),
        allowance=schemas.AllowanceView(monthly=format_fen(fee.allowance_fen),
                                        used_before=format_fen(fee.used_before_fen),
                                        applied=format_fen(fee.allowance_applied_fen),
                                        remaining_after=format_fen(fee.allowance_remaining_after_fen)),
        fee_schedule_version=fee.version, expected_arrival=views.arrival(at, priced.arrival.note),
        due_date=request.due_date.isoformat() if request.due_date else None,
        warning=views.warning(model.due_date_warning(priced.arrival, request.due_date)),
        verification_required=request.amount_fen > rules_of(ctx).step_up_threshold_fen,
        notices=[schemas.PublicNotice.model_validate(n) for n in _service_notices(request.payee, ctx)])
    return view.model_dump(mode="json")


def _service_notices(payee, ctx: Context) -> list[dict]:
    """Service notices in force that concern this payee (a channel under maintenance …): the warning beside the fee.
    Through the status facade, read from its per-container cache."""
    from chalicelib.status import service as status
    name = getattr(payee, "issuer", None) or getattr(payee, "platform", None) or getattr(payee, "biller", None)
    return status.for_payee(ctx, payee.kind, name)


# ---------------------------------------------------------------- create
def _payee_item(user_id: str, payee) -> dict:
    """What is stored of the payee: a card as issuer + last 4 (+ the saved card's opaque token), never its number."""
    if payee.kind == "credit_card":
        if payee.card_token is None:
            return {"kind": "credit_card", "issuer": payee.issuer, "card_last4": payee.card_number[-4:]}
        last4 = connector.get().card_last4(user_id, payee.issuer, payee.card_token)
        if last4 is None:
            raise refusals.Invalid("payee.card_token：这张已保存的卡片无效，请重新添加卡片。",
                                 code="card_token_invalid", field="payee.card_token")
        return {"kind": "credit_card", "issuer": payee.issuer, "card_last4": last4, "card_token": payee.card_token}
    if payee.kind == "loan":
        return {"kind": "loan", "platform": payee.platform, "contract_number": payee.contract_number}
    return {"kind": "utility", "utility": payee.utility, "biller": payee.biller,
            "account_number": payee.account_number, "city": payee.city}


def _created_status(repayment: model.Repayment) -> int:
    return 202 if repayment.status == model.VERIFICATION_REQUIRED else 201


def create(actor: Actor, idempotency_key: str | None, request: schemas.RepaymentRequest, ctx: Context, *,
           preverified: bool = False, schedule_id: str | None = None,
           limit: Callable[[], None] = lambda: None) -> Created:
    """Create a repayment exactly once per (user, Idempotency-Key) (``chalicelib/adapters/idempotency.py``).

    1. Conditional put of an in-progress record for the key (losers read it:
       same body + completed → replay; different body → 422; in flight → 409).
    2. One transaction: account-not-frozen check, the repayment, the month's
       allowance usage (conditional on the value it was priced with), the
       settlement message (outbox) and the completed key record with the response.

    ``preverified``: a scheduled repayment whose SMS code was checked when it was scheduled
    (``chalicelib/bills``) is not stepped up again at run time; ``schedule_id`` names that schedule.
    ``limit``: the caller's rate limit. It and the amount limit refuse only a new key: a known key
    replays its answer first (#21).
    """
    idempotency.validate_key(idempotency_key)
    payee = _payee_item(actor.user_id, request.payee)

    def action(claim: idempotency.Claim) -> idempotency.Outcome:
        created, code, outbox_ids = _create_claimed(actor, request, payee, claim, ctx, preverified=preverified,
                                                    schedule_id=schedule_id)
        outbox.deliver(outbox_ids)
        if code is not None:
            send_code(actor, created, code, ctx)
        logger.info("repayment created", extra={"repayment_id": created.id, "kind": created.kind,
                                                "status": created.status, "user": user_hash(actor.user_id)})
        metric("RepaymentCreated", kind=created.kind)
        return idempotency.Outcome(_created_status(created), views.view(created, ctx), recorded=True)

    def checks() -> None:
        _check_limit(request, ctx)
        limit()

    outcome = idempotency.run(actor.user_id, idempotency_key, scope=CREATE_SCOPE,
                              payload=request.model_dump(mode="json"), action=action, wording=CREATE_WORDING,
                              checks=checks)
    if outcome.replayed:
        metric("RepaymentReplayed")
    return Created(outcome.status_code, outcome.body, replayed=outcome.replayed)


def _create_claimed(actor: Actor, request: schemas.RepaymentRequest, payee: dict, claim: idempotency.Claim,
                    ctx: Context, *, preverified: bool, schedule_id: str | None):
    for _ in range(_MAX_PRICING_ROUNDS):
        priced = _price(actor.user_id, request, ctx)
        repayment_id = model.new_repayment_id(ctx.now)
        verification = None
        if request.amount_fen > rules_of(ctx).step_up_threshold_fen and not preverified:
            verification = model.new_verification(repayment_id, ctx.now, rules_of(ctx).verification_ttl_seconds)
        repayment = model.open_repayment(
            repayment_id=repayment_id, user_id=actor.user_id, username=actor.username, kind=request.payee.kind,
            payee=payee, fee=priced.fee, month=priced.month, arrival=priced.arrival,
            due_date=request.due_date, now=ctx.now, verification=verification, schedule_id=schedule_id)
        uow = store.begin()
        store.not_frozen(uow, actor.user_id)
        store.create(uow, repayment)
        store.add_usage(uow, actor.user_id, priced.month, repayment.kind, request.amount_fen,
                        seen_fen=priced.fee.used_before_fen)
        claim.complete_in(uow, _created_status(repayment), views.view(repayment, ctx))
        sent = [] if verification else [outbox.add(uow, settlement.message(repayment, 1, ctx))]
        try:
            _commit(uow, CREATE_WORDING, ctx)
        except store.Conflict:
            continue  # allowance usage moved (another repayment of this kind): price again
        return repayment, verification.code if verification else None, sent
    raise refusals.Busy(retry_after=1)


def _commit(uow, wording, ctx: Context) -> None:
    """Commit a repayment's unit of work: a frozen account, and an Idempotency-Key whose first request is still in
    flight, are refused in the use case's words; another lost condition (``store.Conflict``) is the caller's."""
    try:
        uow.commit()
    except AccountFrozen:
        raise frozen_error(rules_of(ctx).security_hotline) from None
    except idempotency.KeyInFlight:
        raise wording.in_progress_error() from None


def send_code(actor: Actor, repayment: model.Repayment, code: str, ctx: Context) -> None:
    """Text the code (never logged, never stored in clear). A failed send leaves the code to expire."""
    try:
        phone = sms.user_phone(actor.username)
        if not phone:
            logger.warning("no phone for verification code", extra={"repayment_id": repayment.id})
            return
        sms.send_sms(phone, f"【RepayDesk】您正在还款 {format_fen(repayment.amount_fen)} 元，验证码 {code}，"
                               f"{rules_of(ctx).verification_ttl_seconds // 60} 分钟内有效。请勿告诉他人。")
    except Exception:
        logger.exception("verification sms failed", extra={"repayment_id": repayment.id})
        metric("VerificationSmsFailed")


# ---------------------------------------------------------------- retry
def retry(actor: Actor, idempotency_key: str | None, repayment_id: str, ctx: Context) -> Created:
    """Failed (retryable) → processing as a new attempt, exactly once per (user, Idempotency-Key).

    The new attempt is written conditionally on the state it was read in (the attempt that failed),
    in one transaction with the key's stored answer: a repeat of the request replays that answer,
    so it can never start attempt N+1 after attempt N finished in between. Repeating it with
    another key while the new attempt is processing changes nothing either.
    """
    idempotency.validate_key(idempotency_key)

    def action(claim: idempotency.Claim) -> idempotency.Outcome:
        return _retry_claimed(actor, repayment_id, claim, ctx)

    outcome = idempotency.run(actor.user_id, idempotency_key, scope=RETRY_SCOPE,
                              payload={"repayment_id": repayment_id}, action=action, wording=RETRY_WORDING)
    return Created(outcome.status_code, outcome.body, replayed=outcome.replayed)


def _retry_claimed(actor: Actor, repayment_id: str, claim: idempotency.Claim, ctx: Context) -> idempotency.Outcome:
    repayment = views.load(actor, repayment_id)
    if repayment.retried:
        return idempotency.Outcome(200, views.view(repayment, ctx))
    arrival_rule = rules_of(ctx).schedule.rules(repayment.kind).arrival
    change = repayment.retry(ctx.now, model.estimate_arrival(arrival_rule, ctx.now, rules_of(ctx).calendar))
    answer = views.view(change.after, ctx)   # as committed, before the worker can move it
    uow = store.begin()
    store.not_frozen(uow, actor.user_id)
    sent = settlement.add_move(uow, change, ctx)
    claim.complete_in(uow, 200, answer)
    try:
        _commit(uow, RETRY_WORDING, ctx)
    except store.Conflict:
        current = store.get(actor.user_id, repayment_id)
        if current and current.status == model.PROCESSING:
            return idempotency.Outcome(200, views.view(current, ctx))  # a concurrent retry won: same result
        raise refusals.Conflicting() from None
    outbox.deliver(sent)
    metric("RepaymentRetried", kind=repayment.kind)
    return idempotency.Outcome(200, answer, recorded=True)
