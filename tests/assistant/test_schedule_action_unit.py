"""Scheduling a bill's repayment from the chat (``actions.schedule_repayment`` through the bills facade), on the
in-memory twins at the suite's fixed time (Wed 2026-12-09 10:30 Shanghai): offered only when the message names an
amount, asked first (it moves money later), created once for two taps, with the bills domain's own checks."""
from __future__ import annotations

import pytest

from chalicelib.assistant import service
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from devtools import seed_repay

pytestmark = pytest.mark.unit

ALICE = Actor(user_id="u-alice", username="alice")


def ctx() -> Context:
    return Context.current()


@pytest.fixture
def card_bill(talk, memory):
    from chalicelib.bills import schemas as bill_schemas
    from chalicelib.bills import service as bills
    memory.sms.phones.update(alice="+8613800138001")
    return bills.create_bill(ALICE, bill_schemas.NewBill.model_validate({
        "payee": {"kind": "credit_card", "issuer": "招商银行", "card_number": seed_repay.CARD},
        "statement_due_date": "2026-12-15", "name": "招行信用卡", "reminders": True}), ctx())


def schedules():
    from chalicelib.bills import schemas as bill_schemas
    from chalicelib.bills import service as bills
    return bills.list_schedules(ALICE, bill_schemas.PageQuery(), ctx())["items"]


def ids(reply) -> list[str]:
    return [a.id for a in reply.actions]


def test_an_amount_in_the_message_offers_the_schedule_asked_first_and_created_once(card_bill, talk):
    asked = service.take_turn(ctx(), ALICE.user_id, text="信用卡能不能每个月自动还款 500 元", actor=ALICE)
    offer = f"schedule_repayment:{card_bill['id']}:500.00"
    assert offer in ids(asked.reply) and "12月15日" in asked.reply.text
    confirm = service.take_turn(ctx(), ALICE.user_id, conversation_id=asked.conversation_id, action=offer, actor=ALICE)
    assert "确认为招商银行信用卡（尾号 4324）预约还款 500.00 元吗" in confirm.reply.text
    assert schedules() == []                                                    # nothing yet
    done = service.take_turn(ctx(), ALICE.user_id, conversation_id=asked.conversation_id,
                             action=f"{offer}:confirm", actor=ALICE)
    [made] = schedules()
    assert made["mode"] == "by_due_date" and made["amount"] == "500.00" and made["status"] == "active"
    assert "已为招商银行信用卡（尾号 4324）预约还款 500.00 元" in done.reply.text and "2026-12-15" in done.reply.text
    from chalicelib.assistant import actions  # the same tap again (a re-sent form)
    again = actions.schedule_repayment(ALICE, ctx(), f"{card_bill['id']}:500.00:confirm",
                                       conversation_id=asked.conversation_id)
    assert "已为招商银行信用卡（尾号 4324）预约还款" in again.text and len(schedules()) == 1
    later = service.take_turn(ctx(), ALICE.user_id, text="自动还款设置好了吗", actor=ALICE)
    assert "预约" in later.reply.text and not any(a.startswith("schedule_repayment") for a in ids(later.reply))


def test_without_an_amount_it_asks_for_one_and_offers_nothing_that_moves_money(card_bill):
    asked = service.take_turn(ctx(), ALICE.user_id, text="怎么设置自动还款", actor=ALICE)
    assert "告诉我金额" in asked.reply.text
    assert not any(a.startswith("schedule_repayment") for a in ids(asked.reply))


def test_the_bills_domain_refuses_what_it_would_refuse_on_the_api(card_bill):
    from chalicelib.assistant import actions
    over = actions.schedule_repayment(ALICE, ctx(), f"{card_bill['id']}:900000.00:confirm", conversation_id="c1")
    assert over.failed and "最多" in over.text and schedules() == []
    bobs = actions.schedule_repayment(Actor("u-bob", "bob"), ctx(), f"{card_bill['id']}:500.00:confirm",
                                      conversation_id="c2")
    assert bobs.failed and "没有找到" in bobs.text and schedules() == []


def test_a_large_amount_waits_for_the_sms_code(card_bill, memory):
    from chalicelib.assistant import actions
    done = actions.schedule_repayment(ALICE, ctx(), f"{card_bill['id']}:49000.00:confirm", conversation_id="c3")
    [made] = schedules()
    assert made["status"] == "verification_required" and "验证码" in done.text
