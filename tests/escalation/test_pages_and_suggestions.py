"""Deflection before a case, the help-centre case page, and the export for a complaint."""
import json
import uuid


def test_suggestions_come_from_the_knowledge_base(api, alice, clock):
    response = api.get("/support/suggestions?q=还款了还没到账", token=alice.token)
    assert response.status == 200, response.text
    items = response.json["items"]
    assert 1 <= len(items) <= 5
    assert any("到账" in item["title"] for item in items)
    assert all(item["url"] == f"/help/articles/{item['id']}" for item in items)


def test_suggestions_say_clearly_when_the_index_is_missing(api, alice, clock, monkeypatch, tmp_path):
    from chalicelib import config
    from chalicelib.search import service as search_service
    monkeypatch.setenv("KB_INDEX_DIR", str(tmp_path / "no-index"))
    config.reload()
    search_service.reset()
    try:
        response = api.get("/support/suggestions?q=还款", token=alice.token)
    finally:
        monkeypatch.delenv("KB_INDEX_DIR")
        config.reload()
        search_service.reset()
    assert response.status == 503 and response.json["error"]["code"] == "kb_unavailable"


def test_suggestions_map_search_results(api, alice, clock, monkeypatch):
    from chalicelib.search import schemas as search_schemas
    from chalicelib.search import service as search_service
    seen = {}

    def fake_search(q, *, limit):
        seen.update(q=q, limit=limit)
        hit = search_schemas.SearchResult(slug="fees", title="手续费说明", category="repayment",
                                          snippet="<mark>手续费</mark>", score=1.0)
        return search_schemas.SearchResponse(query=q, total=1, results=[hit], suggestion=None, took_ms=0.1)
    monkeypatch.setattr(search_service, "search", fake_search)
    body = api.get("/support/suggestions?q=手续费", token=alice.token).json
    assert seen == {"q": "手续费", "limit": 5}
    assert body == {"query": "手续费", "items": [{"id": "fees", "title": "手续费说明",
                                                 "snippet": "<mark>手续费</mark>", "url": "/help/articles/fees"}]}


def test_help_centre_case_page(api, alice, agent, clock, open_case):
    case = open_case(alice, description="还款失败但钱被扣了 <script>alert(1)</script>")
    api.post(f"/support/cases/{case['case_id']}/reply", token=agent.token, json_body={"message": "<b>请稍候</b>"})
    from tests.escalation.test_access_and_input import page_as
    page = page_as(api, alice, f"/help/cases/{case['case_id']}")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert case["case_id"] in html and "一线客服" in html and "等待您回复" in html
    assert "&lt;b&gt;请稍候&lt;/b&gt;" in html and "<b>请稍候</b>" not in html  # escaped
    signed_out = api.get(f"/help/cases/{case['case_id']}")   # a browser without a session: sign in first
    assert signed_out.status == 303 and signed_out.headers["location"].startswith("/help/login?next=")


def test_export_json_and_printable_html(api, alice, lead, clock, open_case):
    import uuid

    from tests.repay.conftest import card
    repayment_id = api.post("/repayments", json_body=card("100.00"), token=alice.token,
                            headers={"Idempotency-Key": uuid.uuid4().hex}).json["id"]
    case_id = open_case(alice, category="repayment_failed", description="还款失败但银行卡已扣款",
                        repayment_id=repayment_id)["case_id"]
    for _ in range(3):  # staff escalate at will (an owner waits for each step's answer)
        api.post(f"/support/cases/{case_id}/escalate", token=lead.token, json_body={"reason": "没有解决"},
                 headers={"Idempotency-Key": uuid.uuid4().hex})
    exported = api.get(f"/support/cases/{case_id}/export", token=alice.token)
    assert exported.status == 200
    assert exported.headers["content-disposition"] == f'attachment; filename="{case_id}.json"'
    data = exported.json
    assert data["reference"] == case_id and data["repayment_id"] == repayment_id and data["step"] == "legal_guidance"
    assert [e["event"] for e in data["timeline"]] == ["created", "escalated", "escalated", "escalated"]
    assert {"12363", "12378", "12315"} <= {r["contact"] for r in data["legal_routes"]}
    json.dumps(data)
    printable = api.get(f"/support/cases/{case_id}/export.html", token=alice.token)
    assert printable.status == 200 and printable.headers["content-type"].startswith("text/html")
    assert case_id in printable.text and "12363" in printable.text and "还款失败但银行卡已扣款" in printable.text


def test_responses_match_the_declared_models(api, alice, agent, clock, open_case):
    from chalicelib.escalation import schemas
    case = open_case(alice)
    schemas.CaseView.model_validate(case)
    schemas.CaseView.model_validate(api.get(f"/support/cases/{case['case_id']}", token=agent.token).json)
    schemas.QueuePage.model_validate(api.get("/support/queues/frontline", token=agent.token).json)
    schemas.CaseList.model_validate(api.get("/support/cases", token=alice.token).json)
    schemas.CaseExport.model_validate(api.get(f"/support/cases/{case['case_id']}/export", token=alice.token).json)
    paths = api.get("/openapi.json").json["paths"]
    assert {"/support/cases", "/support/cases/{case_id}/escalate", "/support/queues/{step}",
            "/support/accounts/{user_id}/unfreeze", "/help/cases/{case_id}"} <= set(paths)
