"""``POST /assistant/turns`` grounded in the user's own records, over moto with the demo seed's repayments
(``devtools/seed_repay.py``, settled by the settlement worker): one test per intent family's facts and actions,
and the handover's 工单."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from devtools import seed_repay
from tests.repay.conftest import run_worker

TURNS = "/assistant/turns"


def say(api, user, conversation=None, **body):
    headers = {"Idempotency-Key": uuid.uuid4().hex} if "action" in body else None
    sent = {**body, **({"conversation_id": conversation} if conversation else {})}
    response = api.post(TURNS, json_body=sent, token=user.token, headers=headers)
    assert response.status == 200, response.json
    return response.json


def action(turn, name):
    return next(a["id"] for a in turn["reply"]["actions"] if a["id"].split(":")[0] == name)


@pytest.fixture
def seeded(api, alice, bob, monkeypatch):
    from chalicelib import config
    monkeypatch.setenv("RECEIPT_SECRET", "test-receipt-key-assistant-0123456789abcdef01")
    config.reload()
    for user, rows in ((alice, seed_repay.ALICE), (bob, seed_repay.BOB)):
        for key, body in rows:
            created = api.post("/repayments", json_body=body, token=user.token, headers={"Idempotency-Key": key})
            assert created.status in (201, 202), created.json
    run_worker()
    return api


def test_failed_repayment_facts_one_retry_and_a_handover_with_the_story(seeded, alice, bob):
    api = seeded
    first = say(api, alice, text="还款又失败了咋回事")
    reply = first["reply"]
    assert "800.51" in reply["text"] and "余额不足" in reply["text"] and "insufficient" not in reply["text"]
    assert "金额：800.51 元" in reply["facts"] and "状态：还款失败" in reply["facts"]
    retry = action(first, "retry_repayment")
    repayment_id = retry.split(":")[1]
    key = {"Idempotency-Key": "tap-1"}
    body = {"conversation_id": first["conversation_id"], "action": retry}
    tapped = api.post(TURNS, json_body=body, token=alice.token, headers=key)
    again = api.post(TURNS, json_body=body, token=alice.token, headers=key)     # the same tap sent twice
    assert tapped.status == again.status == 200 and again.json == tapped.json
    assert "处理中" in tapped.json["reply"]["text"]
    shown = api.get(f"/repayments/{repayment_id}", token=alice.token).json
    assert shown["status"] == "processing" and shown["attempt"] == 2          # one retry, not two

    handed = say(api, alice, first["conversation_id"], text="转人工")
    case_id = handed["handover"]["case_id"]
    case = api.get(f"/support/cases/{case_id}", token=alice.token).json
    assert case["category"] == "repayment_failed" and case["repayment_id"] == repayment_id
    assert "用户：还款又失败了咋回事" in case["description"] and "重试还款" in case["description"]
    assert api.get(f"/support/cases/{case_id}", token=bob.token).status == 404


def test_a_crafted_action_on_another_users_repayment_is_refused(seeded, alice, bob):
    alices = say(seeded, alice, text="还款又失败了咋回事")
    bobs = say(seeded, bob, text="还款又失败了咋回事")
    crafted = seeded.post(TURNS, json_body={"conversation_id": bobs["conversation_id"],
                                            "action": action(alices, "retry_repayment")},
                          token=bob.token, headers={"Idempotency-Key": "crafted"})
    assert crafted.status == 409 and crafted.json["error"]["code"] == "action_unavailable"


def test_late_settled_and_receipt_families(seeded, alice):
    late = say(seeded, alice, text="还款一直显示处理中")
    assert "状态：处理中" in late["reply"]["facts"] and any(f.startswith("预计到账：") for f in late["reply"]["facts"])
    asked = say(seeded, alice, text="怎么下载还款电子回单")
    shown = say(seeded, alice, asked["conversation_id"], action=action(asked, "show_receipt"))
    assert any(f.startswith("流水号：RD") for f in shown["reply"]["facts"])
    assert "6225880137654324" not in str(shown)


def test_verification_code_resend(seeded, alice):
    from chalicelib.kernel import clock
    big = seeded.post("/repayments", token=alice.token, headers={"Idempotency-Key": "big"},
                      json_body={"amount": "6000.00", "payee": {"kind": "credit_card", "issuer": "招商银行",
                                                                 "card_number": seed_repay.CARD}})
    assert big.status == 202
    asked = say(seeded, alice, text="收不到验证码")
    assert "状态：等待短信验证" in asked["reply"]["facts"]
    clock.advance(dt.timedelta(seconds=61))            # past the one-a-minute resend interval
    resent = say(seeded, alice, asked["conversation_id"], action=action(asked, "resend_code"))
    assert "已重新发送" in resent["reply"]["text"]
    assert seeded.get(f"/repayments/{big.json['id']}", token=alice.token).json["timeline"][-1]["event"] == "code_resent"


def test_theft_freezes_only_when_confirmed_and_my_case_status_follows(seeded, alice):
    told = say(seeded, alice, text="我的账户被盗了 有人盗刷")
    asked = say(seeded, alice, told["conversation_id"], action="freeze_account")
    assert "确认要立即冻结" in asked["reply"]["text"]
    loan = action(say(seeded, alice, text="还款又失败了咋回事"), "retry_repayment").split(":")[1]
    assert seeded.post(f"/repayments/{loan}/retry", token=alice.token,
                       headers={"Idempotency-Key": "before"}).status == 200        # not frozen yet
    done = say(seeded, alice, told["conversation_id"], action="freeze_account:confirm")
    assert "已冻结" in done["reply"]["text"] and done["handover"]["case_id"]
    case = seeded.get(f"/support/cases/{done['handover']['case_id']}", token=alice.token).json
    assert case["category"] == "account_security" and case["priority"] == "P1"
    big = seeded.post("/repayments", token=alice.token, headers={"Idempotency-Key": "after"},
                      json_body={"amount": "10.00", "payee": {"kind": "credit_card", "issuer": "招商银行",
                                                               "card_number": seed_repay.CARD}})
    assert big.status == 423                                                 # frozen: nothing moves
    status = say(seeded, alice, text="我的工单处理到哪了")
    assert any(f.startswith("状态：") for f in status["reply"]["facts"])
