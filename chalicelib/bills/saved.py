"""Saved bills: the catalogue, the utility look-up, and a user's bills (create, list, read, change, delete).

Every write is conditional (new bills on absence, changes and deletes on the version read); a change that
lost a race is decided again on the new state.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import re
from typing import Any

from chalicelib.bills import model, schemas, store
from chalicelib.bills.rules import of as rules_of
from chalicelib.kernel import clock, refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger, metric, user_hash
from chalicelib.kernel.money import format_fen
from chalicelib.repay import service as repay

_BILL_ID = re.compile(r"bl_[0-9a-f]{20}")
_SCHEDULE_ID = re.compile(r"sc_[0-9a-f]{20}")
_ROUNDS = 3

# ---------------------------------------------------------------- catalogue and look-up
def catalogue(query: schemas.CatalogueQuery, ctx: Context) -> dict:
    cat = rules_of(ctx).catalogue
    if query.city is not None and query.city not in cat.billers:
        raise refusals.Missing(f"city：暂未收录“{query.city}”的缴费单位，可选：{'、'.join(cat.billers)}。",
                             code="city_not_found", field="city")
    items = [schemas.CatalogueEntry.model_validate(entry) for entry in cat.entries(query.kind, query.city)]
    return schemas.CatalogueView(version=cat.version, items=items,
                                 cities=sorted(cat.billers)).model_dump(mode="json", exclude_none=True)


def _check_biller(ctx: Context, city: str, utility: str, biller: str) -> None:
    if not rules_of(ctx).catalogue.has_biller(city, utility, biller):
        raise refusals.Invalid(f"payee.biller：{city}的{model.UTILITY_LABELS[utility]}缴费单位中没有“{biller}”，"
                             f"请从 /catalogue?kind=biller&city={city} 中选择。", code="not_in_catalogue",
                             field="payee.biller")


def lookup(actor: Actor, body: schemas.LookupBody, ctx: Context) -> dict:
    """The amount due and the masked account holder, so the user sees they pay the right household."""
    _check_biller(ctx, body.city, body.utility, body.biller)
    found = repay.utility_bill(body.utility, body.biller, body.city, body.account_number)
    if found is None:
        return schemas.LookupView(found=False, message="缴费单位没有查到这个户号，请核对户号（见纸质账单或缴费通知）。"
                                  ).model_dump(mode="json", exclude_none=True)
    return schemas.LookupView(found=True, amount_due=format_fen(found.amount_due_fen),
                              holder_masked=found.holder_masked,
                              message=f"户名 {found.holder_masked}，当前应缴 {format_fen(found.amount_due_fen)} 元。"
                                      f"请核对户名后再缴费。").model_dump(mode="json")


# ---------------------------------------------------------------- bills
def _payee(actor: Actor, payee, ctx: Context) -> dict:
    cat = rules_of(ctx).catalogue
    if payee.kind == "credit_card":
        if not cat.has_issuer(payee.issuer):
            raise refusals.Invalid(f"payee.issuer：不支持“{payee.issuer}”，请从 /catalogue?kind=card_issuer 中选择。",
                                 code="not_in_catalogue", field="payee.issuer")
        token = repay.tokenize_card(actor.user_id, payee.issuer, payee.card_number)
        return {"kind": "credit_card", "issuer": payee.issuer, "card_last4": payee.card_number[-4:],
                "card_token": token}
    if payee.kind == "loan":
        if not cat.has_platform(payee.platform):
            raise refusals.Invalid(f"payee.platform：“{payee.platform}”不在持牌借款平台名单中，"
                                 f"请从 /catalogue?kind=loan_platform 中选择。", code="not_in_catalogue",
                                 field="payee.platform")
        return {"kind": "loan", "platform": payee.platform, "contract_number": payee.contract_number}
    _check_biller(ctx, payee.city, payee.utility, payee.biller)
    found = repay.utility_bill(payee.utility, payee.biller, payee.city, payee.account_number)
    if found is None:
        raise refusals.Invalid("payee.account_number：缴费单位没有查到这个户号，请核对。", code="account_not_found",
                             field="payee.account_number")
    return {"kind": "utility", "utility": payee.utility, "city": payee.city, "biller": payee.biller,
            "account_number": payee.account_number, "holder_masked": found.holder_masked}


def _wake(bill: model.Bill, ctx: Context) -> dt.datetime | None:
    rules = rules_of(ctx)
    if not bill.reminders or not bill.due_date_on(model.local_date(ctx.now, rules.time_zone)):
        return None
    return model.plan_reminders(bill, ctx.now, rules.reminder_days, rules.quiet, rules.time_zone).wake_at


def _local_text(iso: str | None, ctx: Context) -> str | None:
    if not iso:
        return None
    return clock.parse(iso).astimezone(clock.zone(rules_of(ctx).time_zone)).isoformat(timespec="seconds")


def bill_view(bill: model.Bill, ctx: Context) -> dict:
    due = bill.due_date_on(model.local_date(ctx.now, rules_of(ctx).time_zone))
    wake = _wake(bill, ctx)
    next_reminder_at = wake.astimezone(clock.zone(rules_of(ctx).time_zone)).isoformat(timespec="seconds") \
        if wake else None
    # Validated from the stored values: ``kind`` and ``payee`` are a plain string and dict on the aggregate.
    view = schemas.BillView.model_validate(dict(
        id=bill.id, kind=bill.kind, name=bill.name, payee=bill.payee, label=bill.describe(), due_day=bill.due_day,
        statement_due_date=bill.statement_due_date, next_due_date=due.isoformat() if due else None,
        reminders=bill.reminders, next_reminder_at=next_reminder_at, created_at=bill.created_at,
        updated_at=bill.updated_at))
    return view.model_dump(mode="json", exclude_none=True)


_HORIZON = dt.timedelta(days=366)   # dates further ahead are typing mistakes (and would overflow a calendar)


def _check_statement_date(day: dt.date | None, ctx: Context) -> None:
    today = model.local_date(ctx.now, rules_of(ctx).time_zone)
    if day is not None and day < today:
        raise refusals.Invalid("statement_due_date：到期日不能早于今天。", code="due_date_in_past",
                             field="statement_due_date")
    if day is not None and day > today + _HORIZON:
        raise refusals.Invalid("statement_due_date：到期日最多可设在一年以内。", code="due_date_too_far",
                             field="statement_due_date")


def create_bill(actor: Actor, body: schemas.NewBill, ctx: Context) -> dict:
    _check_statement_date(body.statement_due_date, ctx)
    at = clock.isoformat(ctx.now)
    bill = model.Bill(id=model.new_id("bl", ctx.now), user_id=actor.user_id, username=actor.username,
                      kind=body.payee.kind, payee=_payee(actor, body.payee, ctx), created_at=at, updated_at=at,
                      name=body.name, due_day=body.due_day,
                      statement_due_date=body.statement_due_date.isoformat() if body.statement_due_date else None,
                      reminders=body.reminders)
    uow = store.begin()
    store.save_new_bill(uow, bill, _wake(bill, ctx), rules_of(ctx).time_zone)
    uow.commit()
    logger.info("bill saved", extra={"bill_id": bill.id, "kind": bill.kind, "user": user_hash(actor.user_id)})
    metric("BillSaved", kind=bill.kind)
    return bill_view(bill, ctx)


def _encode_cursor(last: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, pattern: re.Pattern) -> str:
    try:
        after = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["after"]
        if not isinstance(after, str) or not pattern.fullmatch(after):
            raise ValueError
        return after
    except (ValueError, KeyError, TypeError):
        raise refusals.Invalid("cursor：翻页标记无效，请从第一页重新查询。", field="cursor") from None


def list_bills(actor: Actor, query: schemas.PageQuery, ctx: Context) -> dict:
    after = _decode_cursor(query.cursor, _BILL_ID) if query.cursor else None
    found, last = store.bills_page(actor.user_id, limit=query.limit, after_id=after)
    return {"items": [bill_view(b, ctx) for b in found],
            "next_cursor": _encode_cursor(last) if last else None}


def _load_bill(actor: Actor, bill_id: str) -> model.Bill:
    bill = store.get_bill(actor.user_id, bill_id) if _BILL_ID.fullmatch(bill_id or "") else None
    if bill is None:
        raise refusals.Missing("找不到这个账单。", code="bill_not_found")
    return bill


def get_bill(actor: Actor, bill_id: str, ctx: Context) -> dict:
    return bill_view(_load_bill(actor, bill_id), ctx)


def update_bill(actor: Actor, bill_id: str, change: schemas.BillChange, ctx: Context) -> dict:
    _check_statement_date(change.statement_due_date, ctx)
    fields: dict[str, Any] = {}
    if change.due_day is not None:
        fields.update(due_day=change.due_day, statement_due_date=None)
    if change.statement_due_date is not None:
        fields.update(statement_due_date=change.statement_due_date.isoformat(), due_day=None)
    if change.reminders is not None:
        fields["reminders"] = change.reminders
    if change.name is not None:
        fields["name"] = change.name
    for _ in range(_ROUNDS):
        bill = _load_bill(actor, bill_id)
        after = bill.changed(ctx.now, **fields)
        uow = store.begin()
        store.save_bill(uow, after, bill.version, _wake(after, ctx), rules_of(ctx).time_zone)
        try:
            uow.commit()
        except store.Conflict:
            continue   # changed (or its wake moved by the sweep) since we read it: apply to the new state
        return bill_view(after, ctx)
    raise refusals.Conflicting()


def delete_bill(actor: Actor, bill_id: str, ctx: Context) -> dict:
    for _ in range(_ROUNDS):
        bill = _load_bill(actor, bill_id)
        if any(s.status in model.OPEN + (model.RUNNING,) for s in store.schedules_of_bill(actor.user_id, bill.id)):
            raise refusals.Conflicting("这个账单还有未执行的预约还款或自动缴费，请先取消。", code="bill_has_schedules")
        uow = store.begin()
        store.remove_bill(uow, actor.user_id, bill.id, bill.version)
        try:
            uow.commit()
        except store.Conflict:
            continue
        logger.info("bill deleted", extra={"bill_id": bill.id, "user": user_hash(actor.user_id)})
        return {"id": bill.id, "deleted": True}
    raise refusals.Conflicting()
