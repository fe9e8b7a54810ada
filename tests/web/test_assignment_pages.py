"""Assignment over HTTP on moto (#25 item 3): the 工单 page shows who else is on it; the lead's team view."""
from __future__ import annotations


def _open_case(api, user) -> str:
    opened = api.post("/support/cases", token=user.token,
                      json_body={"category": "repayment_failed", "description": "还款失败了，钱却扣了"})
    assert opened.status == 201, opened.text
    return opened.json["case_id"]


def test_the_case_page_polls_who_else_is_viewing_or_typing(signed_in, api, agent, lead, alice):
    case_id = _open_case(api, alice)
    page = signed_in("agent", door="agent").get(f"/agent/cases/{case_id}")
    assert page.status == 200 and 'data-testid="presence"' in page.text   # empty until the script polls
    agent_b, lead_b = signed_in("agent", door="agent"), signed_in("lead", door="agent")
    assert agent_b.get(f"/agent/cases/{case_id}/updates").json["others"] == []
    seen_by_lead = lead_b.get(f"/agent/cases/{case_id}/updates?typing=1").json["others"]
    assert seen_by_lead == [{"name": "agent", "typing": False}]
    assert agent_b.get(f"/agent/cases/{case_id}/updates").json["others"] == [{"name": "lead", "typing": True}]
    mine = api.get(f"/support/cases/{case_id}", token=alice.token)
    assert "lead" not in mine.text and "typing" not in mine.text


def test_the_lead_sees_each_agents_status_capacity_and_load(api, agent, lead, alice):
    assert api.request("PUT", "/support/agents/me", token=agent.token, json_body={"status": "available"}).status == 200
    assert api.request("PUT", "/support/agents/agent", token=lead.token, json_body={"capacity": 3}).status == 200
    case_id = _open_case(api, alice)
    assert api.get(f"/support/cases/{case_id}", token=agent.token).json["assignee"] == "agent"
    team = api.get("/support/agents", token=lead.token)
    assert team.status == 200
    assert [(a["name"], a["status"], a["capacity"], a["load"]) for a in team.json["agents"]] == \
        [("agent", "available", 3, 1)]
    assert api.get("/support/agents", token=agent.token).status == 403
    assert api.request("PUT", "/support/agents/nobody", token=lead.token, json_body={"capacity": 3}).status == 404
    assert api.request("PUT", "/support/agents/agent", token=lead.token, json_body={"capacity": 0}).status in (400, 422)
