"""The grounded assistant through its facade (``service.take_turn``), on the in-memory twins with alice's seeded
repayments (``devtools/seed_repay.py``): the issue's conversation — "还款又失败了咋回事" → amount, reason and a
retry button → "处理中" → "转人工" → a 工单 with the transcript and the repayment."""
from __future__ import annotations

import pytest

from chalicelib.assistant import service
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.repay import schemas
from chalicelib.repay import service as repay
from devtools import seed_repay

pytestmark = pytest.mark.unit

ALICE, BOB = "u-alice", "u-bob"


def ctx() -> Context:
    return Context.current()


@pytest.fixture
def seeded(talk, memory, monkeypatch):
    from chalicelib import config
    monkeypatch.setenv("RECEIPT_SECRET", "test-receipt-key-assistant-0123456789abcdef01")
    config.reload()
    memory.sms.phones.update(alice="+8613800138001", bob="+8613800138002")
    for actor, rows in ((Actor(ALICE, "alice"), seed_repay.ALICE), (Actor(BOB, "bob"), seed_repay.BOB)):
        for key, body in rows:
            repay.create(actor, key, schemas.RepaymentRequest.model_validate(body), ctx())
    for message in settlements(memory):
        repay.settle(message.body, ctx())
    return talk


def settlements(memory) -> list:
    """The settlement worker's messages (not the repayment-events queue the 工单 listen to)."""
    return [m for m in memory.outbox.messages() if m.channel == "sqs" and m.target.endswith("-settlement")]


def ids(reply) -> list[str]:
    return [a.id for a in reply.actions]


def test_the_issue_conversation_retry_then_handover(seeded, memory):
    first = service.take_turn(ctx(), ALICE, text="还款又失败了咋回事")
    reply = first.reply
    assert "800.51" in reply.text and "余额不足" in reply.text and "insufficient" not in reply.text
    assert "金额：800.51 元" in reply.facts and any(f.startswith("原因：") for f in reply.facts)
    retry = next(a for a in reply.actions if a.name == "retry_repayment")
    assert retry.label == "重试还款"

    tapped = service.take_turn(ctx(), ALICE, conversation_id=first.conversation_id, action=retry.id)
    assert "处理中" in tapped.reply.text
    assert "retry_repayment" not in [a.name for a in tapped.reply.actions]
    with pytest.raises(refusals.Conflicting):          # the same button again: no longer offered, nothing paid
        service.take_turn(ctx(), ALICE, conversation_id=first.conversation_id, action=retry.id)
    sent = settlements(memory)
    assert len(sent) == 6                              # five seeded attempts + exactly one retry

    handed = service.take_turn(ctx(), ALICE, conversation_id=first.conversation_id, text="转人工")
    case_id = handed.reply.handover_case_id
    assert case_id and "工单号" in handed.reply.text
    [case] = seeded.cases.cases_of_user(ALICE)
    assert case.case_id == case_id and case.category == "repayment_failed" and case.username == "alice"
    loan = next(r for r in repay.history(Actor(ALICE, "alice"), schemas.ListQuery(), ctx())["items"]
                if r["amount"] == "800.51")
    assert case.repayment_id == loan["id"]
    assert "用户：还款又失败了咋回事" in case.description and "重试还款" in case.description
    assert seeded.store.get(ALICE, first.conversation_id).case_id == case_id


def test_another_users_repayment_cannot_be_retried_through_a_crafted_action(seeded):
    alice_loan = service.take_turn(ctx(), ALICE, text="还款又失败了咋回事")
    retry = next(a for a in alice_loan.reply.actions if a.name == "retry_repayment")
    bobs = service.take_turn(ctx(), BOB, text="还款失败了")
    with pytest.raises(refusals.Conflicting):          # not offered to bob: refused before anything runs
        service.take_turn(ctx(), BOB, conversation_id=bobs.conversation_id, action=retry.id)


def test_my_case_status_after_a_handover(seeded):
    first = service.take_turn(ctx(), ALICE, text="手续费怎么算的")
    service.take_turn(ctx(), ALICE, conversation_id=first.conversation_id, action="handover")
    status = service.take_turn(ctx(), ALICE, text="我的工单处理到哪了")
    assert any(f.startswith("状态：") for f in status.reply.facts)
    assert any(f.startswith("问题：费用问题") for f in status.reply.facts)


def test_a_settled_repayment_offers_its_receipt(seeded):
    asked = service.take_turn(ctx(), ALICE, text="信用卡还款的电子回单在哪里")
    receipt = next(a for a in asked.reply.actions if a.name == "show_receipt")
    shown = service.take_turn(ctx(), ALICE, conversation_id=asked.conversation_id, action=receipt.id)
    assert any(f.startswith("流水号：RD") for f in shown.reply.facts)
