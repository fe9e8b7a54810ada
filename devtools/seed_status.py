"""A demo service notice for ``make serve``: 招商银行's card channel "under maintenance" for the next 6 hours, posted
by ``lead`` through the service — on /help, the credit-card articles, the new-工单 form, a 招商银行 card's quote, the
agent queue and ``GET /status`` until it ends (docs/status.md)."""
from __future__ import annotations

import datetime as dt

from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.status import schemas, service


def seed(users) -> None:
    ctx = Context.current()
    lead = Actor(user_id=users["lead"].user_id, username="lead", roles=frozenset({"senior-support"}))
    ends = (ctx.now + dt.timedelta(hours=6)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    text = f"招商银行信用卡还款通道维护中，预计 {ends:%H:%M} 恢复，期间还款可能延迟到账"
    service.post(lead, schemas.NewNotice.model_validate({"text": text, "scope": "issuer:招商银行",
                                                         "ends_at": ends.isoformat()}), ctx)
    print(f"[seed] status: a service notice on 招商银行 cards until {ends:%m-%d %H:%M} (Beijing time)", flush=True)
