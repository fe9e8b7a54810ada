"""The pages of merging (issue #25 item 2): 「仍要新建」 on the new-工单 form, the agent's merge button, and the
user's 「我的工单」 showing one 工单 afterwards."""
from __future__ import annotations

import re
import uuid

from tests.repay.conftest import card
from tests.web.test_my_cases import _case_id, _open


def test_the_form_offers_the_open_case_then_the_agent_merges_and_the_user_sees_one(
        api, browser_for, alice, agent, demo_password, business_morning):
    paid = api.post("/repayments", json_body=card("100.00"), token=alice.token,
                    headers={"Idempotency-Key": uuid.uuid4().hex})
    assert paid.status == 201, paid.text
    user = browser_for()
    assert user.sign_in("help", "alice", demo_password).status == 303
    kept = _case_id(_open(user, repayment_id=paid.json["id"])[0])

    offered, _ = _open(user, repayment_id=paid.json["id"])
    assert offered.status == 409 and "你已有一个关于这笔还款的工单" in offered.text
    assert kept in offered.text and "仍要新建" in offered.text
    dup = _case_id(_open(user, repayment_id=paid.json["id"], insist="1")[0])

    staff = browser_for()
    assert staff.sign_in("agent", agent.username, demo_password).status == 303
    page = staff.get(f"/agent/cases/{dup}")
    assert page.status == 200 and 'data-testid="merge"' in page.text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text).group(1)
    done = staff.post(f"/agent/cases/{dup}/merge", {"csrf_token": staff.csrf(page), "idempotency_key": key,
                                                    "into": kept})
    assert done.status == 303 and done.headers["location"].startswith(f"/agent/cases/{kept}")
    no_csrf = staff.post(f"/agent/cases/{kept}/merge", {"into": dup})
    assert no_csrf.status in (400, 403)

    listing = user.get("/help/cases")
    assert kept in listing.text and dup not in listing.text          # one 工单
    pointer = user.get(f"/help/cases/{dup}")
    assert f"已合并到 {kept}" in pointer.text and agent.username not in pointer.text
