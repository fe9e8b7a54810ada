"""The conversation rules on the in-memory twin: answers, clarifying questions, 转人工, masking, ownership,
actions that no longer apply, and the events the self-service report reads."""
from __future__ import annotations

import pytest

from chalicelib.assistant import registry, service
from chalicelib.assistant.model import mask_numbers
from chalicelib.kernel import refusals
from chalicelib.kernel.context import Context

pytestmark = pytest.mark.unit


def ctx():
    return Context.current()


def ids(reply):
    return [a.id for a in reply.actions]


def test_a_failed_repayment_question_gets_its_answer_articles_and_handover(talk):
    result = service.take_turn(ctx(), "alice", text="还款又失败了咋回事")
    assert "余额不足" in result.reply.text
    assert "repayment-failed" in [a.slug for a in result.reply.articles]
    assert ids(result.reply)[-1] == "handover"
    stored = talk.store.get("alice", result.conversation_id)
    assert [t.who for t in stored.turns] == ["user", "assistant"]
    assert stored.intents == ("repayment_failed",)


def test_handover_is_always_one_tap_away_even_when_not_offered(talk):
    first = service.take_turn(ctx(), "alice", text="你好")
    assert "handover" in ids(first.reply)
    second = service.take_turn(ctx(), "alice", conversation_id=first.conversation_id, action="handover")
    assert "人工" in second.reply.text
    assert "handover" not in ids(second.reply)   # the handover itself does not offer itself again


def test_typing_for_a_person_is_a_handover_whatever_else_is_said(talk):
    result = service.take_turn(ctx(), "alice", text="你们这个机器人听不懂 我要真人 还款失败了")
    stored = talk.store.get("alice", result.conversation_id)
    assert stored.turns[0].intent == "handover"


def test_emoji_only_gets_a_polite_question_with_topic_buttons(talk):
    result = service.take_turn(ctx(), "alice", text="😭😭🙏")
    assert "没太看懂" in result.reply.text
    assert "clarify:repayment_failed" in ids(result.reply)


@pytest.mark.parametrize("text,code", [("", "empty_text"), ("   ", "empty_text"), ("还" * 10_000, "text_too_long")])
def test_empty_or_huge_text_is_refused_and_nothing_is_stored(talk, text, code):
    with pytest.raises(refusals.Invalid) as refused:
        service.take_turn(ctx(), "alice", text=text)
    assert refused.value.code == code
    assert talk.store.items == {}


def test_another_users_conversation_looks_like_none_at_all(talk):
    mine = service.take_turn(ctx(), "alice", text="验证码收不到")
    with pytest.raises(refusals.Missing):
        service.take_turn(ctx(), "bob", conversation_id=mine.conversation_id, text="你好")
    assert service.conversation("bob", mine.conversation_id) is None
    assert len(talk.store.get("alice", mine.conversation_id).turns) == 2


def test_an_action_the_last_answer_did_not_offer_is_refused(talk):
    first = service.take_turn(ctx(), "alice", text="收不到验证码")
    with pytest.raises(refusals.Conflicting) as refused:
        service.take_turn(ctx(), "alice", conversation_id=first.conversation_id, action="clarify:fees")
    assert refused.value.code == "action_unavailable"
    assert len(talk.store.get("alice", first.conversation_id).turns) == 2


def test_a_clarifying_button_answers_that_intent_and_is_recorded(talk):
    first = service.take_turn(ctx(), "alice", text="🙏")
    second = service.take_turn(ctx(), "alice", conversation_id=first.conversation_id,
                               action="clarify:verification_code")
    assert "验证码" in second.reply.text
    assert ("assistant.clarified", {"conversation": first.conversation_id, "intent": "verification_code"}) \
        in talk.events
    # the user's turn reads as the button they tapped, not its id
    assert talk.store.get("alice", first.conversation_id).turns[2].text == "验证码问题"


def test_card_and_phone_numbers_never_reach_the_store_or_the_events(talk):
    result = service.take_turn(ctx(), "alice", text="卡号 6222 0212 3456 7890 123 还款失败 手机13812345678")
    stored = talk.store.items[("alice", result.conversation_id)]
    text = str(stored)
    assert "6222021234567890123" not in text.replace(" ", "") and "13812345678" not in text
    assert "**** 0123" in stored["turns"][0]["text"] and "138****5678" in stored["turns"][0]["text"]
    assert "6222" not in str(talk.events) and "alice" not in str(talk.events)


def test_mask_numbers_keeps_short_numbers_and_amounts():
    assert mask_numbers("还了 1200 元，订单 20261209") == "还了 1200 元，订单 20261209"
    assert mask_numbers("6222-0212-3456-7890") == "**** 7890"


def test_resolved_without_a_case_is_recorded_once_with_its_intents(talk):
    first = service.take_turn(ctx(), "alice", text="手续费怎么算")
    assert "resolved" in ids(first.reply)
    service.take_turn(ctx(), "alice", conversation_id=first.conversation_id, action="resolved")
    resolved = [fields for kind, fields in talk.events if kind == "assistant.resolved"]
    assert resolved == [{"conversation": first.conversation_id, "intents": ["fees"],
                         "user": resolved[0]["user"]}]
    assert talk.kinds().count("assistant.started") == 1


def test_a_registered_fact_provider_grounds_the_answer_and_offers_its_actions(talk, monkeypatch):
    def failed(turn):
        return registry.Facts(facts=("还款金额 ¥1,200.00",), template="failed",
                              values={"when": "今天", "payee": "招商银行信用卡", "amount": "¥1,200.00",
                                      "reason": "余额不足", "advice": "充值后可以重试。"},
                              actions=(registry.Action("retry_repayment:r1", "重试还款"),))

    monkeypatch.setitem(registry.FACTS, "failed_repayment", failed)
    monkeypatch.setitem(registry.ACTIONS, "retry_repayment",
                        lambda turn, argument: service.Reply(text=f"已重新提交 {argument}，处理中"))
    first = service.take_turn(ctx(), "alice", text="还款失败了")
    assert first.reply.text.startswith("您今天向招商银行信用卡的还款 ¥1,200.00 没有成功，原因是余额不足")
    assert first.reply.facts == ("还款金额 ¥1,200.00",)
    assert "retry_repayment:r1" in ids(first.reply)
    second = service.take_turn(ctx(), "alice", conversation_id=first.conversation_id, action="retry_repayment:r1")
    assert second.reply.text == "已重新提交 r1，处理中"
    with pytest.raises(refusals.Conflicting):   # the retry is no longer offered by the last answer
        service.take_turn(ctx(), "alice", conversation_id=first.conversation_id, action="retry_repayment:r1")


def test_anonymous_visitors_get_the_general_answer_only_and_nothing_is_stored(talk):
    result = service.take_turn(ctx(), None, text="还款失败了")
    assert result.conversation_id is None and "余额不足" in result.reply.text
    assert [a.id for a in result.reply.actions] == []
    with pytest.raises(refusals.NotAllowed):
        service.take_turn(ctx(), None, action="handover")
    assert talk.store.items == {} and talk.events == []


def test_a_lost_race_writes_nothing(talk):
    first = service.take_turn(ctx(), "alice", text="你好")
    stale = talk.store.get("alice", first.conversation_id)
    service.take_turn(ctx(), "alice", conversation_id=first.conversation_id, text="验证码收不到")
    from chalicelib.assistant import store
    uow = store.begin()
    store.save(uow, stale.add(), expires_at=0)
    with pytest.raises(store.Conflict):
        uow.commit()
    assert len(talk.store.get("alice", first.conversation_id).turns) == 4


def test_never_two_clarifying_questions_in_a_row(talk, monkeypatch):
    from chalicelib.assistant import understand
    close = understand.Understanding("clarify", "fees", options=("fees", "late_fee_due_date"), confidence=0.4)
    monkeypatch.setattr(understand, "understand", lambda text: close)
    first = service.take_turn(ctx(), "alice", text="多收的钱")
    assert ids(first.reply)[:2] == ["clarify:fees", "clarify:late_fee_due_date"]
    second = service.take_turn(ctx(), "alice", conversation_id=first.conversation_id, text="就是多收的那个钱")
    assert "clarify:fees" not in ids(second.reply) and "没有隐藏费用" in second.reply.text


def test_close_intents_get_one_question_with_both_as_buttons():
    from chalicelib.assistant import understand
    from chalicelib.assistant.classifier import Scored
    found = understand.decide([Scored("not_arrived", 0.45), Scored("repayment_failed", 0.40), Scored("fees", 0.15)])
    assert found.decision == "clarify" and found.options == ("not_arrived", "repayment_failed")
    clear = understand.decide([Scored("not_arrived", 0.80), Scored("repayment_failed", 0.15), Scored("fees", 0.05)])
    assert clear.decision == "answer" and clear.intent == "not_arrived"
    unsure = understand.decide([Scored("fees", 0.20), Scored("receipt", 0.05)] + [Scored("x", 0.05)] * 15)
    assert unsure.decision == "search"
    greeting = understand.decide([Scored("greeting", 0.30), Scored("thanks", 0.2), Scored("fees", 0.2)])
    assert greeting.decision == "answer"   # small talk is never a clarifying question


def test_the_trained_model_reads_typos_pinyin_and_run_on_sentences():
    from chalicelib.assistant import understand
    for text, intent in [("还款失拜了", "repayment_failed"), ("kefu dianhua duoshao", "hotline"),
                         ("yan zheng ma shou bu dao", "verification_code"),
                         ("我昨天还的款钱都扣了 银行那边说还没收到 会不会算我逾期啊", "not_arrived"),
                         ("手续废咋算的", "fees")]:
        found = understand.understand(text)
        assert (found.decision, found.intent) == ("answer", intent), text


def test_a_handover_is_counted_with_what_was_already_answered_and_the_transcript_reads_for_an_agent(talk):
    first = service.take_turn(ctx(), "alice", text="卡号 6222021234567890123 还款失败了")
    service.take_turn(ctx(), "alice", conversation_id=first.conversation_id, text="转人工")
    handovers = [fields for kind, fields in talk.events if kind == "assistant.handover"]
    # the registered handover (h24b, grounding.py) opens a 工单
    assert handovers == [{"conversation": first.conversation_id, "intents": ["repayment_failed"], "case": True}]
    text = service.transcript(talk.store.get("alice", first.conversation_id))
    assert text.splitlines()[0] == "用户：卡号 **** 0123 还款失败了"
    assert text.splitlines()[2] == "用户：转人工" and text.splitlines()[1].startswith("智能客服：还款失败常见的原因")
    short = service.transcript(talk.store.get("alice", first.conversation_id), limit=60).splitlines()
    assert short[0] == "…（更早的对话略）" and short[-1] == text.splitlines()[-1]   # the newest is always kept
