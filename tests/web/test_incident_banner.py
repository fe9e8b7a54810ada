"""The incident on the agent's 工单 page (#24 item 5) over the Chalice test client with moto: a 工单 grouped under
a settlement incident shows the banner (kind, scope, since when, how many 工单, whether the lead's one reply went
out and reached it, the link to the incident); the queue marks it; the owner's page never shows staff wording."""
from __future__ import annotations

from tests.repay.conftest import Repay, card, run_worker, utility
from tests.web.test_follow_the_money import hear, open_case, threshold_three  # noqa: F401  (a fixture)


def test_the_agents_case_page_shows_its_incident_and_the_owner_never_does(
        api, alice, bob, make_user, agent, lead, business_morning, threshold_three, signed_in):  # noqa: F811
    carol = make_user("carol", phone="+8613800138005")
    users = (alice, bob, carol)
    repayments = [Repay(api, u).create(utility("100.52")).json["id"] for u in users]   # biller_unavailable
    apart = Repay(api, alice).create(card("100.00")).json["id"]                         # settles: no incident
    run_worker()
    cases = [open_case(api, u, r, "repayment_failed") for u, r in zip(users, repayments, strict=True)]
    plain = open_case(api, alice, apart)
    hear()
    incident_id = api.get("/support/incidents", token=agent.token).json["items"][0]["incident_id"]

    desk = signed_in("agent", door="agent")
    page = desk.get(f"/agent/cases/{cases[0]}")
    assert page.status == 200 and 'data-testid="incident-banner"' in page.text
    assert "收款机构 国网上海市电力公司" in page.text and "暂时无法受理还款" in page.text
    assert 'data-testid="incident-cases">3<' in page.text and f'href="/agent/incidents/{incident_id}"' in page.text
    assert "组长尚未统一答复" in page.text
    assert 'data-testid="incident-banner"' not in desk.get(f"/agent/cases/{plain}").text
    queue = desk.get("/agent?step=frontline").text
    assert queue.count('data-testid="queue-incident"') == 3                 # the queue marks the grouped 工单

    text = "国网上海市电力公司系统故障，预计今天 18:00 前恢复，恢复后请重试。"
    sent = api.post(f"/support/incidents/{incident_id}/reply", token=lead.token, json_body={"message": text},
                    headers={"Idempotency-Key": "k-1"})
    assert sent.json["reached"] == 3
    answered = desk.get(f"/agent/cases/{cases[1]}").text
    assert "组长已统一答复" in answered and "本工单已收到" in answered

    owner = signed_in("alice").get(f"/help/cases/{cases[0]}").text
    assert text in owner                                                    # the lead's reply, in the 工单
    assert incident_id not in owner and "故障事件" not in owner and "incident-banner" not in owner
