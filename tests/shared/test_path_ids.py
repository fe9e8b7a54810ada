"""#21.7: every route with a path id answers 404 — never a 500 — for an id no id of ours looks like (too long
for a DynamoDB key, non-ASCII, spaces, dots), with or without an Idempotency-Key, before any AWS call
(``http.check_path_ids``: JSON routes through ``api_contract``, pages through ``pages.page``)."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.web.conftest import Browser

BAD_IDS = ["A" * 1100, "rp_" + "0" * 1021, "中文", "a b", "..", "x" * 129]


def _routes_with_ids():
    from app import app
    found = []
    for path, methods in app.routes.items():
        if "{" not in path:
            continue
        for method, entry in methods.items():
            found.append((path, method, entry.content_types))
    return sorted(found)


ROUTES = _routes_with_ids()


def test_every_route_with_a_path_id_is_covered():
    assert len(ROUTES) > 40    # repayments, cases, bills, schedules, notices, attachments, pages …
    assert {re.sub(r"{[^}]+}", "{}", p) for p, _, _ in ROUTES} >= {
        "/repayments/{}/cancel", "/repayments/{}/resend-code", "/repayments/{}/verify", "/bills/{}",
        "/schedules/{}", "/notices/{}/read", "/support/cases/{}/attachments", "/help/cases/{}/attachments/{}"}


@pytest.fixture
def callers(api, alice, lead, demo_password):
    help_door, agent_door = Browser(api), Browser(api)
    assert help_door.sign_in("help", "alice", demo_password).status == 303
    assert agent_door.sign_in("agent", "lead", demo_password).status == 303
    return {"help": help_door, "agent": agent_door}


@pytest.mark.parametrize("bad", BAD_IDS, ids=["1100xA", "1024-byte-key", "chinese", "space", "dots", "129"])
def test_no_route_answers_an_impossible_id_with_a_500(api, alice, callers, bad):
    wrong = []
    for path, method, content_types in ROUTES:
        url = re.sub(r"{[^}]+}", quote(bad, safe=""), path)
        headers = {"Idempotency-Key": "same-key-every-time", "Authorization": f"Bearer {alice.token}"}
        door = callers["agent" if path.startswith("/agent") else "help"]
        if door.jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in door.jar.items())
        if "application/json" in content_types:
            headers["Content-Type"], body = "application/json", '{"code": "123456", "reason": "看看", "message": "hi"}'
        else:
            headers["Content-Type"], body = content_types[0], "csrf_token=x&reason=x&message=x&text=x"
        answer = api.request(method, url, headers=headers, body=body)
        if answer.status != 404:
            wrong.append((method, path, answer.status, answer.text[:120]))
    assert wrong == [], "\n".join(map(str, wrong))


def test_the_api_says_404_in_its_error_shape_and_a_page_in_a_page(api, alice, callers):
    long_id = "A" * 1100
    cancel = api.post(f"/repayments/{long_id}/cancel", token=alice.token, headers={"Idempotency-Key": "k1"})
    assert cancel.status == 404 and cancel.json["error"]["code"] == "not_found"
    page = callers["help"].get(f"/help/cases/{long_id}")
    assert page.status == 404 and page.headers["content-type"].startswith("text/html")
    assert 'href="/help/cases"' in page.text                                   # a way back


@pytest.fixture
def demo_password():
    from infra import local
    return local.DEMO_PASSWORD
