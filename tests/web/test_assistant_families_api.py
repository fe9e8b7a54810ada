"""``POST /assistant/turns`` for the intent families ``tests/assistant/test_grounded_api.py`` does not reach (#24 "Done
means": an API test for each family with real seeded data), over moto with ``make serve``'s demo data (``demo``:
alice's repayments, saved bill and 工单, settled in process): fees, late fee and due dates, reminders and automatic
repayment, hotline, suspicious call, complaint and escalation rights — the facts a user would notice and the
buttons offered, each tap once. (Repayment failed, not arrived/late, receipt, verification code, stolen account and
工单 status: ``tests/assistant/test_grounded_api.py``; bad input: ``tests/assistant/test_api.py`` and below.)
A few turns per test, three stacks for the module."""
from __future__ import annotations

import uuid

TURNS = "/assistant/turns"


def say(api, token, conversation=None, *, key=None, **body):
    headers = {"Idempotency-Key": key or uuid.uuid4().hex} if "action" in body else None
    sent = {**body, **({"conversation_id": conversation} if conversation else {})}
    response = api.post(TURNS, json_body=sent, token=token, headers=headers)
    assert response.status == 200, response.json
    return response.json


def ids(turn) -> list[str]:
    return [a["id"] for a in turn["reply"]["actions"]]


def slugs(turn) -> list[str]:
    return [a["slug"] for a in turn["reply"]["articles"]]


def test_fees_due_dates_and_reminders_are_the_users_own(api, demo):
    alice = demo.users["alice"].token
    fees = say(api, alice, text="为什么扣了我手续费 有没有隐藏费用")
    facts = fees["reply"]["facts"]
    assert any(f.startswith("最近一笔还款：") for f in facts) and any(f.startswith("手续费：") for f in facts)
    assert any(f.startswith("合计扣款：") for f in facts) and "fees" in slugs(fees)
    assert "没有隐藏费用" in fees["reply"]["text"]

    bill = api.get("/bills", token=alice).json["items"][0]
    due = say(api, alice, fees["conversation_id"], text="逾期了会不会有罚息 我的还款日是哪天")
    assert f"账单：{bill['label']}" in due["reply"]["facts"]
    day = bill["next_due_date"]
    assert f"下个还款日：{int(day[5:7])}月{int(day[8:10])}日" in due["reply"]["facts"]

    assert api.request("PATCH", f"/bills/{bill['id']}", json_body={"reminders": False}, token=alice).status == 200
    asked = say(api, alice, text="怎么设置自动还款和到期提醒")
    facts = asked["reply"]["facts"]
    assert "到期提醒：未开启" in facts and any(f.startswith("自动还款：") for f in facts)
    tap = f"set_reminder:{bill['id']}"
    assert tap in ids(asked)
    once = say(api, alice, asked["conversation_id"], key="remind-1", action=tap)
    again = say(api, alice, asked["conversation_id"], key="remind-1", action=tap)     # the same tap sent twice
    assert again == once and "开启" in once["reply"]["text"]
    assert api.get(f"/bills/{bill['id']}", token=alice).json["reminders"] is True
    stale = api.post(TURNS, token=alice, headers={"Idempotency-Key": "remind-2"},
                     json_body={"conversation_id": asked["conversation_id"], "action": tap})
    assert stale.status == 409 and stale.json["error"]["code"] == "action_unavailable"   # no longer applies


def test_hotline_and_a_suspicious_call_are_checked_against_the_directory(api, demo):
    alice = demo.users["alice"].token
    hotline = say(api, alice, text="你们官方客服电话是多少")
    assert "联系我们" in hotline["reply"]["text"] and "find-hotline" in slugs(hotline)
    assert "verify_number" in ids(hotline) and "handover" in ids(hotline)

    call = say(api, alice, text="刚才有人打电话说是客服 让我把钱转到安全账户 号码是 021-87654321")
    assert "不会要求您提供验证码" in call["reply"]["text"] or "verify_number" in ids(call)
    checked = say(api, alice, call["conversation_id"], action="verify_number")
    assert "结论：不是本钱包的号码" in checked["reply"]["facts"] or "结论：疑似诈骗号码" in checked["reply"]["facts"]
    assert "freeze_account" in ids(checked)           # the next step a worried user needs, confirmed first


def test_complaint_rights_name_the_users_own_case_and_bad_input_never_500s(api, demo):
    alice, bob = demo.users["alice"].token, demo.users["bob"].token
    complaint = say(api, alice, text="我要投诉 你们处理太慢了 怎么升级")
    facts = complaint["reply"]["facts"]
    assert any(f.startswith("工单：RD-") for f in facts) and any(f.startswith("状态：") for f in facts)
    assert {"escalate-to-senior", "legal-options"} <= set(slugs(complaint))
    assert "12378" in complaint["reply"]["text"] or "12363" in complaint["reply"]["text"]

    conversation = complaint["conversation_id"]
    bad = [({"text": ""}, 400), ({"text": "还" * 10_240}, 400),
           ({"conversation_id": conversation, "text": "你好"}, 404)]
    for body, status in bad:                               # the last one: alice's conversation, bob's token
        response = api.post(TURNS, json_body=body, token=bob, headers=None)
        assert response.status == status and set(response.json["error"]) >= {"code", "message"}, body
    emoji = say(api, bob, text="😡😡😡")
    assert "没太看懂" in emoji["reply"]["text"] and emoji["reply"]["facts"] == []
