"""The leads' access records over HTTP (moto): ``GET /support/access-records`` for senior-support only, JSON and
CSV, and the workspace page ``/agent/access`` with its CSV link; a search naming a user shows up there."""
from __future__ import annotations

import urllib.parse

import pytest

from tests.web.staff import signed_in


@pytest.fixture
def searched(api, alice, agent):
    """alice has a 工单 and the agent looked her up by name (an access record)."""
    opened = api.post("/support/cases", token=alice.token,
                      json_body={"category": "fees", "description": "手续费多收了五元，请核实"})
    assert opened.status == 201, opened.text
    found = api.get("/support/cases/search?user=alice", token=agent.token)
    assert [c["case_id"] for c in found.json["items"]] == [opened.json["case_id"]]
    return opened.json["case_id"]


def test_a_lead_lists_who_looked_and_an_agent_may_not(api, agent, lead, alice, searched):
    refused = api.get("/support/access-records", token=agent.token)
    assert refused.status == 403 and refused.json["error"]["code"] == "forbidden_role"
    listed = api.get("/support/access-records?" + urllib.parse.urlencode({"staff": "agent"}), token=lead.token)
    assert listed.status == 200, listed.text
    [row] = listed.json["items"]
    assert row["user_id"] == alice.user_id and row["case_ids"] == [searched] and row["staff_role"] == "support"
    assert api.get("/support/access-records?staff=lead", token=lead.token).json["items"] == []
    csv = api.get(f"/support/access-records?format=csv&user_id={alice.user_id}", token=lead.token)
    assert csv.status == 200 and "text/csv" in csv.headers["content-type"] and searched in csv.text
    bad = api.get("/support/access-records?since=yesterday", token=lead.token)
    assert bad.status == 400


def test_the_access_page_and_its_csv_link(signed_in, agent, lead, alice, searched):
    page = signed_in(lead).get("/agent/access")
    assert page.status == 200 and 'data-testid="access-record"' in page.text and searched in page.text
    assert 'href="/agent/access.csv?' in page.text
    csv = signed_in(lead).get("/agent/access.csv?staff=agent")
    assert csv.status == 200 and searched in csv.text
    assert signed_in(agent).get("/agent/access").status == 403
