"""One vocabulary per audience (issue #20, part 4): what the owner reads of a 工单's history through the API
and the export, and what staff read of the same history."""
from __future__ import annotations

import datetime as dt
import json
import re

from tests.escalation.conftest import key

STAFF_REASON = "内部：疑似银行代扣通道故障，需高级客服向银行核实"
SUMMARY = "银行已于今天退回扣款 800.51 元，请查收银行卡。"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _repeats(text: str, size: int = 4) -> set[str]:
    """Phrases of ``size`` characters that occur twice in one line ("客服已答复…：客服已答复…")."""
    grams = [text[i:i + size] for i in range(len(text) - size + 1)]
    return {g for g in grams if grams.count(g) > 1}


def _walk(api, alice, agent, lead, open_case, clock) -> str:
    """A 工单 that every kind of event has touched: assigned, answered (waiting on the user), the user's
    answer, escalated by staff with an internal reason, resolved by senior support (a few minutes apart)."""
    case_id = open_case(alice, category="repayment_failed", description="还款失败了，但银行卡被扣款了")["case_id"]
    assert api.get("/support/agents/me", token=lead.token).status == 200   # an assignee is a registered agent (#25)
    assert api.post(f"/support/cases/{case_id}/assign", token=agent.token, json_body={"assignee": "lead"}).status == 200
    clock.advance(dt.timedelta(minutes=5))
    assert api.post(f"/support/cases/{case_id}/reply", token=agent.token,
                    json_body={"message": "请提供扣款短信截图", "await_user": True}).status == 200
    clock.advance(dt.timedelta(minutes=5))
    assert api.post(f"/support/cases/{case_id}/messages", token=alice.token,
                    json_body={"message": "截图已上传"}).status == 200
    clock.advance(dt.timedelta(minutes=5))
    moved = api.post(f"/support/cases/{case_id}/escalate", token=agent.token, json_body={"reason": STAFF_REASON},
                     headers=key())
    assert moved.status == 200, moved.text
    clock.advance(dt.timedelta(minutes=5))
    resolved = api.post(f"/support/cases/{case_id}/resolve", token=lead.token, json_body={"summary": SUMMARY})
    assert resolved.status == 200, resolved.text
    return case_id


def test_owner_timeline_has_plain_user_events_without_staff_names_or_reasons(api, alice, agent, lead, clock,
                                                                             open_case):
    case_id = _walk(api, alice, agent, lead, open_case, clock)
    view = api.get(f"/support/cases/{case_id}", token=alice.token).json
    timeline = view["timeline"]
    # the assignment concerns only the teams; the rest, once each, in order
    assert [e["event"] for e in timeline] == ["created", "paused", "resumed", "escalated", "resolved"]
    shown = json.dumps(timeline, ensure_ascii=False)
    for hidden in (STAFF_REASON, "疑似银行代扣", "分配给", '"agent"', '"lead"', agent.user_id, lead.user_id):
        assert hidden not in shown, hidden
    assert not UUID.search(shown)
    assert all(e["reason"] == "" and "by" not in e or e["by"] is None for e in timeline)
    assert timeline[3]["text"] == "工单已转至「高级客服」处理"
    for entry in timeline:
        assert entry["text"] and not _repeats(entry["text"]), entry["text"]
    assert view["status_title"] == "已解决，待您确认"
    # the resolution is the conversation's last message, so the conversation ends with the answer
    last = view["conversation"][-1]
    assert (last["author"], last["text"], last["kind"]) == ("support", SUMMARY, "resolution")
    assert [m["text"] for m in view["conversation"]] == ["请提供扣款短信截图", "截图已上传", SUMMARY]


def test_owner_export_uses_the_same_plain_words(api, alice, agent, lead, clock, open_case):
    case_id = _walk(api, alice, agent, lead, open_case, clock)
    exported = api.get(f"/support/cases/{case_id}/export", token=alice.token)
    assert exported.status == 200
    assert STAFF_REASON not in exported.text and "分配给" not in exported.text and not UUID.search(exported.text)
    assert exported.json["conversation"][-1]["kind"] == "resolution"
    printable = api.get(f"/support/cases/{case_id}/export.html", token=alice.token)
    assert printable.status == 200
    assert STAFF_REASON not in printable.text and "工单已转至「高级客服」处理" in printable.text
    assert "escalated" not in printable.text   # events in words, not codes
    assert "客服（处理结果）" in printable.text and SUMMARY in printable.text


def test_owners_own_escalation_reason_is_quoted_back(api, alice, agent, clock, open_case):
    case_id = open_case(alice)["case_id"]
    api.post(f"/support/cases/{case_id}/reply", token=agent.token,
             json_body={"message": "正在核查", "await_user": True})
    assert api.post(f"/support/cases/{case_id}/escalate", token=alice.token, json_body={"reason": "钱还没到账"},
                    headers=key()).status == 200
    moved = api.get(f"/support/cases/{case_id}", token=alice.token).json["timeline"][-1]
    assert (moved["text"], moved["reason"]) == ("您申请升级至「高级客服」", "钱还没到账")


def test_staff_see_every_event_with_reasons_and_who_acted(api, alice, agent, lead, clock, open_case):
    case_id = _walk(api, alice, agent, lead, open_case, clock)
    view = api.get(f"/support/cases/{case_id}", token=lead.token).json
    events = {e["event"]: e for e in view["timeline"]}
    assert list(events) == ["created", "assigned", "paused", "resumed", "escalated", "resolved"]
    assert events["assigned"]["by_name"] == "agent" and "分配给 lead" in events["assigned"]["text"]
    escalated = events["escalated"]
    assert escalated["reason"] == STAFF_REASON and STAFF_REASON in escalated["text"]
    assert (escalated["by_name"], escalated["by"]) == ("agent", agent.user_id)
    assert events["resolved"]["by_name"] == "lead" and SUMMARY in events["resolved"]["text"]
    assert events["paused"]["text"] == "已答复用户，等待用户回复（暂停计时）"
    # the teams' words, not the owner's
    assert view["status_title"] == "已解决，待用户确认" and view["user_name"] == "alice"
    staff_words = json.dumps({k: view[k] for k in ("status_title", "what_next", "step_description", "timeline")},
                             ensure_ascii=False)
    assert "您" not in staff_words


def test_staff_queue_names_the_user_and_the_subject_and_the_owners_list_names_no_staff(api, alice, agent, clock,
                                                                                      open_case):
    from chalicelib.escalation import wording
    description = "信用卡还款三天了还没到账，银行说没收到，请尽快帮我查一下到底是哪里出了问题"
    case_id = open_case(alice, description=description)["case_id"]
    api.post(f"/support/cases/{case_id}/assign", token=agent.token, json_body={})
    item = next(i for i in api.get("/support/queues/frontline", token=agent.token).json["items"]
                if i["case_id"] == case_id)
    assert (item["user_name"], item["assignee"]) == ("alice", "agent")
    assert len(description) > wording.SUBJECT_CHARS   # a long description: its first words, then "…"
    assert item["subject"] == description[:wording.SUBJECT_CHARS] + "…"
    mine = next(i for i in api.get("/support/cases", token=alice.token).json["items"] if i["case_id"] == case_id)
    assert mine.get("assignee") is None and mine.get("user_name") is None and mine["subject"].startswith("信用卡还款")


def test_display_name_is_a_user_name_or_a_masked_phone_never_an_id():
    from chalicelib.escalation import wording
    assert wording.display_name("alice") == "alice"
    assert wording.display_name("+8613800138001") == "138****8001"
    assert wording.display_name("13912345678") == "139****5678"
    assert wording.display_name("3f2a9c4e-1b7d-4c8e-9a6f-0d5e2b1c7a90") == wording.NO_NAME
    assert wording.display_name("") == wording.NO_NAME
