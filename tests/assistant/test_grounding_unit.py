"""The assistant's facts, actions and handover on the in-memory twins (the fast tier: no moto).

alice's repayments are the demo seed's (``devtools/seed_repay.py``), settled once by the simulator: the loan
of 800.51 fails for insufficient funds (retryable), the electricity bill of 88.55 for an invalid account (not
retryable), the card payment of 1234.50 arrives, and the one of 300.56 is late at the bank.
"""
from __future__ import annotations

import json

import pytest

from chalicelib.assistant import actions, facts, handover
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.repay import schemas
from chalicelib.repay import service as repay
from devtools import seed_repay

pytestmark = pytest.mark.unit

ALICE = Actor(user_id="u-alice", username="alice")
BOB = Actor(user_id="u-bob", username="bob")


def ctx() -> Context:
    return Context.current()


@pytest.fixture
def seeded(memory, monkeypatch):
    """alice's and bob's seed repayments, each settled once; escalation on its in-memory store."""
    from chalicelib import config
    from chalicelib.escalation import repository
    from chalicelib.escalation.memory import MemoryStore
    monkeypatch.setenv("RECEIPT_SECRET", "test-receipt-key-assistant-0123456789abcdef01")
    config.reload()
    memory.sms.phones.update(alice="+8613800138001", bob="+8613800138002")
    for actor, rows in ((ALICE, seed_repay.ALICE), (BOB, seed_repay.BOB)):
        for key, body in rows:
            repay.create(actor, key, schemas.RepaymentRequest.model_validate(body), ctx())
    for message in [m.body for m in memory.outbox.messages() if m.channel == "sqs"]:
        repay.settle(message, ctx())
    with repository.use_store(MemoryStore()) as cases:
        memory.cases = cases
        yield memory


def by_amount(actor: Actor, amount: str) -> dict:
    return next(r for r in facts.recent(actor, ctx()) if r["amount"] == amount)


def fact(grounded, label: str) -> str:
    return next(f.value for f in grounded.facts if f.label == label)


def settlements(twins) -> list[dict]:
    return [json.loads(m.body) for m in twins.outbox.messages()
            if m.channel == "sqs" and m.target.endswith("-settlement")]   # not the repayment-events queue


def test_a_failed_repayment_is_told_with_amount_reason_in_words_and_a_retry(seeded):
    found = facts.repayment_facts(ALICE, ctx(), text="还款又失败了咋回事")
    assert found.repayment_id == by_amount(ALICE, "800.51")["id"]     # the loan, not the later utility bill
    assert fact(found, "金额") == "800.51 元" and fact(found, "状态") == "还款失败"
    assert "余额不足" in fact(found, "原因") and "insufficient" not in found.text
    assert "800.51" in found.text and "微粒贷" in found.text
    assert [a.label for a in found.actions] == ["重试还款", "转人工"]


def test_a_failure_retrying_cannot_fix_offers_no_retry(seeded):
    found = facts.repayment_facts(ALICE, ctx(), text="电费缴费失败了")
    assert fact(found, "金额") == "88.55 元" and "户号" in fact(found, "原因")
    assert not any(a.id.startswith("retry_repayment") for a in found.actions)


def test_a_settled_repayment_offers_its_receipt_not_a_retry(seeded):
    found = facts.repayment_facts(ALICE, ctx(), text="信用卡还款回单", statuses=("succeeded",))
    assert fact(found, "状态") == "已到账" and fact(found, "还款").endswith("尾号 4324")
    assert [a.id.partition(":")[0] for a in found.actions] == ["show_receipt", "handover"]
    shown = actions.show_receipt(ALICE, ctx(), found.actions[0].id.partition(":")[2], conversation_id="c1")
    assert fact(shown, "流水号").startswith("RD") and fact(shown, "校验码") in shown.text
    assert "6225880137654324" not in shown.text + str(shown.facts)


def test_a_late_repayment_says_when_it_arrives(seeded):
    found = facts.repayment_facts(ALICE, ctx(), text="到账太慢了", statuses=("processing",))
    assert fact(found, "状态") == "处理中" and fact(found, "预计到账") and "无需重复还款" in found.text


def test_one_retry_tap_pays_once_even_tapped_twice(seeded):
    loan = by_amount(ALICE, "800.51")
    offered = facts.repayment_facts(ALICE, ctx(), text="还款失败").actions[0]
    argument = offered.id.partition(":")[2]
    first = actions.retry_repayment(ALICE, ctx(), argument, conversation_id="conv-1")
    again = actions.retry_repayment(ALICE, ctx(), argument, conversation_id="conv-1")
    assert "处理中" in first.text and "处理中" in again.text and first.done
    assert [s["attempt"] for s in settlements(seeded) if s["repayment_id"] == loan["id"]] == [1, 2]
    assert repay.get(ALICE, loan["id"], ctx())["attempt"] == 2


def test_a_retry_offered_before_the_repayment_moved_on_answers_politely(seeded):
    loan = by_amount(ALICE, "800.51")
    actions.retry_repayment(ALICE, ctx(), f"{loan['id']}:1", conversation_id="conv-1")
    [body] = [m.body for m in seeded.outbox.messages() if m.channel == "sqs"][-1:]
    assert repay.settle(body, ctx()) == "succeeded"
    late = actions.retry_repayment(ALICE, ctx(), f"{loan['id']}:1", conversation_id="conv-2")
    assert "已经变了" in late.text and "到账" in late.text and not late.actions[0].id.startswith("retry")
    assert len([s for s in settlements(seeded) if s["repayment_id"] == loan["id"]]) == 2


def test_another_users_repayment_is_never_touched(seeded):
    loan = by_amount(ALICE, "800.51")
    tried = actions.retry_repayment(BOB, ctx(), f"{loan['id']}:1", conversation_id="conv-b")
    assert tried.failed and "没有找到" in tried.text
    assert facts.repayment_facts(BOB, ctx(), text=f"查一下 {loan['id']}").failed
    assert repay.get(ALICE, loan["id"], ctx())["status"] == "failed"


def test_handover_opens_one_case_with_the_story_and_the_repayment(seeded):
    loan = by_amount(ALICE, "800.51")
    transcript = (("user", "还款又失败了咋回事 我的卡 6225880137654324 手机 13800138001"),
                  ("assistant", "您的还款没有成功：付款卡余额不足"), ("user", "转人工"))
    opened = handover.open_case(ALICE, ctx(), conversation_id="conv-1", intent="repayment_failed",
                                transcript=transcript, repayment_id=loan["id"], tried=("重试了还款",))
    case = seeded.cases.cases_of_user(ALICE.user_id)[0]
    assert opened.case_id == case.case_id and case.category == "repayment_failed"
    assert case.repayment_id == loan["id"]
    assert "余额不足" in case.description and "助手已尝试：重试了还款" in case.description
    assert "还款又失败了咋回事" in case.description and "**** 4324" in case.description
    assert "6225880137654324" not in case.description and "13800138001" not in case.description
    again = handover.open_case(ALICE, ctx(), conversation_id="conv-1", intent="repayment_failed",
                               transcript=(*transcript, ("user", "转人工")), repayment_id=loan["id"])
    assert again.case_id is None and "已经转给人工" in again.text
    assert len(seeded.cases.cases_of_user(ALICE.user_id)) == 1


def test_a_long_conversation_keeps_its_newest_turns(seeded):
    transcript = tuple(("user", f"第{i}句 " + "很长的话" * 30) for i in range(40))
    text = handover.describe(intent="fees", transcript=transcript, repayment=None, tried=())
    assert len(text) <= 2000 and "第39句" in text and "第0句" not in text and "更早的对话略" in text


def test_theft_freezes_only_on_the_second_tap(seeded):
    asked = actions.freeze_account(ALICE, ctx(), "", conversation_id="conv-t")
    assert [a.id for a in asked.actions][0] == actions.FREEZE_CONFIRM and not repay.is_frozen(ALICE.user_id)
    done = actions.freeze_account(ALICE, ctx(), "confirm", conversation_id="conv-t",
                                  transcript=(("user", "我的账户被盗了"),))
    assert repay.is_frozen(ALICE.user_id) and done.case_id
    case = seeded.cases.cases_of_user(ALICE.user_id)[0]
    assert case.category == "account_security" and case.priority == "P1"
    loan = by_amount(ALICE, "800.51")
    refused = actions.retry_repayment(ALICE, ctx(), f"{loan['id']}:1", conversation_id="conv-t")
    assert refused.failed and "冻结" in refused.text


def test_my_case_status_is_read_from_my_latest_case(seeded):
    assert "没有工单" in facts.case_facts(ALICE, ctx()).text
    handover.open_case(ALICE, ctx(), conversation_id="c", intent="fees", transcript=(("user", "手续费多扣了"),),
                       repayment_id=None)
    status = facts.case_facts(ALICE, ctx())
    assert fact(status, "问题") == "费用问题" and fact(status, "状态") and status.case_id
    assert "没有工单" in facts.case_facts(BOB, ctx()).text


def test_a_number_is_checked_against_the_official_directory(seeded):
    assert "发给我" in facts.number_facts("刚才有人打电话说是客服").text
    checked = facts.number_facts("13912345678 说是你们客服让我转账")
    assert fact(checked, "结论") != "官方号码" and checked.actions[0].id == "freeze_account"


def test_the_due_date_is_told_with_whether_a_retry_now_would_be_late(seeded):
    from chalicelib.kernel import clock
    body = {"amount": "100.51", "due_date": "2026-12-09", "payee": {"kind": "credit_card", "issuer": "招商银行",
                                                                    "card_number": seed_repay.CARD}}
    repay.create(ALICE, "due-today", schemas.RepaymentRequest.model_validate(body), ctx())   # Wed 10:30
    repay.settle([m.body for m in seeded.outbox.messages() if m.channel == "sqs"][-1], ctx())
    morning = facts.repayment_facts(ALICE, ctx(), text="信用卡还款失败")
    assert fact(morning, "金额") == "100.51 元"
    assert fact(morning, "还款日") == "12月9日（按预计到账时间不会逾期）"
    clock.freeze(clock.parse("2026-12-09T10:00:00Z"))          # 18:00 in Shanghai: after the card cut-off
    evening = facts.repayment_facts(ALICE, ctx(), text="信用卡还款失败")
    assert "可能产生逾期费用" in fact(evening, "还款日") and "晚于还款日" in evening.text
    assert fact(evening, "现在重试预计到账").startswith("12月10日")


def test_a_bill_without_reminders_offers_them_and_the_tap_turns_them_on(seeded):
    from chalicelib.bills import schemas as bill_schemas
    from chalicelib.bills import service as bills
    bill = bills.create_bill(ALICE, bill_schemas.NewBill.model_validate({
        "payee": {"kind": "credit_card", "issuer": "招商银行", "card_number": seed_repay.CARD},
        "statement_due_date": "2026-12-12", "name": "招行信用卡", "reminders": False}), ctx())
    found = facts.bill_facts(ALICE, ctx())
    assert fact(found, "下个还款日") == "12月12日" and fact(found, "到期提醒") == "未开启"
    assert [a.id for a in found.actions] == [f"set_reminder:{bill['id']}"]
    done = actions.set_reminder(ALICE, ctx(), bill["id"], conversation_id="c")
    assert done.done and bills.get_bill(ALICE, bill["id"], ctx())["reminders"] is True
    assert actions.set_reminder(BOB, ctx(), bill["id"], conversation_id="c").failed       # not bob's bill


def test_an_open_incident_is_told_instead_of_a_retry_that_would_fail(seeded, monkeypatch):
    """While escalation's incidents (#24 item 5) explain a failure, the assistant says so and offers no retry."""
    from chalicelib.escalation import service as escalation

    class Incident:
        user_sentence = "微粒贷（贷款平台）暂时无法受理还款，我们已知悉并在处理中。现在重试很可能仍会失败。"

    loan = by_amount(ALICE, "800.51")
    monkeypatch.setattr(escalation, "incident_for_repayment",
                        lambda view: Incident() if view["id"] == loan["id"] else None, raising=False)
    found = facts.repayment_facts(ALICE, ctx(), text="还款又失败了咋回事")
    assert Incident.user_sentence in found.text and fact(found, "当前情况") == Incident.user_sentence
    assert not any(a.id.startswith("retry_repayment") for a in found.actions)
    tapped = actions.retry_repayment(ALICE, ctx(), f"{loan['id']}:1", conversation_id="c")   # an old button
    assert Incident.user_sentence in tapped.text and repay.get(ALICE, loan["id"], ctx())["attempt"] == 1
