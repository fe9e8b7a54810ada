"""The caller reaches the handover (#24 item 2): the user name comes from the token/session that ``take_turn``
is given, not from a guess — a user without any repayment still gets a 工单 in their own name."""
from __future__ import annotations

import pytest

from chalicelib.assistant import service
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context

pytestmark = pytest.mark.unit

CAROL = Actor("u-carol", "carol")          # signed in, never paid anything through the wallet


def test_a_user_without_repayments_gets_a_handover_case_in_their_own_name(talk):
    first = service.take_turn(Context.current(), CAROL.user_id, text="收不到验证码", actor=CAROL)
    handed = service.take_turn(Context.current(), CAROL.user_id, conversation_id=first.conversation_id,
                               text="转人工", actor=CAROL)
    [case] = talk.cases.cases_of_user(CAROL.user_id)
    assert case.case_id == handed.reply.handover_case_id
    assert case.username == "carol"
    assert "用户：收不到验证码" in case.description          # what she said is in the 工单: not asked again


def test_an_actor_for_another_user_is_refused_before_anything_is_stored(talk):
    with pytest.raises(ValueError):
        service.take_turn(Context.current(), "u-bob", text="转人工", actor=CAROL)
    assert talk.store.latest("u-bob") is None and talk.cases.cases_of_user("u-bob") == []
