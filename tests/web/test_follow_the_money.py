"""Support that follows the money over the Chalice test client with moto: a settled repayment posts a message in
its 工单 and the owner's page asks whether it is solved; the issue's incident test — a burst of
``biller_unavailable`` failures for one biller opens one incident, groups its 工单, alerts the team once, and one
reply reaches each user."""
from __future__ import annotations

import json
import uuid

import pytest

from tests.repay.conftest import Repay, card, queue_records, run_worker, utility

QUESTION = "这条还款进展是否已解决您的问题？"


def hear(records: list[dict] | None = None) -> list[dict]:
    """The repayment-events worker, as Lambda runs it; the records it got (to deliver them again)."""
    from chalicelib.config import settings
    from chalicelib.routes.incidents import hear_repayments
    records = queue_records(settings().repayment_events_queue) if records is None else records
    if records:
        hear_repayments({"Records": records}, None)
    return records


def open_case(api, user, repayment_id, category="repayment_delay") -> str:
    response = api.post("/support/cases", token=user.token, json_body={
        "category": category, "description": "还款还没有到账，麻烦查一下", "repayment_id": repayment_id})
    assert response.status == 201, response.text
    return response.json["case_id"]


def test_a_settled_repayment_tells_its_case_and_the_page_asks_whether_it_is_solved(
        api, alice, agent, business_morning, signed_in):
    repayment_id = Repay(api, alice).create(card("100.00")).json["id"]
    case_id = open_case(api, alice, repayment_id)
    run_worker()                                           # settles: the outcome goes out with the move
    records = hear()
    assert len(records) == 1
    hear(records)                                          # delivered again: nothing more
    mine = api.get(f"/support/cases/{case_id}", token=alice.token).json
    system = [m for m in mine["conversation"] if m["author"] == "system"]
    assert len(system) == 1 and "已到账" in system[0]["text"]
    assert system[0]["link"] == f"/help/repayments/{repayment_id}/receipt"
    assert mine["update_question"] == QUESTION
    queue = api.get("/support/queues/frontline", token=agent.token).json
    assert [i["update"] for i in queue["items"] if i["case_id"] == case_id] == ["还款已到账"]

    browser = signed_in("alice")
    page = browser.get(f"/help/cases/{case_id}")
    assert QUESTION in page.text and "查看电子回单" in page.text and 'data-testid="update-solved"' in page.text
    bad = browser.post(f"/help/cases/{case_id}/update-answer", {"csrf_token": browser.csrf(page), "solved": "maybe"},
                       headers={"Accept": "text/html"})
    assert bad.status == 422 and "返回" in bad.text        # an error page with a way back, not a 500
    page = browser.get(f"/help/cases/{case_id}")
    done = browser.post(f"/help/cases/{case_id}/update-answer", {"csrf_token": browser.csrf(page), "solved": "yes",
                                                                 "idempotency_key": uuid.uuid4().hex})
    assert done.status == 303
    closed = api.get(f"/support/cases/{case_id}", token=alice.token).json
    assert closed["status"] == "closed" and closed["update_question"] is None
    assert closed["timeline"][-1]["event"] == "solved_by_update"


@pytest.fixture
def threshold_three(aws, monkeypatch):
    from chalicelib import config
    monkeypatch.setenv("INCIDENT_THRESHOLD", "3")
    config.reload()


def team_alerts() -> list[dict]:
    from chalicelib.config import settings
    from chalicelib.escalation import service
    senior = next(s for s in service.STEPS if s.name == "senior")
    bodies = [json.loads(r["body"]) for r in queue_records(senior.queue(settings()))]
    return [b for b in bodies if b.get("event") == "incident.opened"]


def test_a_burst_of_biller_failures_opens_one_incident_and_one_reply_reaches_each_user(
        api, alice, bob, make_user, agent, lead, business_morning, threshold_three):
    carol = make_user("carol", phone="+8613800138005")
    users = (alice, bob, carol)
    repayments = [Repay(api, u).create(utility("100.52")).json["id"] for u in users]   # biller_unavailable
    run_worker()
    cases = [open_case(api, u, r, "repayment_failed") for u, r in zip(users, repayments, strict=True)]
    records = hear()
    hear(records)                                          # every event again: counted and heard once

    listed = api.get("/support/incidents", token=agent.token).json["items"]
    assert len(listed) == 1 and listed[0]["reason"] == "biller_unavailable" and listed[0]["failures"] == 3
    incident_id = listed[0]["incident_id"]
    shown = api.get(f"/support/incidents/{incident_id}", token=lead.token).json
    assert sorted(c["case_id"] for c in shown["cases"]) == sorted(cases)
    assert len(team_alerts()) == 1                         # the team is alerted once

    path = f"/support/incidents/{incident_id}"
    text = "国网上海市电力公司系统故障，预计今天 18:00 前恢复，恢复后请重试，无需重复提交。"
    assert api.get(path, token=alice.token).status == 403
    assert api.post(f"{path}/reply", token=agent.token, json_body={"message": text},
                    headers={"Idempotency-Key": "k-1"}).status == 403
    assert api.post(f"{path}/reply", token=lead.token, json_body={"message": text}).status == 400
    assert api.post(f"{path}/reply", token=lead.token, json_body={"message": "  "},
                    headers={"Idempotency-Key": "k-1"}).status == 400   # an empty message
    assert api.get("/support/incidents/INC-nothing", token=lead.token).status == 404
    sent = api.post(f"{path}/reply", token=lead.token, json_body={"message": text}, headers={"Idempotency-Key": "k-1"})
    again = api.post(f"{path}/reply", token=lead.token, json_body={"message": text}, headers={"Idempotency-Key": "k-1"})
    assert (sent.json["reached"], again.json["reached"], again.json["already"]) == (3, 0, 3)
    for user, case_id in zip(users, cases, strict=True):
        conversation = api.get(f"/support/cases/{case_id}", token=user.token).json["conversation"]
        assert [m["text"] for m in conversation if m["author"] == "support"] == [text]

    assert api.post(f"{path}/close", token=lead.token).json["status"] == "closed"
    assert api.post(f"{path}/close", token=lead.token).status == 409
    spec = api.get("/openapi.json").json["paths"]
    assert {"/support/incidents", "/support/incidents/{incident_id}/reply"} <= set(spec)
