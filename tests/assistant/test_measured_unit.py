"""The 智能客服 measured (#24 item 6): real conversations through ``take_turn`` (fixed clock, in-memory twins) →
the events they record → the self-service report's rollup (split across slots and merged, as the job does) →
conversations, intents, actions, handovers and "resolved without a 工单" per intent; nothing personal in them."""
from __future__ import annotations

import datetime as dt

import pytest

from chalicelib.assistant import service
from chalicelib.insight import metrics, tally
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context

pytestmark = pytest.mark.unit

CAROL, DAN = Actor("u-carol", "carol"), Actor("u-dan", "dan")


def turn(who: Actor, conversation=None, **said):
    return service.take_turn(Context.current(), who.user_id, conversation_id=conversation, actor=who, **said)


def report(events: list[dict]) -> dict[str, metrics.Table]:
    half = len(events) // 2                       # two slots, merged as the hour's rollup is
    hour = tally.merge([tally.summarize(events[:half]), tally.summarize(events[half:])])
    day = dt.date(2026, 11, 24)
    tables = metrics.self_service_report([("H#2026-11-24T10", hour)], [], metrics.Filters(day, day), {})
    return {t.name: t for t in tables}


def test_conversations_intents_handovers_and_self_resolved_per_intent(talk):
    first = turn(CAROL, text="收不到验证码")
    assert "resolved" in [a.id for a in first.reply.actions]
    turn(CAROL, first.conversation_id, action="resolved")            # solved by the assistant: no 工单
    other = turn(DAN, text="收不到验证码 13800138000")
    turn(DAN, other.conversation_id, text="转人工")                    # dan wanted a person
    events = [{"kind": kind, **fields} for kind, fields in talk.events]

    tables = report(events)
    [overall] = tables["assistant"].rows
    assert overall == [2, 0, 1, 1, 0.5]       # conversations, clarifying, handovers, resolved, resolved share
    rows = {r[0]: r for r in tables["assistant_intents"].rows}
    code = rows["verification_code"]
    assert code[1] == 2 and code[3] == 1 and code[4] == 1      # asked twice, one handed over, one self-resolved
    assert tables["assistant_intents"].chart and tables["assistant_intents"].chart["kind"] == "hbar"
    text = repr(events)
    assert "13800138000" not in text and "carol" not in text and "u-carol" not in text   # nothing personal


def test_older_rollups_without_assistant_counts_still_report_zeros():
    day = dt.date(2026, 11, 24)
    old = {"search": [1, 0, 0, 0], "queries": {}, "articles": {}}
    tables = {t.name: t for t in metrics.self_service_report([("H#2026-11-24T10", old)], [],
                                                              metrics.Filters(day, day), {})}
    assert tables["assistant"].rows == [[0, 0, 0, 0, None]] and tables["assistant_intents"].rows == []
