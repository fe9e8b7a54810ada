"""Repayment use cases: quote, create (idempotent), verify, settle, retry, read; account freeze.

Rules live in ``model.py``/``fees.py``; DynamoDB in ``store.py``. Every state
change is one conditional write (or one transaction) and appends to the
repayment's timeline.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
from dataclasses import dataclass

from chalicelib import aws, clock, errors, idempotency, notify, outbox
from chalicelib.calendar import BusinessCalendar
from chalicelib.config import settings
from chalicelib.logs import logger, metric, user_hash
from chalicelib.repay import connector, fees, model, schemas, store
from chalicelib.repay.money import format_fen


# ---------------------------------------------------------------- account freeze (used by escalation)
def freeze_account(user_id: str, *, reason: str, case_id: str) -> None:
    """Freeze the account: new repayments, verifications and retries answer 423 until unfrozen.

    Idempotent: freezing a frozen account changes nothing. Recorded in the account's log.
    """
    if store.set_frozen(user_id, reason=reason, case_id=case_id):
        logger.info("account frozen", extra={"user": user_hash(user_id), "case_id": case_id})
        metric("AccountFrozen")


def unfreeze_account(user_id: str, *, actor: str) -> None:
    """Lift a freeze (idempotent; recorded with the actor)."""
    if store.clear_frozen(user_id, actor=actor):
        logger.info("account unfrozen", extra={"user": user_hash(user_id), "actor": actor})
        metric("AccountUnfrozen")


def is_frozen(user_id: str) -> bool:
    account = store.get_account(user_id)
    return bool(account and account.get("frozen"))


# ================================================================ repayments
CREATE_SCOPE = ""                # POST /repayments: its key records predate scopes (chalicelib/idempotency.py)
_MAX_PRICING_ROUNDS = 5          # concurrent repayments of the same kind re-price on the new usage
_ID = re.compile(r"rp_[0-9a-f]{20}")


@dataclass(frozen=True)
class Caller:
    user_id: str
    username: str


@dataclass(frozen=True)
class Created:
    status_code: int
    body: dict
    replayed: bool = False


def fee_schedule() -> fees.FeeSchedule:
    return fees.FeeSchedule.from_file(settings().fee_schedule_path)


def calendar() -> BusinessCalendar:
    return BusinessCalendar.from_file(settings().holidays_path)


def _check_limit(request: schemas.RepaymentRequest) -> None:
    rules = fee_schedule().rules(request.payee.kind)
    if request.amount_fen > rules.limit_fen:
        raise errors.ValidationFailed(
            f"amount：{model.KIND_LABELS[request.payee.kind]}单笔最多 {format_fen(rules.limit_fen)} 元",
            code="amount_over_limit", field="amount")


@dataclass(frozen=True)
class _Priced:
    fee: fees.Fee
    arrival: model.Arrival
    month: str
    warning: dict | None


def _price(user_id: str, request: schemas.RepaymentRequest, now: dt.datetime) -> _Priced:
    schedule = fee_schedule()
    kind = request.payee.kind
    month = fees.month_of(now, schedule.time_zone)
    used = store.get_usage(user_id, month, kind)
    fee = fees.compute(schedule, kind, request.amount_fen, used)
    arrival = model.estimate_arrival(schedule.rules(kind).arrival, now, calendar())
    return _Priced(fee, arrival, month, model.due_date_warning(arrival, request.due_date))


def _arrival_view(expected_at: dt.datetime, note: str) -> dict:
    return {"expected_at": expected_at.isoformat(timespec="seconds"), "date": expected_at.date().isoformat(),
            "note": note}


def _lines(fee: fees.Fee) -> list[dict]:
    return [{"code": line.code, "label": line.label, "amount": format_fen(line.amount_fen)} for line in fee.lines]


# ---------------------------------------------------------------- quote
def quote(caller: Caller, request: schemas.RepaymentRequest) -> dict:
    _check_limit(request)
    priced = _price(caller.user_id, request, clock.now())
    fee = priced.fee
    view = schemas.QuoteView(
        kind=request.payee.kind, amount=format_fen(fee.amount_fen), fee=format_fen(fee.fee_fen),
        total=format_fen(fee.total_fen), fee_breakdown=_lines(fee),
        allowance={"monthly": format_fen(fee.allowance_fen), "used_before": format_fen(fee.used_before_fen),
                   "applied": format_fen(fee.allowance_applied_fen),
                   "remaining_after": format_fen(fee.allowance_remaining_after_fen)},
        fee_schedule_version=fee.version, expected_arrival=_arrival_view(priced.arrival.expected_at, priced.arrival.note),
        due_date=request.due_date.isoformat() if request.due_date else None, warning=priced.warning,
        verification_required=request.amount_fen > settings().step_up_threshold_fen)
    return view.model_dump(mode="json")


# ---------------------------------------------------------------- views
def _payee_item(payee) -> dict:
    if payee.kind == "credit_card":
        return {"kind": "credit_card", "issuer": payee.issuer, "card_last4": payee.card_number[-4:]}
    if payee.kind == "loan":
        return {"kind": "loan", "platform": payee.platform, "contract_number": payee.contract_number}
    return {"kind": "utility", "utility": payee.utility, "biller": payee.biller,
            "account_number": payee.account_number, "city": payee.city}


def _failure(item: dict) -> dict | None:
    reason = model.FAILURES.get(item.get("failure_reason") or "")
    if item.get("status") != model.FAILED or reason is None:
        return None
    return {"reason": reason.code, "message": reason.message, "next_step": reason.next_step,
            "kb_article": reason.kb_article, "retryable": reason.retryable}


def _notice(item: dict) -> dict | None:
    if item.get("status") == model.PROCESSING and item.get("delayed_attempt") is not None \
            and int(item["delayed_attempt"]) == int(item["attempt"]):
        return {"code": "delayed", "message": model.DELAY_MESSAGE, "kb_article": model.KB_DELAY}
    if item.get("status") == model.CANCELLED and item.get("cancel_reason") in model.CANCEL_MESSAGES:
        return {"code": item["cancel_reason"], "message": model.CANCEL_MESSAGES[item["cancel_reason"]],
                "kb_article": model.KB_FAILED}
    return None


def _expected(item: dict) -> dict:
    return {"expected_at": item["expected_arrival_at"], "date": item["expected_arrival_at"][:10],
            "note": item["expected_arrival_note"]}


def view(item: dict) -> dict:
    verification = None
    if item["status"] == model.VERIFICATION_REQUIRED:
        verification = {"expires_at": item["verify_expires_at"],
                        "attempts_left": max(0, settings().verification_max_attempts - int(item["verify_attempts"]))}
    result = schemas.RepaymentView(
        id=item["id"], status=item["status"], kind=item["kind"], payee=item["payee"],
        amount=format_fen(int(item["amount_fen"])), fee=format_fen(int(item["fee_fen"])),
        total=format_fen(int(item["amount_fen"]) + int(item["fee_fen"])),
        fee_breakdown=[{"code": l["code"], "label": l["label"], "amount": format_fen(int(l["amount_fen"]))}
                       for l in item["fee_lines"]],
        fee_schedule_version=item["fee_schedule_version"], attempt=int(item["attempt"]),
        created_at=item["created_at"], updated_at=item["updated_at"], expected_arrival=_expected(item),
        actual_arrival=item.get("actual_arrival_at"), due_date=item.get("due_date"), warning=item.get("warning"),
        failure=_failure(item), notice=_notice(item), verification=verification,
        timeline=[{k: e[k] for k in ("at", "status", "event", "message")} for e in item["timeline"]])
    return _compact_payee(result.model_dump(mode="json"))


def _compact_payee(body: dict) -> dict:
    """Only the payee fields of its kind (the others are optional in the schema, so absent, not null)."""
    body["payee"] = {k: v for k, v in body["payee"].items() if v is not None}
    return body


def summary(item: dict) -> schemas.RepaymentSummary:
    return schemas.RepaymentSummary(
        id=item["id"], status=item["status"], kind=item["kind"], payee=item["payee"],
        amount=format_fen(int(item["amount_fen"])), fee=format_fen(int(item["fee_fen"])),
        total=format_fen(int(item["amount_fen"]) + int(item["fee_fen"])), created_at=item["created_at"],
        expected_arrival=_expected(item), actual_arrival=item.get("actual_arrival_at"),
        failure=_failure(item))


def _entry(status: str, event: str, message: str) -> dict:
    return {"at": clock.isoformat(clock.now()), "status": status, "event": event, "message": message}


def _settlement_message(item: dict, attempt: int) -> outbox.Message:
    body = outbox.as_json({"repayment_id": item["id"], "user_id": item["user_id"], "attempt": attempt})
    return outbox.Message(channel="sqs", target=settings().settlement_queue, body=body)


def _frozen_error() -> errors.Locked:
    return errors.Locked(f"您的账户已被冻结，暂时无法还款。如有疑问，请拨打安全专线 {settings().security_hotline}。",
                         code="account_frozen", details={"hotline": settings().security_hotline})


# ---------------------------------------------------------------- create (idempotent)
CREATE_WORDING = idempotency.Wording(
    reused="这个 Idempotency-Key 已用于另一笔不同的还款，请为新的还款使用新的 Key。",
    in_progress="同一笔还款正在处理中，请稍后查询结果，不要重复提交。")


def create(caller: Caller, idempotency_key: str | None, request: schemas.RepaymentRequest) -> Created:
    """Create a repayment exactly once per (user, Idempotency-Key) (``chalicelib/idempotency.py``).

    1. Conditional put of an in-progress record for the key (losers read it:
       same body + completed → replay; different body → 422; in flight → 409).
    2. One transaction: account-not-frozen check, the repayment, the month's
       allowance usage (conditional on the value it was priced with), the
       settlement message (outbox) and the completed key record with the response.
    """
    idempotency.validate_key(idempotency_key)
    _check_limit(request)

    def action(claim: idempotency.Claim) -> idempotency.Outcome:
        created, code, outbox_ids = _create_claimed(caller, request, claim)
        outbox.deliver(outbox_ids)
        if code is not None:
            _send_code(caller, created, code)
        logger.info("repayment created", extra={"repayment_id": created["id"], "kind": created["kind"],
                                                "status": created["status"], "user": user_hash(caller.user_id)})
        metric("RepaymentCreated", kind=created["kind"])
        return idempotency.Outcome(_created_status(created), view(created), recorded=True)

    outcome = idempotency.run(caller.user_id, idempotency_key, scope=CREATE_SCOPE,
                              payload=request.model_dump(mode="json"), action=action, wording=CREATE_WORDING)
    if outcome.replayed:
        metric("RepaymentReplayed")
    return Created(outcome.status_code, outcome.body, replayed=outcome.replayed)


def _created_status(item: dict) -> int:
    return 202 if item["status"] == model.VERIFICATION_REQUIRED else 201


def _create_claimed(caller: Caller, request: schemas.RepaymentRequest, claim: idempotency.Claim):
    cfg = settings()
    for _ in range(_MAX_PRICING_ROUNDS):
        now = clock.now()
        priced = _price(caller.user_id, request, now)
        step_up = request.amount_fen > cfg.step_up_threshold_fen
        repayment_id = model.new_repayment_id(now)
        at = clock.isoformat(now)
        item = {
            "id": repayment_id, "user_id": caller.user_id, "username": caller.username,
            "kind": request.payee.kind, "payee": _payee_item(request.payee),
            "amount_fen": request.amount_fen, "fee_fen": priced.fee.fee_fen,
            "fee_lines": [{"code": l.code, "label": l.label, "amount_fen": l.amount_fen} for l in priced.fee.lines],
            "fee_schedule_version": priced.fee.version, "usage_month": priced.month,
            "attempt": 1, "created_at": at, "updated_at": at, "processing_since": at, "version": 1,
            "expected_arrival_at": priced.arrival.expected_at.isoformat(timespec="seconds"),
            "expected_arrival_note": priced.arrival.note,
            "due_date": request.due_date.isoformat() if request.due_date else None, "warning": priced.warning,
        }
        code = None
        messages = []
        if step_up:
            code, salt = model.new_code(), secrets.token_hex(16)
            item.update(status=model.VERIFICATION_REQUIRED, verify_salt=salt,
                        verify_hash=model.hash_code(code, salt=salt, repayment_id=repayment_id),
                        verify_attempts=0,
                        verify_expires_at=clock.isoformat(now + dt.timedelta(seconds=cfg.verification_ttl_seconds)),
                        timeline=[{"at": at, "status": model.VERIFICATION_REQUIRED, "event": "created",
                                   "message": "还款已提交。金额较大，请输入短信验证码确认。"}])
        else:
            item.update(status=model.PROCESSING,
                        timeline=[{"at": at, "status": model.PROCESSING, "event": "created",
                                   "message": "还款已提交，正在处理。"}])
            messages.append(_settlement_message(item, 1))
        try:
            store.commit({
                "frozen": store.not_frozen_check(caller.user_id),
                "repayment": store.put_repayment(item),
                "allowance": store.add_usage(caller.user_id, priced.month, item["kind"], request.amount_fen,
                                             seen_fen=priced.fee.used_before_fen),
                "idempotency": claim.completion(_created_status(item), view({**item})),
                **{f"outbox:{m.message_id}": outbox.put(m) for m in messages},
            })
        except store.ConditionFailed as exc:
            if "frozen" in exc:
                raise _frozen_error() from None
            if "idempotency" in exc:
                raise CREATE_WORDING.in_progress_error() from None
            continue  # allowance usage moved (another repayment of this kind): price again
        return item, code, [m.message_id for m in messages]
    raise errors.ServiceUnavailable(headers={"Retry-After": "1"})


def _send_code(caller: Caller, item: dict, code: str) -> None:
    """Text the code (never logged, never stored in clear). A failed send leaves the code to expire."""
    try:
        phone = notify.user_phone(caller.username)
        if not phone:
            logger.warning("no phone for verification code", extra={"repayment_id": item["id"]})
            return
        notify.send_sms(phone, f"【RepayDesk】您正在还款 {format_fen(int(item['amount_fen']))} 元，验证码 {code}，"
                               f"{settings().verification_ttl_seconds // 60} 分钟内有效。请勿告诉他人。")
    except Exception:
        logger.exception("verification sms failed", extra={"repayment_id": item["id"]})
        metric("VerificationSmsFailed")


# ---------------------------------------------------------------- read
def _load(caller: Caller, repayment_id: str) -> dict:
    item = store.get_repayment(caller.user_id, repayment_id) if _ID.fullmatch(repayment_id or "") else None
    if item is None:  # someone else's id looks exactly like a missing one
        raise errors.NotFound("找不到这笔还款。", code="repayment_not_found")
    return item


def _expire_if_due(item: dict) -> dict:
    """A verification past its 5 minutes cancels the repayment (lazily, on the next touch)."""
    if item["status"] == model.VERIFICATION_REQUIRED and clock.isoformat(clock.now()) >= item["verify_expires_at"]:
        _cancel(item, "verification_expired")
        return store.get_repayment(item["user_id"], item["id"])
    return item


def get(caller: Caller, repayment_id: str) -> dict:
    return view(_expire_if_due(_load(caller, repayment_id)))


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
        raise errors.ValidationFailed("cursor：翻页标记无效，请从第一页重新查询。", field="cursor") from None


def history(caller: Caller, query: schemas.ListQuery) -> dict:
    after = _decode_cursor(query.cursor) if query.cursor else None
    items, last = store.list_repayments(caller.user_id, status=query.status, kind=query.kind, limit=query.limit,
                                        after_id=after)
    items = [_expire_if_due(i) for i in items]  # a lapsed verification shows (and is) cancelled
    page = schemas.RepaymentPage(items=[summary(i) for i in items],
                                 next_cursor=_encode_cursor(last) if last else None).model_dump(mode="json")
    page["items"] = [_compact_payee(i) for i in page["items"]]
    return page


# ---------------------------------------------------------------- verification
def _cancel(item: dict, reason: str, *, expect_attempts: int | None = None) -> bool:
    expect = {"verify_attempts": expect_attempts} if expect_attempts is not None else None
    change = store.change(item["user_id"], item["id"], expect_status=model.VERIFICATION_REQUIRED,
                          new_status=model.CANCELLED, entry=_entry(model.CANCELLED, reason, model.CANCEL_MESSAGES[reason]),
                          fields={"cancel_reason": reason, "verify_attempts": int(item["verify_attempts"])
                                  + (1 if reason == "verification_attempts_exhausted" else 0)},
                          remove=("verify_hash", "verify_salt"), expect=expect)
    release = store.release_usage(item["user_id"], item["usage_month"], item["kind"], int(item["amount_fen"]))
    try:
        store.commit({"repayment": change, "allowance": release})
    except store.ConditionFailed:
        return False
    metric("RepaymentCancelled", reason=reason)
    return True


def verify(caller: Caller, repayment_id: str, request: schemas.VerifyRequest) -> dict:
    item = _expire_if_due(_load(caller, repayment_id))
    cfg = settings()
    if item["status"] == model.CANCELLED and item.get("cancel_reason") in model.CANCEL_MESSAGES:
        raise errors.Conflict(model.CANCEL_MESSAGES[item["cancel_reason"]], code=item["cancel_reason"])
    if item["status"] != model.VERIFICATION_REQUIRED:
        if item.get("verified_at"):  # verified already (a repeated tap): show where it is now
            return view(item)
        raise errors.Conflict("这笔还款不需要验证。", code="not_awaiting_verification")
    attempts = int(item["verify_attempts"])
    if not model.code_matches(request.code, salt=item["verify_salt"], repayment_id=item["id"],
                              expected_hash=item["verify_hash"]):
        used = attempts + 1
        if used >= cfg.verification_max_attempts:
            if not _cancel(item, "verification_attempts_exhausted", expect_attempts=attempts):
                raise errors.Conflict()
            raise errors.Unprocessable(model.CANCEL_MESSAGES["verification_attempts_exhausted"],
                                       code="verification_attempts_exhausted", details={"attempts_left": 0})
        try:
            store.commit({"repayment": store.change(
                item["user_id"], item["id"], expect_status=model.VERIFICATION_REQUIRED,
                entry=_entry(model.VERIFICATION_REQUIRED, "verification_failed", "验证码错误。"),
                fields={"verify_attempts": used}, expect={"verify_attempts": attempts})})
        except store.ConditionFailed:
            raise errors.Conflict() from None
        left = cfg.verification_max_attempts - used
        raise errors.Unprocessable(f"验证码不正确，还可以再试 {left} 次。", code="invalid_code",
                                   field="code", details={"attempts_left": left})
    message = _settlement_message(item, int(item["attempt"]))
    now = clock.isoformat(clock.now())
    change = store.change(item["user_id"], item["id"], expect_status=model.VERIFICATION_REQUIRED,
                          new_status=model.PROCESSING,
                          entry=_entry(model.PROCESSING, "verified", "验证通过，还款正在处理。"),
                          fields={"verified_at": now, "processing_since": now},
                          remove=("verify_hash", "verify_salt"), expect={"verify_attempts": attempts})
    try:
        store.commit({"repayment": change, "frozen": store.not_frozen_check(caller.user_id),
                      "outbox": outbox.put(message)})
    except store.ConditionFailed as exc:
        if "frozen" in exc:
            raise _frozen_error() from None
        raise errors.Conflict() from None
    verified = store.get_repayment(caller.user_id, repayment_id)  # as committed, before the worker can move it
    outbox.deliver([message.message_id])
    logger.info("repayment verified", extra={"repayment_id": item["id"]})
    return view(verified)


# ---------------------------------------------------------------- retry
RETRY_SCOPE = "retry"
RETRY_WORDING = idempotency.Wording(
    reused="这个 Idempotency-Key 已用于另一笔还款的重试，请为新的重试使用新的 Key。",
    in_progress="这笔还款的重试正在处理中，请稍后查询结果，不要重复提交。")


def retry(caller: Caller, idempotency_key: str | None, repayment_id: str) -> Created:
    """Failed (retryable) → processing as a new attempt, exactly once per (user, Idempotency-Key).

    The new attempt is written conditionally on the attempt that failed, in one transaction with
    the key's stored answer: a repeat of the request replays that answer, so it can never start
    attempt N+1 after attempt N finished in between. Repeating it with another key while the new
    attempt is processing changes nothing either.
    """
    idempotency.validate_key(idempotency_key)

    def action(claim: idempotency.Claim) -> idempotency.Outcome:
        return _retry_claimed(caller, repayment_id, claim)

    outcome = idempotency.run(caller.user_id, idempotency_key, scope=RETRY_SCOPE,
                              payload={"repayment_id": repayment_id}, action=action, wording=RETRY_WORDING)
    return Created(outcome.status_code, outcome.body, replayed=outcome.replayed)


def _retry_claimed(caller: Caller, repayment_id: str, claim: idempotency.Claim) -> idempotency.Outcome:
    item = _load(caller, repayment_id)
    if item["status"] == model.PROCESSING and int(item["attempt"]) > 1:
        return idempotency.Outcome(200, view(item))
    if item["status"] != model.FAILED:
        raise errors.Conflict("只有失败的还款可以重试。", code="not_retryable")
    reason = model.FAILURES.get(item.get("failure_reason") or "")
    if reason is None or not reason.retryable:
        raise errors.Conflict("这笔还款失败的原因无法通过重试解决：" + (reason.next_step if reason else ""),
                              code="not_retryable")
    attempt = int(item["attempt"]) + 1
    now = clock.now()
    schedule = fee_schedule()
    arrival = model.estimate_arrival(schedule.rules(item["kind"]).arrival, now, calendar())
    message = _settlement_message(item, attempt)
    entry = _entry(model.PROCESSING, "retried", f"已重新提交（第 {attempt} 次尝试）。")
    fields = {"attempt": attempt, "processing_since": clock.isoformat(now),
              "expected_arrival_at": arrival.expected_at.isoformat(timespec="seconds"),
              "expected_arrival_note": arrival.note}
    change = store.change(item["user_id"], item["id"], expect_status=model.FAILED, new_status=model.PROCESSING,
                          entry=entry, fields=fields, remove=("failure_reason",),
                          expect={"attempt": int(item["attempt"])})
    retried = {**{k: v for k, v in item.items() if k != "failure_reason"}, **fields, "status": model.PROCESSING,
               "timeline": [*item["timeline"], entry], "updated_at": entry["at"]}
    answer = view(retried)   # as committed, before the worker can move it
    try:
        store.commit({"repayment": change, "frozen": store.not_frozen_check(caller.user_id),
                      "outbox": outbox.put(message), "idempotency": claim.completion(200, answer)})
    except store.ConditionFailed as exc:
        if "frozen" in exc:
            raise _frozen_error() from None
        if "idempotency" in exc:
            raise RETRY_WORDING.in_progress_error() from None
        current = store.get_repayment(caller.user_id, repayment_id)
        if current and current["status"] == model.PROCESSING:
            return idempotency.Outcome(200, view(current))  # a concurrent retry won: same result
        raise errors.Conflict() from None
    outbox.deliver([message.message_id])
    metric("RepaymentRetried", kind=item["kind"])
    return idempotency.Outcome(200, answer, recorded=True)


# ---------------------------------------------------------------- settlement worker
def settle(body: str) -> str:
    """Handle one settlement message; returns what happened (for logs and tests).

    Safe under duplicate delivery and Lambda retries: a message only acts on the
    attempt it names while that attempt is processing, and every outcome is a
    write conditional on exactly that.
    """
    try:
        message = json.loads(body)
        user_id, repayment_id, attempt = message["user_id"], message["repayment_id"], int(message["attempt"])
    except (ValueError, KeyError, TypeError):
        logger.error("malformed settlement message dropped")
        metric("SettlementMessageMalformed")
        return "malformed"
    item = store.get_repayment(user_id, repayment_id)
    if item is None or item["status"] != model.PROCESSING or int(item["attempt"]) != attempt:
        return "stale"
    request = connector.SettlementRequest(
        reference=f"{repayment_id}#{attempt}", repayment_id=repayment_id, kind=item["kind"],
        amount_fen=int(item["amount_fen"]), payee=dict(item["payee"]), attempt=attempt,
        submitted_at=clock.parse(item.get("processing_since") or item["created_at"]))
    outcome = connector.get().settle(request)
    expect = {"attempt": attempt}
    try:
        if outcome.status == "succeeded":
            store.commit({"repayment": store.change(
                user_id, repayment_id, expect_status=model.PROCESSING, new_status=model.SUCCEEDED,
                entry=_entry(model.SUCCEEDED, "settled", "还款已到账。"),
                fields={"actual_arrival_at": calendar().local(outcome.settled_at).isoformat(timespec="seconds")},
                expect=expect)})
        elif outcome.status == "failed":
            reason = model.FAILURES[outcome.reason]
            change = store.change(user_id, repayment_id, expect_status=model.PROCESSING, new_status=model.FAILED,
                                  entry=_entry(model.FAILED, reason.code, f"{reason.message}{reason.next_step}"),
                                  fields={"failure_reason": reason.code}, expect=expect)
            extra = {} if reason.retryable else {
                "allowance": store.release_usage(user_id, item["usage_month"], item["kind"], int(item["amount_fen"]))}
            store.commit({"repayment": change, **extra})
        else:
            if item.get("delayed_attempt") is None or int(item["delayed_attempt"]) != attempt:
                expected = calendar().local(outcome.expected_at or clock.now())
                store.commit({"repayment": store.change(
                    user_id, repayment_id, expect_status=model.PROCESSING,
                    entry=_entry(model.PROCESSING, "delayed", model.DELAY_MESSAGE),
                    fields={"delayed_attempt": attempt, "expected_arrival_at": expected.isoformat(timespec="seconds"),
                            "expected_arrival_note": "银行处理延迟，预计到账时间已更新"},
                    expect=expect)})
            _recheck_later(body)
            return "pending"
    except store.ConditionFailed:
        return "stale"  # another delivery recorded this attempt's outcome first
    logger.info("repayment settled", extra={"repayment_id": repayment_id, "outcome": outcome.status,
                                            "reason": outcome.reason})
    metric("RepaymentSettlement", outcome=outcome.status, reason=outcome.reason or "none")
    return outcome.status


def _recheck_later(body: str) -> None:
    """Ask again after a while. If this send fails the handler raises and SQS redelivers the message."""
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=settings().settlement_queue)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=body,
                     DelaySeconds=max(0, min(900, settings().settlement_recheck_seconds)))
