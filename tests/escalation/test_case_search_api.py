"""``GET /support/cases/search`` over HTTP on moto: the indexes are declared and read (no Scan), a search by
user name leaves an access record in the user's partition, bad input is a 400 with a Chinese message."""
from __future__ import annotations

import urllib.parse

import pytest

pytestmark = pytest.mark.usefixtures("clock")


def search(api, who, **query):
    return api.get("/support/cases/search?" + urllib.parse.urlencode(query), token=who.token)


def test_an_agent_finds_a_case_by_full_width_reference_a_word_and_the_user_name(api, alice, agent, open_case):
    case_id = open_case(alice, description="信用卡还款扣款成功但是账单没有销账")["case_id"]
    full_width = case_id.lower().translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789-abcdefghijklmnopqrstuvwxyz"})
    by_ref = search(api, agent, ref=full_width)
    assert by_ref.status == 200, by_ref.text
    assert by_ref.json["exact"] == case_id and [c["case_id"] for c in by_ref.json["items"]] == [case_id]
    assert [c["case_id"] for c in search(api, agent, q="销账").json["items"]] == [case_id]
    assert [c["case_id"] for c in search(api, agent, user="Alice").json["items"]] == [case_id]
    assert search(api, agent, q="退款").json["items"] == []


def test_a_user_search_is_an_access_record_and_a_word_search_is_not(api, alice, agent, open_case):
    from chalicelib.repay import service as repay_service
    case_id = open_case(alice)["case_id"]
    assert search(api, agent, q="到账").status == 200
    assert [r for r in repay_service.access_log(alice.user_id) if r["event"] == "staff_searched_cases"] == []
    assert search(api, agent, user="alice").status == 200
    [record] = [r for r in repay_service.access_log(alice.user_id) if r["event"] == "staff_searched_cases"]
    assert record["staff_id"] == agent.user_id and record["case_ids"] == [case_id]


def test_users_cannot_search_and_bad_input_is_a_chinese_400(api, alice, agent, open_case):
    open_case(alice)
    refused = search(api, alice, q="到账")
    assert refused.status == 403 and refused.json["error"]["code"] == "forbidden_role"
    for query in ({}, {"ref": "RD-2026"}, {"q": "到账", "user": "alice"}, {"q": "到账", "cursor": "xyz"},
                  {"q": "到账", "status": "lost"}, {"q": "到账", "since": "yesterday"}):
        bad = search(api, agent, **query)
        assert bad.status == 400, (query, bad.text)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in bad.json["error"]["message"]), bad.text


def test_the_owners_export_lists_who_looked_as_a_role_and_a_time_never_a_name(api, alice, agent, open_case):
    case_id = open_case(alice)["case_id"]
    before = api.get(f"/support/cases/{case_id}/export", token=alice.token).json["accessed_by"]
    assert before == []
    assert search(api, agent, user="alice").status == 200
    export = api.get(f"/support/cases/{case_id}/export", token=alice.token)
    assert [(a["role_title"], a["what"]) for a in export.json["accessed_by"]] == [("客服", "按用户名查找了您的工单")]
    assert agent.username not in str(export.json["accessed_by"]) and agent.user_id not in export.text
    printable = api.get(f"/support/cases/{case_id}/export.html", token=alice.token)
    assert 'data-testid="export-accessed-by"' in printable.text and agent.user_id not in printable.text
