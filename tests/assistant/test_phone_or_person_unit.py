"""Asking for a phone number vs asking for a person (#24, h26a): a message that names 人工 but asks for a number
is the hotline, not an instant handover; asking for a person still is one; when the two are close, one clarifying
question offers both, and its 转人工 button is the handover itself. Phrasings here are neither examples of
``intents.yaml`` nor dev-set utterances."""
from __future__ import annotations

import pytest

from chalicelib.assistant import service, understand
from chalicelib.assistant.classifier import Scored
from chalicelib.kernel.context import Context

pytestmark = pytest.mark.unit


def ctx() -> Context:
    return Context.current()


@pytest.mark.parametrize("text", ["人工客服的电话号码多少", "怎么打电话给人工", "找人工的热线是哪个",
                                  "rengong kefu dianhua"])
def test_asking_for_the_number_of_a_person_is_the_hotline(text):
    found = understand.understand(text)
    assert found.decision in ("answer", "clarify") and found.intent == "hotline", (text, found)


@pytest.mark.parametrize("text", ["转人工", "我要人工客服", "帮我找个真人 还款失败了", "rengong"])
def test_asking_for_a_person_is_still_the_handover_at_once(text):
    assert understand.understand(text) == understand.Understanding("answer", "handover", confidence=1.0)


def test_hotline_and_handover_close_get_one_question_with_both():
    found = understand.decide([Scored("hotline", 0.5), Scored("handover", 0.4), Scored("fees", 0.1)])
    assert found.decision == "clarify" and found.options == ("hotline", "handover")


def test_the_clarifying_handover_button_opens_the_case(talk, monkeypatch):
    close = understand.Understanding("clarify", "hotline", options=("hotline", "handover"), confidence=0.5)
    monkeypatch.setattr(understand, "understand", lambda text: close)
    asked = service.take_turn(ctx(), "alice", text="人工那个电话")
    assert [a.id for a in asked.reply.actions][:2] == ["clarify:hotline", "clarify:handover"]
    handed = service.take_turn(ctx(), "alice", conversation_id=asked.conversation_id, action="clarify:handover")
    assert handed.reply.handover_case_id and "工单号" in handed.reply.text
    assert len(talk.cases.cases_of_user("alice")) == 1
    assert [k for k in talk.kinds() if k == "assistant.handover"] == ["assistant.handover"]
