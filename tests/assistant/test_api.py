"""``POST /assistant/turns`` and its anonymous variant over HTTP (moto): the contract, bad input, ownership,
idempotent taps, masking in the stored item."""
from __future__ import annotations

import json

TURNS = "/assistant/turns"


def say(api, user, body, key=None):
    headers = {"Idempotency-Key": key} if key else None
    return api.post(TURNS, json_body=body, token=user.token, headers=headers)


def test_a_conversation_continues_with_its_id_and_offers_handover(api, alice):
    first = say(api, alice, {"text": "还款又失败了咋回事"})
    assert first.status == 200, first.json
    body = first.json
    assert set(body) == {"conversation_id", "reply"}
    assert set(body["reply"]) == {"text", "facts", "actions", "articles"}
    assert "余额不足" in body["reply"]["text"]
    assert {"id": "handover", "label": "转人工"} in body["reply"]["actions"]
    assert any(a["slug"] == "repayment-failed" and a["title"] for a in body["reply"]["articles"])
    second = say(api, alice, {"conversation_id": body["conversation_id"], "text": "验证码收不到"})
    assert second.status == 200 and second.json["conversation_id"] == body["conversation_id"]
    assert "验证码" in second.json["reply"]["text"]


def test_bad_input_is_a_clear_4xx_never_a_500(api, alice):
    cases = [({}, 400), ({"text": ""}, 400), ({"text": "   "}, 400), ({"text": "还" * 10_240}, 400),
             ({"text": 12}, 400), ({"text": "hi", "extra": 1}, 400), ({"conversation_id": "../x", "text": "hi"}, 400),
             ({"action": "drop table"}, 400)]
    for body, status in cases:
        response = say(api, alice, body)
        assert response.status == status, (body, response.json)
        assert set(response.json["error"]) >= {"code", "message"}
    assert say(api, alice, {"text": "还" * 10_240}).json["error"]["code"] == "text_too_long"
    response = api.post(TURNS, body=b"{not json", token=alice.token)
    assert response.status == 400
    odd = api.post(TURNS, body='{"text": "\\ud800\\u0000还款失败"}', token=alice.token)   # a lone surrogate, a NUL
    assert odd.status == 200 and "余额不足" in odd.json["reply"]["text"]
    emoji = say(api, alice, {"text": "😭😭😭🙏"})
    assert emoji.status == 200 and "没太看懂" in emoji.json["reply"]["text"]


def test_another_users_conversation_is_404_and_untouched(api, alice, bob):
    mine = say(api, alice, {"text": "手续费怎么算"}).json["conversation_id"]
    for body in ({"conversation_id": mine, "text": "你好"},):
        response = say(api, bob, body)
        assert response.status == 404 and response.json["error"]["code"] == "conversation_not_found"
    response = say(api, bob, {"conversation_id": mine, "action": "handover"}, key="bob-tap")
    assert response.status == 404
    from chalicelib.assistant import service
    assert len(service.conversation(alice.user_id, mine).turns) == 2


def test_a_tap_needs_a_key_and_a_retried_tap_replays_instead_of_running_twice(api, alice):
    first = say(api, alice, {"text": "🙏"}).json
    tap = {"conversation_id": first["conversation_id"], "action": "clarify:verification_code"}
    assert say(api, alice, tap).json["error"]["code"] == "idempotency_key_missing"
    once = say(api, alice, tap, key="tap-1")
    again = say(api, alice, tap, key="tap-1")
    assert once.status == again.status == 200
    assert again.headers.get("idempotent-replayed") == "true" and again.json == once.json
    from chalicelib.assistant import service
    assert len(service.conversation(alice.user_id, first["conversation_id"]).turns) == 4
    stale = say(api, alice, tap, key="tap-2")     # the button is no longer on the last answer
    assert stale.status == 409 and stale.json["error"]["code"] == "action_unavailable"


def test_card_numbers_are_masked_in_the_stored_conversation(api, alice, aws):
    from chalicelib.adapters import aws as clients
    from chalicelib.config import settings
    said = say(api, alice, {"text": "我的卡 6222021234567890123 还款失败"}).json
    item = clients.table(settings().assistant_table).get_item(
        Key={"pk": f"USER#{alice.user_id}", "sk": f"CONV#{said['conversation_id']}"})["Item"]
    assert "6222021234567890123" not in json.dumps(item, default=str)
    assert "**** 0123" in item["data"] and int(item["expires_at"]) > 0


def test_anonymous_visitors_get_knowledge_base_answers_only(api):
    response = api.post("/assistant/public/turns", json_body={"text": "kefu dianhua"})
    assert response.status == 200
    assert response.json["conversation_id"] is None
    assert response.json["reply"]["actions"] == [] and response.json["reply"]["articles"]
    refused = api.post("/assistant/public/turns", json_body={"action": "handover"})
    assert refused.status == 400
    assert api.post(TURNS, json_body={"text": "hi"}).status == 401
