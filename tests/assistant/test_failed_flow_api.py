"""A failed flow over HTTP (moto): two messages in a row the assistant cannot place open one 工单 by themselves,
the answer carries ``handover.case_id`` and the reference, and 转人工 after it is the same 工单."""
from __future__ import annotations

TURNS = "/assistant/turns"


def test_not_understood_twice_opens_one_case_told_by_reference(api, alice):
    first = api.post(TURNS, json_body={"text": "😭😭😭"}, token=alice.token)
    assert first.status == 200 and "handover" not in first.json
    conversation = first.json["conversation_id"]
    second = api.post(TURNS, json_body={"conversation_id": conversation, "text": "🙏🙏"}, token=alice.token)
    assert second.status == 200, second.json
    case_id = second.json["handover"]["case_id"]
    assert f"工单号 {case_id}" in second.json["reply"]["text"]
    assert {"id": "handover", "label": "转人工"} not in second.json["reply"]["actions"]
    case = api.get(f"/support/cases/{case_id}", token=alice.token)
    assert case.status == 200 and "连续 2 次没能理解" in case.json["description"]
    again = api.post(TURNS, json_body={"conversation_id": conversation, "action": "handover"}, token=alice.token,
                     headers={"Idempotency-Key": "tap-after-auto"})
    assert again.status == 200 and again.json["handover"]["case_id"] == case_id
    mine = api.get("/support/cases", token=alice.token)
    assert [c["case_id"] for c in mine.json["items"]].count(case_id) == 1 and len(mine.json["items"]) == 1
