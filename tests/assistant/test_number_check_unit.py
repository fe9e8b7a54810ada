"""Is this number ours? (``facts.number_facts`` and the ``number_check`` provider): the message as typed reaches
the check in memory only — the stored conversation, the answer and the events keep mobile numbers masked. An
official hotline, a 95xxx / 400 number that is not ours, and a mobile number (never official)."""
from __future__ import annotations

import json

import pytest

from chalicelib.assistant import codec, facts, service
from chalicelib.kernel.context import Context

pytestmark = pytest.mark.unit

ALICE = "u-alice"
MOBILE = "13912345678"


def ctx() -> Context:
    return Context.current()


def verdict(found) -> str:
    return next(f.value for f in found.facts if f.label == "结论")


def test_the_official_hotline_is_official_as_it_is_written():
    found = facts.number_facts("010-0000-1001 这个电话是你们的吗")
    assert verdict(found) == "官方号码" and "客服热线" in found.text
    assert not any(o.id == "freeze_account" for o in found.actions)


@pytest.mark.parametrize("typed", ["95555 打电话给我说是客服", "400-123-4567 是官方的吗", "4001234567"])
def test_a_95xxx_or_400_number_that_is_not_ours_is_said_plainly(typed):
    found = facts.number_facts(typed)
    assert verdict(found) == "不是本钱包的号码" and "不是本钱包的号码" in found.text
    assert "010-0000-1001" in found.text                           # the official numbers, to call back
    assert [o.id for o in found.actions] == ["freeze_account", "handover"]


@pytest.mark.parametrize("typed", [MOBILE, "139 1234 5678", "+86 139-1234-5678", "139****5678"])
def test_a_mobile_number_is_never_official_and_the_answer_says_what_to_do(typed):
    found = facts.number_facts(f"{typed} 打电话说是你们客服 让我转账")
    assert verdict(found) == "手机号码，不是本钱包的号码"
    assert "从不用个人手机号" in found.text and "冒充" in found.text and "冻结账户" in found.text
    assert "96110" in found.text                                   # where to report it
    assert MOBILE not in found.text + json.dumps([f.value for f in found.facts], ensure_ascii=False)
    assert "139****5678" in found.text
    assert [o.id for o in found.actions] == ["freeze_account", "handover"]


def test_a_mobile_number_typed_in_the_chat_is_checked_but_stored_masked(talk):
    said = service.take_turn(ctx(), ALICE, text=f"刚才 {MOBILE} 打电话说是你们客服，让我转账到安全账户")
    reply = said.reply
    assert "手机号码" in reply.text and "不是本钱包的号码" in reply.text
    assert "结论：手机号码，不是本钱包的号码" in reply.facts
    assert "freeze_account" in [a.id for a in reply.actions]
    stored = json.dumps(codec.to_data(talk.store.get(ALICE, said.conversation_id)), ensure_ascii=False)
    assert MOBILE not in stored and "139****5678" in stored
    assert MOBILE not in json.dumps(talk.events, ensure_ascii=False)


def test_the_official_number_typed_in_the_chat_is_confirmed(talk):
    said = service.take_turn(ctx(), ALICE, text="010-0000-1001 这个号码是你们的客服电话吗")
    assert "结论：官方号码" in said.reply.facts and "官方客服热线" in said.reply.text


def test_a_tap_after_the_message_still_knows_a_masked_mobile(talk):
    first = service.take_turn(ctx(), ALICE, text=f"有人冒充客服给我打电话 号码 {MOBILE}")
    assert "verify_number" in [a.id for a in first.reply.actions]
    tapped = service.take_turn(ctx(), ALICE, conversation_id=first.conversation_id, action="verify_number")
    assert "手机号码" in tapped.reply.text and "139****5678" in tapped.reply.text      # from the masked message
    stored = talk.store.get(ALICE, first.conversation_id)
    assert MOBILE not in json.dumps(codec.to_data(stored), ensure_ascii=False)
