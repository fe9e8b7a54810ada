"""Ownership, roles, internal notes, and bad input → clear 4xx."""
import uuid

import pytest


def page_as(api, user, path):
    """``path`` as the user's browser sees it: the app's WebView exchanges the bearer token for a session."""
    exchanged = api.post("/help/session", token=user.token, body="{}")
    assert exchanged.status == 303, exchanged.text
    cookie = next(c for c in exchanged.headers["set-cookie"] if c.startswith("rd_session=")).split(";")[0]
    return api.get(path, headers={"Cookie": cookie})


def test_a_user_never_reads_or_moves_another_users_case(api, alice, bob, clock, open_case):
    case_id = open_case(alice)["case_id"]
    for method, path, body in (("GET", "", None), ("POST", "/escalate", {"reason": "不是我的"}),
                               ("POST", "/messages", {"message": "hi"}), ("POST", "/confirm", None),
                               ("POST", "/reopen", {"reason": "再看看"}), ("GET", "/export", None),
                               ("GET", "/export.html", None)):
        response = api.request(method, f"/support/cases/{case_id}{path}", token=bob.token, json_body=body,
                               headers={"Idempotency-Key": uuid.uuid4().hex})
        assert response.status == 404, (path, response.text)
        assert response.json["error"]["code"] == "case_not_found"
    assert page_as(api, bob, f"/help/cases/{case_id}").status == 404
    assert api.get("/support/cases", token=bob.token).json["items"] == []


def test_internal_notes_never_reach_the_user(api, alice, agent, clock, open_case):
    case_id = open_case(alice)["case_id"]
    secret = "内部备注：疑似重复投诉"
    assert api.post(f"/support/cases/{case_id}/notes", token=agent.token, json_body={"text": secret}).status == 201
    api.post(f"/support/cases/{case_id}/reply", token=agent.token, json_body={"message": "您好，正在处理"})
    for path in ("", "/export", "/export.html"):
        body = api.get(f"/support/cases/{case_id}{path}", token=alice.token).text
        assert secret not in body and '"notes"' not in body
    own_page = page_as(api, alice, f"/help/cases/{case_id}")
    assert own_page.status == 200 and "您好，正在处理" in own_page.text and secret not in own_page.text
    assert agent.user_id not in api.get(f"/support/cases/{case_id}", token=alice.token).text  # staff ids stay internal
    assert secret in api.get(f"/support/cases/{case_id}", token=agent.token).text


def test_support_routes_need_a_support_role(api, alice, clock, open_case):
    case_id = open_case(alice)["case_id"]
    for path, body in (("notes", {"text": "x"}), ("reply", {"message": "x"}), ("resolve", {"summary": "已处理"}),
                       ("assign", {})):
        response = api.post(f"/support/cases/{case_id}/{path}", token=alice.token, json_body=body)
        assert response.status == 403, path
    assert api.get("/support/queues/frontline", token=alice.token).status == 403
    assert api.post(f"/support/accounts/{alice.user_id}/unfreeze", token=alice.token).status == 403


def test_owner_only_actions_are_refused_to_staff(api, alice, agent, clock, open_case):
    case_id = open_case(alice)["case_id"]
    response = api.post(f"/support/cases/{case_id}/messages", token=agent.token, json_body={"message": "x"})
    assert response.status == 403 and response.json["error"]["code"] == "owner_only"


def test_every_route_needs_a_token(api, clock):
    for method, path in (("POST", "/support/cases"), ("GET", "/support/cases"),
                         ("GET", "/support/cases/RD-20261124-ABCD"), ("GET", "/support/queues/frontline"),
                         ("GET", "/support/suggestions?q=x")):
        assert api.request(method, path).status == 401, path
    # The 工单 page is for a browser: no session → the sign-in page, not the 工单.
    page = api.get("/help/cases/RD-20261124-ABCD")
    assert page.status == 303 and page.headers["location"] == "/help/login?next=/help/cases/RD-20261124-ABCD"


@pytest.mark.parametrize("body, field", [
    ({}, None),
    ({"description": "还款没到账，请帮忙"}, "category"),
    ({"category": "stolen", "description": "还款没到账，请帮忙"}, "category"),
    ({"category": "fees", "description": "短"}, "description"),
    ({"category": "fees", "description": "      "}, "description"),
    ({"category": "fees", "description": 12345678}, "description"),
    ({"category": "fees", "description": "x" * 2001}, "description"),
    ({"category": "fees", "description": "收费不合理，请解释", "admin": True}, "admin"),
    ({"category": "fees", "description": "收费不合理，请解释", "repayment_id": "../../etc"}, "repayment_id"),
    ({"category": "fees", "description": "收费不合理，请解释", "repayment_id": 5}, "repayment_id"),
])
def test_bad_case_bodies_are_400(api, alice, clock, body, field):
    response = api.post("/support/cases", token=alice.token, json_body=body)
    assert response.status == 400, response.text
    assert response.json["error"]["message"]
    if field:
        assert response.json["error"]["field"] == field


def test_malformed_requests_are_4xx(api, alice, agent, clock, open_case):
    assert api.post("/support/cases", token=alice.token, body="not json").status == 400
    assert api.post("/support/cases", token=alice.token, body="[1,2]").status == 400
    case_id = open_case(alice)["case_id"]
    assert api.post(f"/support/cases/{case_id}/escalate", token=alice.token, json_body={}).status == 400
    assert api.post(f"/support/cases/{case_id}/escalate", token=alice.token, json_body={"reason": 1}).status == 400
    assert api.post(f"/support/cases/{case_id}/reply", token=agent.token,
                    json_body={"message": "好", "await_user": "yes"}).status == 400
    assert api.get("/support/cases/RD-20261124-ABCD", token=alice.token).status == 404
    assert api.get("/support/cases/not-a-reference", token=alice.token).status == 404
    assert api.get("/support/queues/nowhere", token=agent.token).status == 404
    assert api.get("/support/queues/frontline?limit=0", token=agent.token).status == 400
    assert api.get("/support/queues/frontline?limit=abc", token=agent.token).status == 400
    bad_cursor = api.get("/support/queues/frontline?cursor=bm90LWEta2V5", token=agent.token)
    assert bad_cursor.status == 400 and bad_cursor.json["error"]["code"] == "invalid_cursor"
    assert api.get("/support/queues/frontline?cursor=%%%", token=agent.token).status == 400
    assert api.get("/support/suggestions", token=alice.token).status == 400
    assert api.get("/support/suggestions?q=" + "长" * 201, token=alice.token).status == 400
    assert api.post(f"/support/accounts/{alice.user_id}/unfreeze", token=alice.token).status == 403


def test_unfreeze_rejects_a_malformed_user_id(api, alice, lead, clock):
    # a path id no id looks like is a 404 before anything else (http.check_path_ids, #21)
    assert api.post("/support/accounts/bad%20id!/unfreeze", token=lead.token).status == 404
    assert api.post("/support/accounts/bad%20id/unfreeze", token=alice.token).status == 404


def test_a_reference_clash_draws_a_new_reference(api, alice, bob, clock, open_case, monkeypatch):
    from chalicelib.escalation import model
    draws = iter(["RD-20261124-AAAA", "RD-20261124-AAAA", "RD-20261124-BBBB"])
    monkeypatch.setattr(model, "new_reference", lambda now, tz: next(draws))
    first = open_case(alice)
    second = open_case(bob)
    assert (first["case_id"], second["case_id"]) == ("RD-20261124-AAAA", "RD-20261124-BBBB")
    assert api.get("/support/cases/RD-20261124-AAAA", token=alice.token).json["description"] == first["description"]


def test_a_case_names_only_the_callers_own_repayment(api, alice, bob, agent, clock, open_case, sms_sent, inbox):
    import uuid

    from tests.repay.conftest import card
    paid = api.post("/repayments", json_body=card("100.00"), token=alice.token,
                    headers={"Idempotency-Key": uuid.uuid4().hex})
    assert paid.status == 201, paid.text
    repayment_id = paid.json["id"]
    texts_before = len(sms_sent())
    for user, named in ((bob, repayment_id), (alice, "rp_" + "0" * 20), (alice, "made-up")):
        refused = api.post("/support/cases", token=user.token, json_body={
            "category": "repayment_delay", "description": "还款三天了还没到账，请帮忙查询", "repayment_id": named})
        assert refused.status == 422, refused.text
        assert refused.json["error"]["code"] == "repayment_not_found"
        assert refused.json["error"]["field"] == "repayment_id"
    # nothing was stored or announced
    assert api.get("/support/cases", token=bob.token).json["items"] == []
    assert api.get("/support/cases", token=alice.token).json["items"] == []
    assert api.get("/support/queues/frontline", token=agent.token).json["items"] == []
    assert len(sms_sent()) == texts_before and inbox("frontline") == []
    own = open_case(alice, repayment_id=repayment_id)
    assert own["repayment_id"] == repayment_id


def test_a_frontline_agent_cannot_note_a_senior_case(api, alice, agent, lead, clock, open_case, frozen_accounts):
    case_id = open_case(alice, category="account_security", description="账户异常登录，余额被转走")["case_id"]
    refused = api.post(f"/support/cases/{case_id}/notes", token=agent.token, json_body={"text": "看一下"})
    assert refused.status == 403 and refused.json["error"]["code"] == "forbidden_role"
    assert api.post(f"/support/cases/{case_id}/notes", token=lead.token, json_body={"text": "已核实"}).status == 201
    assert [n["text"] for n in api.get(f"/support/cases/{case_id}", token=lead.token).json["notes"]] == ["已核实"]


def test_opening_cases_is_rate_limited(api, alice, bob, clock, open_case, sms_sent, inbox):
    for _ in range(10):
        open_case(alice)
    texts, arrived = len(sms_sent()), len(inbox("frontline"))
    refused = api.post("/support/cases", token=alice.token,
                       json_body={"category": "fees", "description": "收费不合理，请解释一下"})
    assert refused.status == 429 and refused.json["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert len(api.get("/support/cases", token=alice.token).json["items"]) == 10
    assert len(sms_sent()) == texts and inbox("frontline") == [] and arrived == 10
    assert open_case(bob)["status"] == "open"  # other users are not affected
