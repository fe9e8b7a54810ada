"""#21.3: one rule for reading a 工单, in the escalation service, for the JSON API and the workspace pages alike:
its owner; staff who may work its step (a frontline agent gets 403 on a senior 工单, as on acting on it);
anyone else 404."""
from __future__ import annotations

import pytest

SENIOR_ONLY = "账户异常登录，余额被转走"
NOTE = "内部：已核实登录 IP 来自境外"


@pytest.fixture
def senior_case(api, alice, lead, clock, open_case, frozen_accounts):
    case_id = open_case(alice, category="account_security", description=SENIOR_ONLY)["case_id"]
    assert api.post(f"/support/cases/{case_id}/notes", token=lead.token, json_body={"text": NOTE}).status == 201
    return case_id


@pytest.mark.parametrize("suffix", ["", "/attachments", "/export", "/export.html", "/repayments"])
def test_a_frontline_agent_reads_no_senior_case_through_the_api(api, agent, lead, senior_case, suffix):
    refused = api.get(f"/support/cases/{senior_case}{suffix}", token=agent.token)
    assert refused.status == 403, refused.text
    assert refused.json["error"]["code"] == "forbidden_role"
    assert SENIOR_ONLY not in refused.text and NOTE not in refused.text
    assert api.get(f"/support/cases/{senior_case}{suffix}", token=lead.token).status == 200


def test_senior_case_json_shows_notes_to_senior_support_only(api, agent, lead, alice, senior_case):
    assert [n["text"] for n in api.get(f"/support/cases/{senior_case}", token=lead.token).json["notes"]] == [NOTE]
    own = api.get(f"/support/cases/{senior_case}", token=alice.token)
    assert own.status == 200 and NOTE not in own.text           # the owner reads it, never the notes


def test_a_frontline_agent_reads_no_senior_queue(api, agent, lead, senior_case):
    refused = api.get("/support/queues/senior", token=agent.token)
    assert refused.status == 403 and refused.json["error"]["code"] == "forbidden_role"
    assert senior_case not in refused.text
    assert senior_case in api.get("/support/queues/senior", token=lead.token).text
    assert api.get("/support/queues/frontline", token=agent.token).status == 200


def test_page_and_api_give_the_same_answer(api, browser_for, agent, demo_password, senior_case):
    b = browser_for()
    assert b.sign_in("agent", "agent", demo_password).status == 303
    page = b.get(f"/agent/cases/{senior_case}")
    assert page.status == api.get(f"/support/cases/{senior_case}", token=agent.token).status == 403
    assert b.get("/agent?step=senior").status == api.get("/support/queues/senior", token=agent.token).status == 403


@pytest.fixture
def demo_password():
    from infra import local
    return local.DEMO_PASSWORD


@pytest.fixture
def browser_for(api):
    from tests.web.conftest import Browser
    return lambda: Browser(api)
