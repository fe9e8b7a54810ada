"""Scheduled repayments of a saved bill: create (a large amount is confirmed once by SMS code), list, read,
change, cancel, verify. The sweep (``sweep.py``) runs them. Every write is on the version read.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from chalicelib.adapters import sms
from chalicelib.bills import model, schemas, store
from chalicelib.bills.rules import of as rules_of
from chalicelib.bills.saved import (
    _HORIZON,
    _ROUNDS,
    _SCHEDULE_ID,
    _decode_cursor,
    _encode_cursor,
    _load_bill,
    _local_text,
)
from chalicelib.kernel import clock, refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger, metric, user_hash
from chalicelib.kernel.money import format_fen, parse_fen
from chalicelib.repay import service as repay


def _load_schedule(actor: Actor, schedule_id: str) -> model.Schedule:
    found = store.get_schedule(actor.user_id, schedule_id) if _SCHEDULE_ID.fullmatch(schedule_id or "") else None
    if found is None:
        raise refusals.Missing("找不到这笔预约还款。", code="schedule_not_found")
    return found


def _local(moment: dt.datetime, ctx: Context) -> str:
    return moment.astimezone(clock.zone(rules_of(ctx).time_zone)).strftime("%Y-%m-%d %H:%M")


def schedule_message(s: model.Schedule, ctx: Context) -> str:
    if s.status == model.VERIFICATION_REQUIRED:
        return "金额较大，请输入短信验证码确认这笔预约（确认后执行时不再需要验证码）。"
    if s.status == model.ACTIVE and s.run_at:
        return f"将于 {_local(clock.parse(s.run_at), ctx)} 自动执行" + \
            (f"，确保在还款日 {s.period} 前到账。" if s.mode != model.ON_DATE else "。")
    if s.status == model.RUNNING:
        if s.next_step == "retry" and s.run_at:
            return f"上次扣款未成功，将于 {_local(clock.parse(s.run_at), ctx)} 自动重试。"
        return "正在执行，到账后会短信通知您。"
    if s.status == model.CANCELLED:
        return {"verification_failed": "验证未通过，预约已取消。", "bill_deleted": "账单已删除，预约已取消。"}.get(
            s.cancel_reason or "", "预约已取消。")
    return s.runs[-1]["message"] if s.runs else "已完成。"


def schedule_view(s: model.Schedule, ctx: Context) -> dict:
    # Validated from the stored values: ``mode`` and ``status`` are plain strings on the aggregate.
    view = schemas.ScheduleView.model_validate(dict(
        id=s.id, bill_id=s.bill_id, mode=s.mode, status=s.status,
        amount=format_fen(s.amount_fen) if s.amount_fen else None, autopay_full=s.autopay_full,
        max_amount=format_fen(s.max_amount_fen) if s.max_amount_fen else None, run_on=s.run_on, period=s.period,
        runs_at=_local_text(s.run_at, ctx) if s.status in (model.ACTIVE, model.RUNNING) else None,
        message=schedule_message(s, ctx), repayment_id=s.repayment_id,
        verification_expires_at=s.verify_expires_at if s.status == model.VERIFICATION_REQUIRED else None,
        cancel_reason=s.cancel_reason, history=list(s.runs), created_at=s.created_at, updated_at=s.updated_at))
    return view.model_dump(mode="json", exclude_none=True)


def first_run(bill: model.Bill, mode: str, run_on: dt.date | None, ctx: Context) -> tuple[str, dt.datetime]:
    """The period and the moment a new (or changed) schedule runs at; raises when it can't be on time."""
    today = model.local_date(ctx.now, rules_of(ctx).time_zone)
    if mode == model.ON_DATE:
        if run_on is None:   # the request models refuse this already (NewSchedule, ScheduleChange)
            raise refusals.Invalid("run_on：on_date 须填写执行日期。", field="run_on")
        if run_on < today:
            raise refusals.Invalid("run_on：执行日期不能早于今天。", code="run_on_in_past", field="run_on")
        if run_on > today + _HORIZON:
            raise refusals.Invalid("run_on：执行日期最多可设在一年以内。", code="run_on_too_far", field="run_on")
        start = dt.datetime.combine(run_on, model.ON_DATE_TIME, clock.zone(rules_of(ctx).time_zone))
        return run_on.isoformat(), max(start, ctx.now).astimezone(dt.UTC)
    due = bill.due_date_on(today)
    if due is None:
        raise refusals.Invalid("这个账单没有待还的到期日，请先设置还款日。", code="no_due_date", field="mode")
    rule = repay.rules_of(ctx).schedule.rules(bill.kind).arrival
    try:
        return due.isoformat(), model.latest_on_time(rule, due, repay.rules_of(ctx).calendar,
                                                     margin=rules_of(ctx).margin, quiet=rules_of(ctx).quiet,
                                                     now=ctx.now)
    except model.TooLate:
        following = bill.due_date_on(due + dt.timedelta(days=1)) if mode == model.AUTOPAY else None
        if following is None:
            raise
        return following.isoformat(), model.latest_on_time(rule, following, repay.rules_of(ctx).calendar,
                                                           margin=rules_of(ctx).margin, quiet=rules_of(ctx).quiet,
                                                           now=ctx.now)


def _amounts(bill: model.Bill, amount: str | None, max_amount: str | None,
             ctx: Context) -> tuple[int | None, int | None]:
    limit = repay.rules_of(ctx).schedule.rules(bill.kind).limit_fen
    fixed = parse_fen(amount) if amount else None
    cap = parse_fen(max_amount) if max_amount else None
    for name, value in (("amount", fixed), ("max_amount", cap)):
        if value is not None and value > limit:
            raise refusals.Invalid(f"{name}：{repay.KIND_LABELS[bill.kind]}单笔最多 {format_fen(limit)} 元",
                                 code="amount_over_limit", field=name)
    return fixed, cap


def _stepped_up(fixed: int | None, cap: int | None, ctx: Context) -> bool:
    return max(fixed or 0, cap or 0) > repay.rules_of(ctx).step_up_threshold_fen


def _with_code(actor: Actor, s: model.Schedule, ctx: Context) -> tuple[model.Schedule, str]:
    verification = repay.new_verification(s.id, ctx.now, repay.rules_of(ctx).verification_ttl_seconds)
    return (dataclasses.replace(s, status=model.VERIFICATION_REQUIRED, verify_salt=verification.salt,
                                verify_hash=verification.hash, verify_attempts=0,
                                verify_expires_at=verification.expires_at), verification.code)


def _send_code(actor: Actor, s: model.Schedule, code: str, ctx: Context) -> None:
    """The code goes at once (the user is waiting for it), never logged or stored in clear."""
    try:
        phone = sms.user_phone(actor.username)
        if phone:
            amount = format_fen(s.cap_fen() if s.autopay_full else s.fixed_fen())
            minutes = repay.rules_of(ctx).verification_ttl_seconds // 60
            sms.send_sms(phone, f"【RepayDesk】您正在设置预约还款（{'最高 ' if s.autopay_full else ''}{amount} 元），"
                                f"验证码 {code}，{minutes} 分钟内有效。请勿告诉他人。")
    except Exception:
        logger.exception("schedule verification sms failed", extra={"schedule_id": s.id})
        metric("VerificationSmsFailed")


def create_schedule(actor: Actor, bill_id: str, body: schemas.NewSchedule, ctx: Context) -> dict:
    bill = _load_bill(actor, bill_id)
    if body.mode == model.AUTOPAY and bill.kind != "utility":
        raise refusals.Invalid("mode：自动缴费只适用于水、电、燃气账单；信用卡和贷款请用 by_due_date。",
                             code="autopay_utilities_only", field="mode")
    fixed, cap = _amounts(bill, body.amount, body.max_amount, ctx)
    period, run_at = first_run(bill, body.mode, body.run_on, ctx)
    at = clock.isoformat(ctx.now)
    schedule = model.Schedule(id=model.new_id("sc", ctx.now), user_id=actor.user_id, username=actor.username,
                              bill_id=bill.id, mode=body.mode, status=model.ACTIVE, created_at=at, updated_at=at,
                              amount_fen=fixed, autopay_full=body.autopay_full, max_amount_fen=cap,
                              run_on=body.run_on.isoformat() if body.run_on else None, period=period,
                              run_at=clock.isoformat(run_at))
    code = None
    if _stepped_up(fixed, cap, ctx):
        schedule, code = _with_code(actor, schedule, ctx)
    uow = store.begin()
    store.save_new_schedule(uow, schedule, rules_of(ctx).time_zone)
    uow.commit()
    if code:
        _send_code(actor, schedule, code, ctx)
    logger.info("repayment scheduled", extra={"schedule_id": schedule.id, "mode": schedule.mode,
                                              "status": schedule.status, "user": user_hash(actor.user_id)})
    metric("RepaymentScheduled", mode=schedule.mode)
    return schedule_view(schedule, ctx)


def list_schedules(actor: Actor, query: schemas.PageQuery, ctx: Context) -> dict:
    after = _decode_cursor(query.cursor, _SCHEDULE_ID) if query.cursor else None
    found, last = store.schedules_page(actor.user_id, limit=query.limit, after_id=after)
    return {"items": [schedule_view(s, ctx) for s in found],
            "next_cursor": _encode_cursor(last) if last else None}


def get_schedule(actor: Actor, schedule_id: str, ctx: Context) -> dict:
    return schedule_view(_load_schedule(actor, schedule_id), ctx)


def _save(s: model.Schedule, expected_version: int, ctx: Context) -> bool:
    uow = store.begin()
    store.save_schedule(uow, s, expected_version, rules_of(ctx).time_zone)
    try:
        uow.commit()
    except store.Conflict:
        return False
    return True


def change_schedule(actor: Actor, schedule_id: str, change: schemas.ScheduleChange, ctx: Context) -> dict:
    """Until it starts: a new amount (above the step-up threshold: a new SMS code) or a new date."""
    for _ in range(_ROUNDS):
        s = _load_schedule(actor, schedule_id)
        s.check_changeable()
        bill = _load_bill(actor, s.bill_id)
        if change.run_on is not None and s.mode != model.ON_DATE:
            raise refusals.Invalid("run_on：只有 on_date 预约可以改日期。", code="run_on_not_allowed", field="run_on")
        if change.amount is not None and s.autopay_full:
            raise refusals.Invalid("amount：全额自动缴费没有固定金额，可修改 max_amount。", field="amount")
        if change.max_amount is not None and not s.autopay_full:
            raise refusals.Invalid("max_amount：只有全额自动缴费有单次上限。", field="max_amount")
        fixed, cap = _amounts(bill, change.amount, change.max_amount, ctx)
        fields: dict[str, Any] = {}
        if fixed is not None:
            fields["amount_fen"] = fixed
        if cap is not None:
            fields["max_amount_fen"] = cap
        if change.run_on is not None:
            period, run_at = first_run(bill, s.mode, change.run_on, ctx)
            fields.update(run_on=change.run_on.isoformat(), period=period, run_at=clock.isoformat(run_at))
        after, code = s.changed(ctx.now, **fields), None
        if (fixed or cap) and _stepped_up(fixed, cap, ctx):
            after, code = _with_code(actor, after, ctx)
        elif s.status == model.VERIFICATION_REQUIRED and not _stepped_up(after.amount_fen, after.max_amount_fen, ctx):
            after = dataclasses.replace(after, status=model.ACTIVE, verify_hash=None, verify_salt=None,
                                        verify_expires_at=None)
        if not _save(after, s.version, ctx):
            continue
        if code:
            _send_code(actor, after, code, ctx)
        return schedule_view(after, ctx)
    raise refusals.Conflicting()


def cancel_schedule(actor: Actor, schedule_id: str, ctx: Context) -> dict:
    for _ in range(_ROUNDS):
        s = _load_schedule(actor, schedule_id)
        if s.status == model.CANCELLED:
            return schedule_view(s, ctx)
        s.check_changeable()
        after = s.changed(ctx.now, status=model.CANCELLED, cancel_reason="cancelled_by_user", run_at=None,
                          verify_hash=None, verify_salt=None)
        if _save(after, s.version, ctx):
            metric("ScheduleCancelled")
            return schedule_view(after, ctx)
    raise refusals.Conflicting()


def verify_schedule(actor: Actor, schedule_id: str, code: str, ctx: Context) -> dict:
    """The SMS code confirms a large schedule once; its runs then need none (5 minutes, 5 attempts)."""
    rules = repay.rules_of(ctx)
    for _ in range(_ROUNDS):
        s = _load_schedule(actor, schedule_id)
        if s.status != model.VERIFICATION_REQUIRED:
            if s.status in (model.ACTIVE, model.RUNNING, model.COMPLETED):
                return schedule_view(s, ctx)   # confirmed already
            raise refusals.Conflicting("这笔预约已取消。", code="schedule_not_changeable")
        expired = clock.isoformat(ctx.now) >= (s.verify_expires_at or "")
        right = not expired and repay.code_matches(code, salt=s.verify_salt, repayment_id=s.id,
                                                         expected_hash=s.verify_hash)
        if right:
            after = s.changed(ctx.now, status=model.ACTIVE, verify_hash=None, verify_salt=None, verify_expires_at=None)
        else:
            used = s.verify_attempts + (0 if expired else 1)
            done = expired or used >= rules.verification_max_attempts
            after = s.changed(ctx.now, verify_attempts=used, **(dict(
                status=model.CANCELLED, cancel_reason="verification_failed", run_at=None, verify_hash=None,
                verify_salt=None) if done else {}))
        if not _save(after, s.version, ctx):
            continue
        if right:
            return schedule_view(after, ctx)
        if after.status == model.CANCELLED:
            raise refusals.Rejected("验证码已过期或错误次数过多，这笔预约已取消，请重新设置。",
                                  code="verification_failed", details={"attempts_left": 0})
        left = rules.verification_max_attempts - after.verify_attempts
        raise refusals.Rejected(f"验证码不正确，还可以再试 {left} 次。", code="invalid_code", field="code",
                              details={"attempts_left": left})
    raise refusals.Conflicting()
