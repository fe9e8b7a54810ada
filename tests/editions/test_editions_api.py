"""The editions API on moto: contacts edited, reviewed by a second lead and published reach /contacts and the number
check; a stale save is a 412 and stores nothing; who may not write gets a 403; the routes are in /openapi.json."""
from __future__ import annotations

import copy

from chalicelib.editions import service
from tests.editions.fixtures import editions_live, live


def _with_backup(number: str) -> dict:
    document = copy.deepcopy(service.packaged("contacts"))
    next(line for line in document["hotlines"] if line["id"] == "backup")["number"] = number
    return document


def test_a_reviewed_contact_change_reaches_the_public_directory(api, live, lead, make_user, alice, agent):
    lead2 = make_user("lead2", role="senior-support", phone="+8613800138009")
    opened = api.get("/support/kb/contacts", token=lead.token).json
    assert opened["rev"] == 0 and opened["latest_version"] == 0

    saved = api.request("PUT", "/support/kb/contacts", token=lead.token, headers={"If-Match": str(opened["rev"])},
                        json_body={"document": _with_backup("021-0000-1009"), "note": "备用热线换号"})
    assert saved.status == 200, saved.text
    rev = saved.json["rev"]
    # someone else saving over the revision they opened: 412, nothing stored
    stale = api.request("PUT", "/support/kb/contacts", token=lead2.token, headers={"If-Match": "0"},
                        json_body={"document": _with_backup("021-0000-1008"), "note": "另一个修改"})
    assert stale.status == 412 and stale.json["error"]["code"] == "stale_version"
    assert api.get("/support/kb/contacts/versions", token=lead.token).json["items"][0]["note"] == "备用热线换号"

    submitted = api.post("/support/kb/contacts/submit", token=lead.token, json_body={"rev": rev})
    assert submitted.status == 200 and submitted.json["status"] == "in_review"
    own = api.post("/support/kb/contacts/publish", token=lead.token, json_body={"rev": submitted.json["rev"]})
    assert own.status == 403 and "四眼" in own.json["error"]["message"]
    assert api.get("/contacts").json["hotlines"][2]["number"] == "021-0000-1003"

    published = api.post("/support/kb/contacts/publish", token=lead2.token, json_body={"rev": submitted.json["rev"]})
    assert published.status == 200 and published.json["published_version"] == 1
    numbers = [line["number"] for line in api.get("/contacts").json["hotlines"]]
    assert "021-0000-1009" in numbers and "021-0000-1003" not in numbers
    check = api.get("/contacts/verify?number=021-0000-1009").json
    assert check["verdict"] == "official"

    for outsider in (alice, agent):
        assert api.get("/support/kb/contacts", token=outsider.token).status == 403
        refused = api.request("PUT", "/support/kb/macros", token=outsider.token, headers={"If-Match": "0"},
                              json_body={"document": service.packaged("macros"), "note": "x"})
        assert refused.status == 403


def test_a_bad_document_is_a_chinese_4xx_and_nothing_is_stored(api, live, lead):
    document = _with_backup("021-0000-1009")
    document["hotlines"][0]["number"] = "javascript:alert(1)"
    bad = api.request("PUT", "/support/kb/contacts", token=lead.token, headers={"If-Match": "0"},
                      json_body={"document": document, "note": "坏号码"})
    assert bad.status == 400 and bad.json["error"]["code"] == "invalid_number"
    missing_rev = api.request("PUT", "/support/kb/macros", token=lead.token,
                              json_body={"document": service.packaged("macros"), "note": "没带版本"})
    assert missing_rev.status == 400 and missing_rev.json["error"]["code"] == "rev_required"
    assert api.get("/support/kb/contacts/versions", token=lead.token).json["items"] == []
    assert api.get("/support/kb/contacts/versions/7", token=lead.token).status == 404
    assert api.get("/support/kb/contacts/diff?from=0&to=x", token=lead.token).status == 400


def test_the_routes_are_in_the_api_document(api):
    paths = api.get("/openapi.json").json["paths"]
    for kind in ("contacts", "macros"):
        for suffix in ("", "/submit", "/publish", "/rollback", "/versions", "/versions/{number}", "/diff"):
            assert f"/support/kb/{kind}{suffix}" in paths
