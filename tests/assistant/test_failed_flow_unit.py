"""A failed flow opens a 工单 by itself (``chalicelib/assistant/failed.py``), on the in-memory twins with alice's
seeded repayments: a retry that fails again, an action refused for a reason the user cannot fix, two messages in a
row not understood — each opens one 工单 with the story, tells its reference, and never a second one; a repayment
that already has an open 工单 reuses it (escalation's ``duplicate_case`` 409) instead of failing."""
from __future__ import annotations

import pytest

from chalicelib.assistant import failed, service
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.repay import schemas
from chalicelib.repay import service as repay
from devtools import seed_repay

pytestmark = pytest.mark.unit

ALICE = "u-alice"
# ``.61`` fails for insufficient funds on every attempt (repay/connector.py); the only failed card payment of alice
CARD_EVERY_TIME = {"amount": "300.61", "payee": {"kind": "credit_card", "issuer": "招商银行",
                                                 "card_number": seed_repay.CARD}}


def ctx() -> Context:
    return Context.current()


def settlements(memory) -> list:
    return [m for m in memory.outbox.messages() if m.channel == "sqs" and m.target.endswith("-settlement")]


@pytest.fixture
def seeded(talk, memory, monkeypatch):
    from chalicelib import config
    monkeypatch.setenv("RECEIPT_SECRET", "test-receipt-key-assistant-0123456789abcdef01")
    config.reload()
    memory.sms.phones.update(alice="+8613800138001")
    for key, body in seed_repay.ALICE:
        repay.create(Actor(ALICE, "alice"), key, schemas.RepaymentRequest.model_validate(body), ctx())
    for message in settlements(memory):
        repay.settle(message.body, ctx())
    return talk


def loan(amount: str) -> dict:
    return next(r for r in repay.history(Actor(ALICE, "alice"), schemas.ListQuery(), ctx())["items"]
                if r["amount"] == amount)


def test_a_retry_that_fails_again_opens_one_case_with_the_story(seeded, memory):
    repay.create(Actor(ALICE, "alice"), "every-time", schemas.RepaymentRequest.model_validate(CARD_EVERY_TIME), ctx())
    repay.settle(settlements(memory)[-1].body, ctx())                      # attempt 1: insufficient funds
    first = service.take_turn(ctx(), ALICE, text="信用卡还款失败了")
    retry = next(a for a in first.reply.actions if a.name == "retry_repayment")
    assert "300.61" in first.reply.text and not first.reply.handover_case_id
    tapped = service.take_turn(ctx(), ALICE, conversation_id=first.conversation_id, action=retry.id)
    assert "处理中" in tapped.reply.text and not tapped.reply.handover_case_id
    assert repay.settle(settlements(memory)[-1].body, ctx()) == "failed"   # attempt 2 fails again

    again = service.take_turn(ctx(), ALICE, conversation_id=first.conversation_id, text="又失败了 怎么回事")
    assert "余额不足" in again.reply.text                                   # what happened is still said …
    case_id = again.reply.handover_case_id
    [case] = seeded.cases.cases_of_user(ALICE)
    assert case_id == case.case_id and f"工单号 {case.case_id}" in again.reply.text   # … and the 工单's reference
    assert case.category == "repayment_failed" and case.repayment_id == loan("300.61")["id"]
    assert "重试还款后再次失败（第 2 次尝试" in case.description and "用户：又失败了 怎么回事" in case.description
    assert "助手：" in case.description and "300.61" in case.description
    assert "handover" not in [a.id for a in again.reply.actions]
    handovers = [f for kind, f in seeded.events if kind == "assistant.handover"]
    assert handovers == [{"conversation": first.conversation_id, "intents": ["repayment_failed"], "case": True,
                          "auto": True}]

    later = service.take_turn(ctx(), ALICE, conversation_id=first.conversation_id, text="还是失败 转人工")
    assert later.reply.handover_case_id == case_id and "已经转给人工" in later.reply.text
    assert len(seeded.cases.cases_of_user(ALICE)) == 1                     # never two for one conversation


def test_an_action_refused_for_a_reason_the_user_cannot_fix_hands_over(seeded):
    first = service.take_turn(ctx(), ALICE, text="还款又失败了咋回事")
    retry = next(a for a in first.reply.actions if a.name == "retry_repayment")
    repay.freeze_account(ALICE, reason="测试：账户冻结", case_id="RD-TEST")   # frozen in between
    refused = service.take_turn(ctx(), ALICE, conversation_id=first.conversation_id, action=retry.id)
    [case] = seeded.cases.cases_of_user(ALICE)
    assert "冻结" in refused.reply.text and refused.reply.handover_case_id == case.case_id
    assert f"没能帮您办成，已为您转人工，工单号 {case.case_id}" in refused.reply.text
    assert "重试还款被拒绝" in case.description and case.repayment_id == loan("800.51")["id"]


def test_a_refusal_waiting_fixes_is_only_said(seeded, memory):
    from chalicelib.assistant import actions
    from chalicelib.kernel import refusals
    said = actions._polite(refusals.Limited("请 60 秒后再试。"), tried="重新发送验证码")
    assert said.failed and said.escalate is None
    assert actions._polite(refusals.Frozen("账户已冻结。"), tried="重试还款").escalate == "重试还款被拒绝：账户已冻结。"


def test_not_understood_twice_in_a_row_hands_over_once(seeded):
    first = service.take_turn(ctx(), ALICE, text="😭😭😭")
    assert "没太看懂" in first.reply.text and not first.reply.handover_case_id
    assert seeded.store.get(ALICE, first.conversation_id).missed == 1
    second = service.take_turn(ctx(), ALICE, conversation_id=first.conversation_id, text="🙏🙏")
    [case] = seeded.cases.cases_of_user(ALICE)
    assert second.reply.handover_case_id == case.case_id and "没能理解" in second.reply.text
    assert f"工单号 {case.case_id}" in second.reply.text
    assert "连续 2 次没能理解用户的问题" in case.description and "用户：😭😭😭" in case.description
    third = service.take_turn(ctx(), ALICE, conversation_id=first.conversation_id, text="😶")
    assert not third.reply.handover_case_id or third.reply.handover_case_id == case.case_id
    assert len(seeded.cases.cases_of_user(ALICE)) == 1


def test_an_understood_message_in_between_starts_the_count_over(seeded):
    first = service.take_turn(ctx(), ALICE, text="😭😭😭")
    service.take_turn(ctx(), ALICE, conversation_id=first.conversation_id, text="手续费怎么算的")
    third = service.take_turn(ctx(), ALICE, conversation_id=first.conversation_id, text="🙏🙏")
    assert not third.reply.handover_case_id and seeded.cases.cases_of_user(ALICE) == []


@pytest.mark.parametrize(("decision", "intent", "confidence", "articles", "missed"), [
    ("unclear", None, 0.0, False, True), ("search", "fees", 0.1, False, True), ("search", "fees", 0.1, True, False),
    ("search", "out_of_scope", 0.9, False, False), ("search", "out_of_scope", 0.1, False, True),
    ("search", "out_of_scope", 0.1, True, False), ("answer", "fees", 0.9, True, False),
    ("clarify", "fees", 0.4, False, False)])
def test_what_counts_as_not_understood(decision, intent, confidence, articles, missed):
    assert failed.not_understood(decision, intent, confidence, 0.25, articles_found=articles) is missed


def test_two_questions_the_help_articles_answer_never_open_a_case(seeded, monkeypatch):
    """Questions outside the intents that the knowledge base answers are answers, not a failed flow."""
    from chalicelib.assistant import understand
    monkeypatch.setattr(understand, "understand", lambda message: understand.Understanding("search"))
    first = service.take_turn(ctx(), ALICE, text="信用卡还款失败怎么办")
    assert first.reply.articles, "the packaged index answers it with articles"
    second = service.take_turn(ctx(), ALICE, conversation_id=first.conversation_id, text="还款多久到账")
    assert second.reply.articles and not second.reply.handover_case_id
    assert seeded.cases.cases_of_user(ALICE) == []


def test_a_repayment_with_an_open_case_reuses_it_instead_of_a_second(seeded):
    from chalicelib.escalation import service as escalation
    loan_id = loan("800.51")["id"]
    existing = escalation.open_case(Actor(ALICE, "alice"), ctx(), category="repayment_failed",
                                    description="我的贷款还款失败了，请帮忙看看", repayment_id=loan_id).body
    first = service.take_turn(ctx(), ALICE, text="还款又失败了咋回事")
    handed = service.take_turn(ctx(), ALICE, conversation_id=first.conversation_id, text="转人工")
    assert handed.reply.handover_case_id == existing["case_id"]
    assert existing["reference"] in handed.reply.text and "没有再新建" in handed.reply.text
    [case] = seeded.cases.cases_of_user(ALICE)                               # still one 工单 …
    said = [e for e in case.timeline if e.get("event") == "user_message"]
    assert said                                                             # … which heard the conversation
    assert seeded.store.get(ALICE, first.conversation_id).case_id == existing["case_id"]
