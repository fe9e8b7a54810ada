"""Fast tier: a conversation opened about one repayment (``take_turn(repayment_id=…)``, ``service.opening``) on the
in-memory twins with alice's seeded repayments — the facts first without a message, nothing stored by a look,
another user's id refused with nothing stored, the providers and the handover keeping to that repayment, and an
intent's record buttons only where a provider offered them."""
from __future__ import annotations

import pytest

from chalicelib.assistant import service
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import Actor
from chalicelib.repay import schemas
from chalicelib.repay import service as repay
from tests.assistant.test_grounded_turns_unit import ALICE, BOB, ctx, seeded  # noqa: F401  (a fixture)

pytestmark = pytest.mark.unit


def mine(user: str, amount: str) -> dict:
    page = repay.history(Actor(user, ""), schemas.ListQuery(limit=20), ctx())["items"]
    return next(item for item in page if item["amount"] == amount)


def test_opened_about_a_repayment_states_it_first_and_keeps_to_it(seeded):  # noqa: F811
    power = mine(ALICE, "88.55")                      # failed utility bill: invalid account, a retry cannot help
    looked, topic = service.opening(ctx(), ALICE, power["id"], Actor(ALICE, "alice"))
    assert topic == "repayment_failed" and "88.55 元" in looked.text and "状态：还款失败" in looked.facts
    assert [a.id for a in looked.actions] == ["resolved", "handover"]
    assert seeded.store.latest(ALICE) is None                                  # a look stores nothing

    first = service.take_turn(ctx(), ALICE, repayment_id=power["id"], actor=Actor(ALICE, "alice"))
    assert first.reply == looked and first.conversation.about == power["id"]
    assert [t.who for t in first.conversation.turns] == ["assistant"]
    # "还款" alone would pick the loan (a card or loan before a utility bill): this conversation is about the bill
    asked = service.take_turn(ctx(), ALICE, conversation_id=first.conversation_id, text="还款为什么失败了")
    assert "88.55 元" in asked.reply.text and not any(a.name == "retry_repayment" for a in asked.reply.actions)
    handed = service.take_turn(ctx(), ALICE, conversation_id=first.conversation_id, text="转人工",
                               actor=Actor(ALICE, "alice"))
    case = seeded.cases.get(handed.reply.handover_case_id)
    assert case.repayment_id == power["id"] and case.category == "repayment_failed"


def test_a_message_or_tap_in_the_same_request_follows_the_opening(seeded):  # noqa: F811
    loan = mine(ALICE, "800.51")
    looked, _ = service.opening(ctx(), ALICE, loan["id"])
    retry = next(a.id for a in looked.actions if a.name == "retry_repayment")
    tapped = service.take_turn(ctx(), ALICE, repayment_id=loan["id"], action=retry, actor=Actor(ALICE, "alice"))
    assert "处理中" in tapped.reply.text
    assert [(t.who, t.action) for t in tapped.conversation.turns] == [("assistant", None), ("user", retry),
                                                                      ("assistant", None)]
    typed = service.take_turn(ctx(), ALICE, repayment_id=loan["id"], text="这笔什么时候到账")
    assert len(typed.conversation.turns) == 3 and typed.conversation.turns[1].text == "这笔什么时候到账"


def test_another_users_or_a_made_up_repayment_is_refused_and_nothing_is_stored(seeded):  # noqa: F811
    bobs = mine(BOB, "66.00")
    for wanted in (bobs["id"], "rp_00000000000000000000", "../../x", ""):
        with pytest.raises(refusals.Missing) as refused:
            service.take_turn(ctx(), ALICE, repayment_id=wanted or "x", text=None)
        assert refused.value.code == "repayment_not_found" and "66.00" not in refused.value.message
    assert seeded.store.latest(ALICE) is None
    started = service.take_turn(ctx(), ALICE, text="你好")
    with pytest.raises(refusals.Invalid) as both:
        service.take_turn(ctx(), ALICE, conversation_id=started.conversation_id, repayment_id=bobs["id"], text="hi")
    assert both.value.code == "repayment_with_conversation"
