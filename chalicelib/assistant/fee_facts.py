"""The ``fee_quote`` fact provider (intent ``fees``, #24): what the user's own latest repayment cost — its fee,
the fee's lines as the fee schedule named them, and the total — read through the repay facade, so "为什么扣了我
手续费" is answered with the user's figures, not only the general rule. Registered with the engine on import
(``service.py`` imports it beside ``grounding``)."""
from __future__ import annotations

from chalicelib.assistant import facts, registry
from chalicelib.kernel.actor import Actor


@registry.fact("fee_quote")
def fee_quote(turn: registry.TurnContext) -> registry.Facts | None:
    actor = turn.actor or Actor(user_id=turn.user_id, username="")
    latest = facts.pick(facts.recent(actor, turn.ctx, limit=10), ("succeeded", "processing", "failed"), turn.text)
    if latest is None:
        return None                      # no repayment yet: the general answer (fees are shown before paying)
    view = facts.load_repayment(actor, turn.ctx, latest["id"]) or latest
    from chalicelib.repay import service as repay  # cold start: repay loads when a turn needs it
    kind = repay.KIND_LABELS.get(view["kind"], "还款")
    lines = [f"最近一笔还款：{kind} · {facts.payee_words(view)} {view['amount']} 元",
             f"手续费：{view['fee']} 元", f"合计扣款：{view['total']} 元"]
    lines += [f"{line['label']}：{line['amount']} 元" for line in view.get("fee_breakdown") or ()
              if line.get("label")]
    return registry.Facts(facts=tuple(lines))
