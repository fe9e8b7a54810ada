"""The lead's team page and an agent's own status switch over HTTP on moto (#25 item 3, ``web/agent_team.py``):
the same service checks as ``/support/agents*`` (leads only, CSRF, conditional assignment)."""
from __future__ import annotations

import re


def _open_case(api, user) -> str:
    opened = api.post("/support/cases", token=user.token,
                      json_body={"category": "repayment_failed", "description": "还款失败了，钱却扣了"})
    assert opened.status == 201, opened.text
    return opened.json["case_id"]


def _agent_block(page_text: str, name: str) -> str:
    found = re.search(rf'data-testid="agent" data-name="{name}">(.*?)</li>\s*(?:<li class="card"|</ul>)',
                      page_text, re.S)
    assert found, f"no row for {name}"
    return found.group(1)


def test_an_agent_switches_available_on_the_queue_and_away_hands_the_case_back(signed_in, api, agent, alice):
    staff = signed_in("agent", door="agent")
    queue = staff.get("/agent")
    assert queue.status == 200 and 'data-testid="go-available"' in queue.text   # registered: offline
    case_id = _open_case(api, alice)                                             # waits in the pool
    assert staff.post("/agent/status", {"status": "available"}).status in (400, 403)   # no CSRF token: nothing
    assert api.get(f"/support/cases/{case_id}", token=agent.token).json["assignee"] is None
    went = staff.post("/agent/status", {"csrf_token": staff.csrf(queue), "status": "available"})
    assert went.status == 303 and "moved=1" in went.headers["location"]
    assert api.get(f"/support/cases/{case_id}", token=agent.token).json["assignee"] == "agent"
    queue = staff.get("/agent")
    assert '在线接单' in queue.text and '1 个工单随之移动' not in queue.text
    away = staff.post("/agent/status", {"csrf_token": staff.csrf(queue), "status": "away"})
    assert away.status == 303
    assert api.get(f"/support/cases/{case_id}", token=agent.token).json["assignee"] is None
    assert staff.post("/agent/status", {"csrf_token": staff.csrf(queue), "status": "asleep"}).status in (400, 422)


def test_the_lead_sets_status_and_capacity_and_reassigns_on_the_team_page(signed_in, api, agent, make_user, lead,
                                                                       alice):
    make_user("agent2", role="support", phone="+8613800138005")
    for name in ("agent", "agent2"):
        signed_in(name, door="agent").get("/agent")           # each registers by opening the queue
    boss = signed_in("lead", door="agent")
    page = boss.get("/agent/team")
    assert page.status == 200 and 'data-testid="nav-team"' in page.text
    assert "最近在线" in page.text and "一线客服" in _agent_block(page.text, "agent")
    # the lead resets another member's two-factor sign-in from here (docs/front-doors.md)
    assert 'href="/agent/staff/agent2/mfa-reset"' in _agent_block(page.text, "agent2")
    token = boss.csrf(page)
    for name in ("agent", "agent2"):
        assert boss.post("/agent/team/capacity", {"csrf_token": token, "name": name, "capacity": "1"}).status == 303
        assert boss.post("/agent/team/status", {"csrf_token": token, "name": name, "status": "available"}).status \
            == 303
    first = _open_case(api, alice)
    carrier = api.get(f"/support/cases/{first}", token=lead.token).json["assignee"]
    other = "agent2" if carrier == "agent" else "agent"
    page = boss.get("/agent/team")
    assert first in _agent_block(page.text, carrier) and first not in _agent_block(page.text, other)
    moved = boss.post("/agent/team/reassign", {"csrf_token": token, "case_id": first, "assignee": other})
    assert moved.status == 303
    assert api.get(f"/support/cases/{first}", token=lead.token).json["assignee"] == other
    # The other agent is now full (capacity 1): giving them a second 工单 is refused, nothing moves.
    second = _open_case(api, alice)
    assert api.get(f"/support/cases/{second}", token=lead.token).json["assignee"] == carrier
    full = boss.post("/agent/team/reassign", {"csrf_token": token, "case_id": second, "assignee": other})
    assert full.status == 409 and "已达上限" in full.text and "/agent/team" in full.text
    assert api.get(f"/support/cases/{second}", token=lead.token).json["assignee"] == carrier
    # The lead sends the other agent away: their 工单 goes back to the pool (the carrier is full: it waits).
    gone = boss.post("/agent/team/status", {"csrf_token": token, "name": other, "status": "away"})
    assert gone.status == 303
    page = boss.get("/agent/team")
    assert 'data-testid="waiting">1<' in page.text and first in page.text
    assert first not in _agent_block(page.text, other) and "暂离" in _agent_block(page.text, other)
    # More room for the carrier pulls it from the pool; a lead gives a new waiting one to someone by name.
    more = boss.post("/agent/team/capacity", {"csrf_token": token, "name": carrier, "capacity": "2"})
    assert more.status == 303 and "moved=1" in more.headers["location"]
    assert api.get(f"/support/cases/{first}", token=lead.token).json["assignee"] == carrier
    third = _open_case(api, alice)
    page = boss.get("/agent/team")
    assert f'data-testid="pool-row" data-case="{third}"' in page.text
    given = boss.post("/agent/team/reassign", {"csrf_token": token, "case_id": third, "assignee": other})
    assert given.status == 303 and api.get(f"/support/cases/{third}", token=lead.token).json["assignee"] == other


def test_the_team_page_and_its_forms_are_the_leads_only(signed_in, api, agent, lead):
    staff = signed_in("agent", door="agent")
    queue = staff.get("/agent")
    # The JSON twin of the status form: the same service, the same lead-only check.
    put = "/support/agents/agent/status"
    assert api.request("PUT", put, token=agent.token, json_body={"status": "away"}).status == 403
    assert api.request("PUT", put, token=lead.token, json_body={"status": "asleep"}).status in (400, 422)
    changed = api.request("PUT", put, token=lead.token, json_body={"status": "available"})
    assert changed.status == 200 and changed.json["status"] == "available" and changed.json["last_seen"]
    assert 'data-testid="nav-team"' not in queue.text
    assert staff.get("/agent/team").status == 403
    token = staff.csrf(queue)
    assert staff.post("/agent/team/capacity", {"csrf_token": token, "name": "agent", "capacity": "50"}).status == 403
    assert staff.post("/agent/team/status", {"csrf_token": token, "name": "agent", "status": "away"}).status == 403
    boss = signed_in("lead", door="agent")
    page = boss.get("/agent/team")
    assert boss.post("/agent/team/capacity", {"name": "agent", "capacity": "2"}).status in (400, 403)   # no CSRF
    bad = boss.post("/agent/team/capacity", {"csrf_token": boss.csrf(page), "name": "agent", "capacity": "lots"})
    assert bad.status in (400, 422) and "1 到 100" in bad.text
    nobody = boss.post("/agent/team/status", {"csrf_token": boss.csrf(page), "name": "nobody", "status": "away"})
    assert nobody.status == 404
    assert boss.post("/agent/team/reassign", {"csrf_token": boss.csrf(page), "case_id": "x",
                                              "assignee": "agent"}).status in (400, 422)
