"""The assistant opened about one repayment (#24 item 1) with ``make serve``'s demo data: the failure notice and the
repayment's page link 「问智能客服」 to ``/help/assistant?repayment=<id>``, which states that repayment's facts as
the first answer without the user typing; a form post (no script) starts the conversation from there; another
user's repayment is a polite refusal with no facts; the app's ``POST /assistant/turns {"repayment_id"}`` does the
same with the same check."""
from __future__ import annotations

import html
import re

KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
ASK = re.compile(r'<a href="(/help/assistant\?repayment=[^"]+)" data-testid="ask-assistant">问智能客服</a>')


def test_the_failure_notice_opens_the_assistant_about_that_repayment(api, demo, signed_in):
    loan = demo.repayment("alice", "800.51")           # failed, insufficient funds: retryable
    alice = signed_in("alice")
    inbox = alice.get("/help/notices")
    links = {html.unescape(link) for link in ASK.findall(inbox.text)}
    assert f"/help/assistant?repayment={loan['id']}" in links    # on the failure notice of that repayment
    assert 'data-testid="ask-assistant"' in alice.get(f"/help/repayments/{loan['id']}").text
    assert 'href="/help/assistant"' in alice.get("/help/cases").text     # 「我的工单」 links to it too

    page = alice.get(f"/help/assistant?repayment={loan['id']}")
    assert page.status == 200
    assert "800.51 元" in page.text and "余额不足" in page.text and "insufficient" not in page.text
    assert "重试还款" in page.text and 'data-testid="about-repayment"' in page.text
    from chalicelib.assistant import service
    assert service.conversation(demo.users["alice"].user_id) is None       # a look stores nothing

    retry = re.search(r'name="action" value="(retry_repayment:[^"]+)"', page.text).group(1)
    form = {"csrf_token": alice.csrf(page), "idempotency_key": KEY.search(page.text).group(1),
            "conversation_id": "", "repayment_id": loan["id"], "action": retry}
    tapped = alice.post("/help/assistant", form)
    again = alice.post("/help/assistant", form)                        # the same form sent twice
    assert tapped.status == again.status == 303
    shown = alice.get(tapped.headers["location"])
    assert "800.51 元" in shown.text and "处理中" in shown.text          # the opening, the tap and its answer
    stored = service.conversation(demo.users["alice"].user_id)
    assert stored.about == loan["id"] and [t.who for t in stored.turns] == ["assistant", "user", "assistant"]
    now = api.get(f"/repayments/{loan['id']}", token=demo.users["alice"].token).json
    assert now["status"] == "processing" and now["attempt"] == 2      # retried once, not twice


def test_another_users_repayment_is_a_polite_refusal_without_facts(demo, signed_in):
    loan = demo.repayment("alice", "800.51")
    bob = signed_in("bob")
    page = bob.get(f"/help/assistant?repayment={loan['id']}")
    assert page.status == 404 and "只能查看您本人的还款" in page.text
    assert "800.51" not in page.text and 'data-testid="about-repayment"' not in page.text
    assert bob.get("/help/assistant?repayment=../../etc").status == 404
    form = {"csrf_token": bob.csrf(page), "idempotency_key": KEY.search(page.text).group(1), "conversation_id": "",
            "repayment_id": loan["id"], "text": "为什么失败"}
    posted = bob.post("/help/assistant", form)                         # a crafted form: the same refusal
    assert posted.status == 404 and "800.51" not in posted.text
    from chalicelib.assistant import service
    assert service.conversation(demo.users["bob"].user_id) is None


def test_the_app_starts_a_conversation_about_a_repayment(api, demo):
    alice, bob = demo.users["alice"], demo.users["bob"]
    bill = demo.repayment("alice", "88.55")                        # failed electricity bill: not retryable
    first = api.post("/assistant/turns", json_body={"repayment_id": bill["id"]}, token=alice.token)
    assert first.status == 200, first.json
    reply = first.json["reply"]
    assert "88.55 元" in reply["text"] and "状态：还款失败" in reply["facts"]
    assert not any(a["id"].startswith("retry_repayment") for a in reply["actions"])    # a retry would not help
    assert {"id": "handover", "label": "转人工"} in reply["actions"]
    handed = api.post("/assistant/turns", token=alice.token,
                      json_body={"conversation_id": first.json["conversation_id"], "text": "转人工"})
    case = api.get(f"/support/cases/{handed.json['handover']['case_id']}", token=alice.token).json
    assert case["repayment_id"] == bill["id"] and case["category"] == "repayment_failed"

    typed = api.post("/assistant/turns", json_body={"text": "电费还款失败了咋回事"}, token=alice.token).json["reply"]
    assert "88.55 元" in typed["text"] and not any(a["id"].startswith("retry") for a in typed["actions"])  # nor here

    refused = api.post("/assistant/turns", json_body={"repayment_id": bill["id"]}, token=bob.token)
    assert refused.status == 404 and refused.json["error"]["code"] == "repayment_not_found"
    assert "88.55" not in refused.text
    both = api.post("/assistant/turns", token=alice.token,
                    json_body={"repayment_id": bill["id"], "conversation_id": first.json["conversation_id"]})
    assert both.status == 400 and both.json["error"]["code"] == "repayment_with_conversation"
    assert api.post("/assistant/turns", json_body={"repayment_id": "x" * 65}, token=alice.token).status == 400
    spec = api.get("/openapi.json").json
    assert "repayment_id" in str(spec["components"]["schemas"]["TurnRequest"])
