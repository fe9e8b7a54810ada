"""A conversation opened about one repayment (#24 item 1): the failure notice's 「问智能客服」 link
(``/help/assistant?repayment=<id>``) and the app's ``POST /assistant/turns {"repayment_id"}``.

``opening`` states that repayment's facts and offers what applies to it (``facts.describe``: a retry when its
reason is retryable and no open incident explains it, the receipt once settled, a new code while one is
awaited) — the user's first reply, without typing anything. The repayment is looked up among the caller's own
records only: another user's id (or a made-up one) is ``Missing`` (``repayment_not_found``), which looks exactly
like a missing one, and nothing is stated about it.

Nothing here writes: ``service.take_turn`` stores the opening as the conversation's first answer and keeps the
repayment as ``Conversation.about``, which the fact providers fall back on afterwards (``grounding._still_about``)
and the handover links to its 工单.
"""
from __future__ import annotations

from chalicelib.assistant import facts
from chalicelib.assistant.model import RESOLVED, Action, Reply
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context

# What a conversation about a repayment in this state is about (its topic: the handover's category, the report).
INTENT_OF = {"failed": "repayment_failed", "cancelled": "repayment_failed", "processing": "not_arrived",
             "succeeded": "receipt", "verification_required": "verification_code"}
NOT_FOUND = "没有找到这笔还款记录（只能查看您本人的还款）。可以在“我的还款”里确认，或直接告诉我遇到了什么问题。"


def not_found() -> refusals.Missing:
    return refusals.Missing(NOT_FOUND, code="repayment_not_found", field="repayment_id")


def _view(actor: Actor, ctx: Context, repayment_id: str) -> dict | None:
    if not facts.REPAYMENT_ID.fullmatch(repayment_id or ""):
        return None
    return facts.load_repayment(actor, ctx, repayment_id)


def opening(ctx: Context, user_id: str, repayment_id: str, actor: Actor | None = None) -> tuple[Reply, str]:
    """(the first reply about the caller's repayment, its topic); ``Missing`` when it is not theirs."""
    actor = actor or Actor(user_id=user_id, username="")
    view = _view(actor, ctx, repayment_id)
    if view is None:
        raise not_found()
    found = facts.describe(view, ctx)
    offers = tuple(Action(o.id, o.label) for o in found.actions if o.id != facts.HANDOVER.id)
    return (Reply(text=found.text, facts=tuple(f"{f.label}：{f.value}" for f in found.facts),
                  actions=(*offers, Action(RESOLVED, "问题已解决"))),
            INTENT_OF.get(view["status"], "repayment_failed"))

