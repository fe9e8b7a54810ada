"""Merging over HTTP on moto (issue #25 item 2): the duplicate 409 and insist, merge, the user's list, unmerge
and its 24 h window, who may merge. The rules themselves: ``unit/test_merging.py``."""
from __future__ import annotations

import datetime as dt
import uuid

from tests.repay.conftest import card


def test_duplicate_offer_merge_and_unmerge_over_http(api, alice, bob, agent, clock, open_case, monkeypatch):
    paid = api.post("/repayments", json_body=card("100.00"), token=alice.token,
                    headers={"Idempotency-Key": uuid.uuid4().hex})
    assert paid.status == 201, paid.text
    about = {"category": "repayment_delay", "description": "还款三天了还没到账，请帮忙查询",
             "repayment_id": paid.json["id"]}
    kept = open_case(alice, **about)["case_id"]

    again = api.post("/support/cases", token=alice.token, json_body=about)
    assert again.status == 409, again.text
    assert again.json["error"]["code"] == "duplicate_case" and kept in again.json["error"]["message"]
    dup = open_case(alice, **about, insist=True)["case_id"]
    assert {c["case_id"] for c in api.get("/support/cases", token=alice.token).json["items"]} == {kept, dup}

    assert api.post(f"/support/cases/{dup}/merge", token=alice.token, json_body={"into": kept}).status == 403
    other = open_case(bob)["case_id"]
    assert api.post(f"/support/cases/{dup}/merge", token=agent.token, json_body={"into": other}).status == 409
    assert api.post(f"/support/cases/{dup}/merge", token=agent.token, json_body={}).status == 400
    merged = api.post(f"/support/cases/{dup}/merge", token=agent.token, json_body={"into": kept.lower()})
    assert merged.status == 200, merged.text
    assert merged.json["case_id"] == kept

    mine = api.get("/support/cases", token=alice.token).json["items"]
    assert [c["case_id"] for c in mine] == [kept]                        # the user sees one 工单
    pointer = api.get(f"/support/cases/{dup}", token=alice.token)
    assert pointer.json["status"] == "closed" and f"已合并到 {kept}" in pointer.text
    assert agent.username not in pointer.text and agent.user_id not in pointer.text

    clock.freeze(clock.now() + dt.timedelta(hours=25))
    late = api.post(f"/support/cases/{dup}/unmerge", token=agent.token)
    assert late.status == 409 and late.json["error"]["code"] == "unmerge_window_passed"
    assert "24 小时" in late.json["error"]["message"]


def test_unmerge_within_a_day_brings_both_back(api, alice, agent, clock, open_case):
    kept, dup = open_case(alice)["case_id"], open_case(alice)["case_id"]
    assert api.post(f"/support/cases/{dup}/merge", token=agent.token, json_body={"into": kept}).status == 200
    undone = api.post(f"/support/cases/{dup}/unmerge", token=agent.token)
    assert undone.status == 200, undone.text
    assert {c["case_id"] for c in api.get("/support/cases", token=alice.token).json["items"]} == {kept, dup}
    assert api.get(f"/support/cases/{dup}", token=alice.token).json["status"] == "open"
    assert api.post(f"/support/cases/{dup}/unmerge", token=agent.token).status == 409   # nothing to undo
