"""Demo bills for ``make serve``: alice's card is due in 3 days (its reminder goes on the first sweep, unless
it is night in Shanghai: then at 08:00) with a repayment scheduled to arrive by the due date; bob has
electricity autopay."""
from __future__ import annotations

import datetime as dt

from chalicelib.bills import schemas, service
from chalicelib.kernel import clock
from chalicelib.kernel.actor import Actor

CARD = "6225880137654324"  # a Luhn-valid demo number (only issuer, last 4 and a token are kept)


def seed(users) -> None:
    ctx = service.current()
    due = (clock.now().astimezone(clock.zone(ctx.settings.time_zone)) + dt.timedelta(days=3)).date().isoformat()
    alice = Actor(user_id=users["alice"].user_id, username="alice")
    card = service.create_bill(alice, schemas.NewBill.model_validate({
        "payee": {"kind": "credit_card", "issuer": "招商银行", "card_number": CARD},
        "statement_due_date": due, "name": "招行信用卡"}), ctx)
    try:
        service.create_schedule(alice, card["id"], schemas.NewSchedule.model_validate(
            {"mode": "by_due_date", "amount": "1500.00"}), ctx)
    except Exception as exc:   # e.g. a holiday stretch makes it too late: the bill and its reminders stay
        print(f"[seed] bills: no schedule for alice's card ({exc})", flush=True)
    bob = Actor(user_id=users["bob"].user_id, username="bob")
    power = service.create_bill(bob, schemas.NewBill.model_validate({
        "payee": {"kind": "utility", "utility": "electricity", "city": "上海", "biller": "国网上海市电力公司",
                  "account_number": "3100654321"}, "due_day": 20}), ctx)
    service.create_schedule(bob, power["id"], schemas.NewSchedule.model_validate(
        {"mode": "autopay", "autopay_full": True, "max_amount": "500.00"}), ctx)
    print(f"[seed] bills: alice's card due {due} (3-day reminder on the next sweep, by day), scheduled to arrive "
          f"by then; bob's electricity on autopay", flush=True)
