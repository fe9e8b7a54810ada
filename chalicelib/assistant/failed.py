"""A failed flow opens a 工单 by itself (issue #24 item 4): the user does not have to find 转人工.

A flow has **failed** when the assistant cannot help any further and the user cannot change that:

1. **a retry that fails again** — the conversation tapped 重试还款 for a repayment, and the repayment is failed at
   a later attempt when the user comes back ("又失败了"): ``grounding.failed_again`` (the provider's
   ``Facts.escalate``);
2. **an action refused for a reason the user cannot fix** — the owning service refused a tapped action as frozen,
   rejected or not allowed, or with ``not_retryable`` (``actions.unfixable``); a refusal that waiting or another
   input fixes (too soon, a limit, a wrong amount, gone) is only said, with 转人工 offered as always;
3. **not understood twice in a row** — ``MISSES`` messages in a row the assistant could not place: a message with
   nothing to understand (only emoji or punctuation), or one it fell back to the knowledge-base search for and
   the search found no article either (a message it *did* recognise as off-topic, "今天天气怎么样", is understood;
   a question the help articles answer — "怎么注销账户" — got an answer: neither counts, so ordinary questions
   outside the intents never open 工单); any understood message or tap starts over.

Then the reply keeps what it said and adds the handover: the same ``handover`` action as 转人工 (the same 工单
content: category, repayment, transcript — with this answer — and what the assistant tried, plus why the flow
failed), once per conversation (a conversation that has its 工单 never opens another; escalation's
``duplicate_case`` 409 for a repayment that already has an open 工单 reuses that one: ``handover._reuse``), and
tells the user the 工单's reference in plain words. Anonymous visitors never reach this (nothing is stored).
"""
from __future__ import annotations

import dataclasses

from chalicelib.assistant import intents, registry
from chalicelib.assistant.model import HANDOVER, Conversation, Reply

MISSES = 2
NOT_UNDERSTOOD = f"连续 {MISSES} 次没能理解用户的问题"
LEAD = "这一步我没能帮您办成，"                       # + the handover's "已为您转人工，工单号 …"
LEAD_NOT_UNDERSTOOD = "抱歉，我还是没能理解您的问题，"


def not_understood(decision: str, intent: str | None, confidence: float, search_below: float, *,
                   articles_found: bool) -> bool:
    """Whether a message's understanding counts as a miss (see 3. above)."""
    if decision == "unclear":
        return True
    return (decision == "search" and not articles_found
            and not (intent == "out_of_scope" and confidence >= search_below))


def misses(conversation: Conversation, missed: bool) -> int:
    return conversation.missed + 1 if missed else 0


def settle(turn: registry.TurnContext, reply: Reply, *, intent_id: str | None, missed: int) -> Reply:
    """The reply as it goes out: with the handover added when the flow failed (else unchanged)."""
    reason = reply.escalate or (NOT_UNDERSTOOD if missed >= MISSES else None)
    if reply.escalate:
        reply = dataclasses.replace(reply, escalate=None)
    handler = registry.ACTIONS.get(HANDOVER)
    if not reason or turn.conversation.case_id or reply.handover_case_id or handler is None:
        return reply
    known = intents.all_intents()
    failing = dataclasses.replace(turn, failure=reason, said=reply.text,
                                  intent=known.get(intent_id or "") or turn.intent)
    opened = handler(failing, "")
    if not opened.handover_case_id:
        return reply            # could not open it now: the answer stands, with 转人工 one tap away as always
    text = LEAD_NOT_UNDERSTOOD + opened.text if reason == NOT_UNDERSTOOD else f"{reply.text}\n{LEAD}{opened.text}"
    return dataclasses.replace(reply, text=text, facts=reply.facts + opened.facts,
                               actions=tuple(a for a in reply.actions if a.id != HANDOVER),
                               handover_case_id=opened.handover_case_id)
