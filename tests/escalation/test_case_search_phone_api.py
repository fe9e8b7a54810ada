"""``GET /support/cases/search?phone_last4=…&date=…`` over HTTP on moto: the owner's phone comes from the user
pool (Cognito in moto) when the 工单 opens, the GSI ``by_phone4`` is declared and read, each user found gets an
access record, bad input is a Chinese 400, and the backfill gives older 工单 their digits."""
from __future__ import annotations

import urllib.parse

import pytest

pytestmark = pytest.mark.usefixtures("clock")
TUESDAY = "2026-11-24"   # BUSINESS_MORNING: 10:00 in Shanghai


def search(api, who, **query):
    return api.get("/support/cases/search?" + urllib.parse.urlencode(query), token=who.token)


def test_an_agent_finds_the_callers_case_by_the_last_four_and_the_day(api, alice, bob, agent, open_case):
    from chalicelib.repay import service as repay_service
    alices = open_case(alice)["case_id"]          # alice's phone: +8613800138001
    open_case(bob)                                 # bob's: …8002
    found = search(api, agent, phone_last4="8001", date=TUESDAY)
    assert found.status == 200, found.text
    assert found.json["by"] == "phone" and [c["case_id"] for c in found.json["items"]] == [alices]
    assert "13800138001" not in found.text
    assert search(api, agent, phone_last4="8001", date="2026-11-25").json["items"] == []
    [record] = [r for r in repay_service.access_log(alice.user_id) if r["event"] == "staff_searched_by_phone"]
    assert record["staff_id"] == agent.user_id and record["case_ids"] == [alices]
    assert [r for r in repay_service.access_log(bob.user_id) if r["event"] == "staff_searched_by_phone"] == []
    export = api.get(f"/support/cases/{alices}/export", token=alice.token).json["accessed_by"]
    assert ("客服", "按手机号后四位和日期查找了您的工单") in [(a["role_title"], a["what"]) for a in export]


@pytest.mark.parametrize("query", [{"phone_last4": "800", "date": TUESDAY}, {"phone_last4": "18001", "date": TUESDAY},
                                   {"phone_last4": "8001"}, {"phone_last4": "8001", "date": "2026-13-01"},
                                   {"phone_last4": "8001", "date": "yesterday"}])
def test_three_or_five_digits_a_missing_or_bad_date_is_a_chinese_400(api, agent, query):
    refused = search(api, agent, **query)
    assert refused.status == 400, (query, refused.text)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.json["error"]["message"]), refused.text


def test_the_backfill_gives_older_cases_their_digits_once(api, alice, agent, open_case):
    from chalicelib.adapters import aws
    from chalicelib.config import settings
    from chalicelib.escalation import phones, search_store
    case_id = open_case(alice)["case_id"]
    table = aws.table(settings().cases_table)
    table.update_item(Key={"pk": f"CASE#{case_id}", "sk": "CASE"}, UpdateExpression="REMOVE phone4, phone4_pk")
    assert search(api, agent, phone_last4="8001", date=TUESDAY).json["items"] == []     # as before this search
    assert search_store.backfill_phone4(phones.last_four) == (1, 0)
    assert [c["case_id"] for c in search(api, agent, phone_last4="8001", date=TUESDAY).json["items"]] == [case_id]
    assert search_store.backfill_phone4(phones.last_four) == (0, 0)
    stored = table.get_item(Key={"pk": f"CASE#{case_id}", "sk": "CASE"})["Item"]
    assert stored["phone4"] == "8001" and "138001" not in str(stored)
