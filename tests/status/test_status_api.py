"""Service notices over HTTP against moto: roles, bad input, ``GET /status``, and where users meet a notice (the help
centre, the quote of an affected repayment)."""
from __future__ import annotations

import datetime as dt

from chalicelib.kernel import clock
from tests.status.conftest import CMB, notice

CARD = {"kind": "credit_card", "issuer": "招商银行", "card_number": "6225880137654324"}


def test_a_lead_posts_a_notice_and_client_apps_read_it_at_status_without_staff_names(api, lead, agent):
    posted = api.post("/support/notices", token=lead.token, json_body=notice())
    assert posted.status == 201, posted.text
    assert posted.json["posted_by"] == "lead" and posted.json["in_force"] is True
    assert posted.headers["location"] == f"/support/notices/{posted.json['id']}"
    status = api.get("/status")
    assert status.status == 200 and status.headers["cache-control"] == "public, max-age=5"
    [shown] = status.json["notices"]
    assert shown["starts_at"].startswith("2026-12-09T02:3")          # posted without a start: from now
    assert {k: v for k, v in shown.items() if k != "starts_at"} == {
        "text": CMB, "scope": "issuer:招商银行", "scope_label": "发卡行：招商银行",
        "ends_at": "2026-12-09T06:00:00.000Z", "until": "12月9日 14:00"}
    assert "lead" not in status.text and posted.json["id"] not in status.text
    listed = api.get("/support/notices", token=agent.token)
    assert listed.status == 200 and [n["posted_by"] for n in listed.json["items"]] == ["lead"]


def test_wallet_users_and_frontline_agents_cannot_post_or_delete(api, lead, agent, alice):
    for who in (alice, agent):
        refused = api.post("/support/notices", token=who.token, json_body=notice())
        assert refused.status == 403 and "senior-support" in refused.json["error"]["message"]
    assert api.get("/support/notices", token=alice.token).status == 403
    posted = api.post("/support/notices", token=lead.token, json_body=notice()).json
    assert api.request("DELETE", f"/support/notices/{posted['id']}", token=agent.token).status == 403
    assert api.post("/support/notices", json_body=notice()).status == 401
    assert len(api.get("/status").json["notices"]) == 1


def test_bad_input_is_a_4xx_in_chinese_and_nothing_is_stored(api, lead):
    for body, field in ((notice(text="维护 <b>紧急</b>"), "text"), (notice(scope="issuer:花旗银行"), "scope"),
                        (notice(ends_at="2026-12-01T14:00:00+08:00"), "ends_at"),
                        (notice(ends_at="2026-12-30T14:00:00+08:00"), "ends_at"),
                        ({"text": CMB, "scope": "all"}, "ends_at"), (notice(color="red"), "color")):
        refused = api.post("/support/notices", token=lead.token, json_body=body)
        assert 400 <= refused.status < 500, refused.text
        error = refused.json["error"]
        assert error["field"] == field and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    assert api.post("/support/notices", token=lead.token, body="{not json").status == 400
    assert api.get("/support/notices", token=lead.token).json["items"] == []


def test_delete_is_conditional_and_audited_unknown_is_404(api, lead):
    from chalicelib.status import store
    posted = api.post("/support/notices", token=lead.token, json_body=notice()).json
    gone = api.request("DELETE", f"/support/notices/{posted['id']}", token=lead.token)
    assert gone.status == 200 and gone.json == {"id": posted["id"], "deleted": True}
    again = api.request("DELETE", f"/support/notices/{posted['id']}", token=lead.token)
    assert again.status == 404 and again.json["error"]["code"] == "notice_not_found"
    assert api.request("DELETE", "/support/notices/sn_000000000000deadbeef", token=lead.token).status == 404
    assert api.get("/status").json["notices"] == []
    assert [(a["action"], a["by"]) for a in store.audit_of(posted["id"])] == [("create", "lead"), ("delete", "lead")]


def test_the_notice_shows_on_help_and_relevant_articles_and_leaves_at_its_end(api, lead):
    api.post("/support/notices", token=lead.token, json_body=notice())
    assert CMB in api.get("/help").text
    assert CMB in api.get("/help/articles/credit-card-repayment").text
    assert CMB not in api.get("/help/articles/loan-repayment").text         # another kind of repayment
    assert CMB not in api.get("/help/articles/strong-password").text        # not about repaying
    clock.freeze(clock.parse("2026-12-09T06:00:00Z"))                       # 14:00 in Shanghai: its end
    assert CMB not in api.get("/help").text and api.get("/status").json["notices"] == []


def test_the_quote_of_an_affected_repayment_carries_the_notice_beside_the_fee(api, lead, alice):
    api.post("/support/notices", token=lead.token, json_body=notice())
    affected = api.post("/repayments/quote", token=alice.token, json_body={"amount": "300.00", "payee": CARD})
    assert affected.status == 200, affected.text
    assert [n["text"] for n in affected.json["notices"]] == [CMB] and "fee" in affected.json
    other = api.post("/repayments/quote", token=alice.token,
                     json_body={"amount": "300.00", "payee": {**CARD, "issuer": "中国银行"}})
    assert other.json["notices"] == []


def test_the_routes_are_in_the_openapi_document(api):
    paths = api.get("/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/support/notices"]) and "delete" in paths["/support/notices/{notice_id}"]
    assert "get" in paths["/status"]


def test_a_notice_scheduled_later_is_listed_for_staff_but_not_shown_yet(api, lead):
    start = (clock.now() + dt.timedelta(hours=1)).isoformat()
    posted = api.post("/support/notices", token=lead.token, json_body=notice(starts_at=start, scope="all"))
    assert posted.status == 201 and posted.json["in_force"] is False
    assert api.get("/status").json["notices"] == []
    assert len(api.get("/support/notices", token=lead.token).json["items"]) == 1
