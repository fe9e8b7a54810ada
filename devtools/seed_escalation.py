"""Demo cases for ``make serve``: alice has a fresh frontline case about her delayed card repayment, bob's fees
case (about his gas bill) is with senior support. Each names the user's own seeded repayment (``seed_repay``) when
there is one, so 关联还款 shows a real repayment."""
from __future__ import annotations

from chalicelib.escalation import service
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context


def _repayment(actor: Actor, amount: str) -> str | None:
    """The id of the user's own seeded repayment of ``amount`` (their history, newest first), if any."""
    from chalicelib.repay import schemas
    from chalicelib.repay import service as repay
    page = repay.history(actor, schemas.ListQuery(limit=50), repay.current())
    return next((item["id"] for item in page["items"] if item["amount"] == amount), None)


def _actor(user) -> Actor:
    return Actor(user_id=user.user_id, username=user.username, roles=frozenset({user.role} if user.role else ()))


def seed(users) -> None:
    alice, bob, agent, lead = (_actor(users[name]) for name in ("alice", "bob", "agent", "lead"))
    ctx = Context.current()
    service.open_case(alice, ctx, category="repayment_delay", description="信用卡还款两天了还没到账，银行说没收到",
                      repayment_id=_repayment(alice, "300.56"))
    fees = service.open_case(bob, ctx, category="fees", description="还款时被多收了 5 元手续费，没有提前告知",
                             repayment_id=_repayment(bob, "66.00")).body
    service.reply(agent, ctx, fees["case_id"], "您好，手续费按费率表收取，详情见帮助中心「费用说明」。",
                  await_user=False)
    service.escalate(bob, ctx, fees["case_id"], "解释没有解决问题，我要求退还手续费", f"seed-{fees['case_id']}")
    service.add_note(lead, ctx, fees["case_id"], "核对费率表版本，若为旧版页面展示错误可退费")
    print(f"[seed] escalation: cases for alice and bob (bob's {fees['case_id']} is at senior)", flush=True)
