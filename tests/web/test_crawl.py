"""Every GET route the app serves, requested as a browser by each demo user: no 5xx, no raw JSON shown to a browser.

The routes come from the route table (``app.routes``), so a new page is crawled the day it is added; its path
parameters are filled with the signed-in user's real ids (alice's 工单, repayments, bills … as ``make serve``
seeds them: ``devtools/seed_*.py`` through the ``demo`` fixture). A route with a parameter this test does not know
fails it, until the test is told what to put there.

A browser sends ``Accept: text/html…`` and its session cookie; bearer-token API routes get the user's token as the
wallet app would send it (a browser cannot reach them without one: API Gateway answers 401 before the app runs).
"""
from __future__ import annotations

import datetime as dt
import secrets
from urllib.parse import urlencode

import pytest

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
# What each route is asked with, where a bare GET would only test the "missing input" answer.
QUERIES = {
    "/help/search": {"q": "还款失败怎么办"},
    "/help/contact": {"number": "95188"},
    "/help/cases/suggestions": {"q": "还款失败"},
    "/kb/search": {"q": "还款失败"},
    "/contacts/verify": {"number": "95188"},
    "/support/suggestions": {"q": "还款失败"},
    "/agent/callback": {"state": "x" * 43, "code": "not-a-code"},
    "/support/kb/articles/{slug}/diff": {"from": "1", "to": "1"},
}


def _ids(demo, name: str, receipt: dict) -> dict[str, str]:
    """Real ids for each path parameter, as ``name`` would click them."""
    from chalicelib.bills import schemas as bill_schemas
    from chalicelib.bills import service as bills
    from chalicelib.kernel.actor import Actor

    owner = "bob" if name == "bob" else "alice"            # staff open alice's 工单 (frontline, as in the queue)
    user = demo.users[owner]
    actor = Actor(user_id=user.user_id, username=user.username)
    ctx = bills.current()
    case_id = demo.cases(owner)[0]
    attachment_id = _attachment(case_id)
    bill = bills.list_bills(actor, bill_schemas.PageQuery(limit=5), ctx)["items"][0]
    schedule = bills.list_schedules(actor, bill_schemas.PageQuery(limit=5), ctx)["items"][0]
    paid = demo.repayment(owner, "1234.50" if owner == "alice" else "66.00")
    return {"case_id": case_id, "attachment_id": attachment_id, "repayment_id": paid["id"], "bill_id": bill["id"],
            "schedule_id": schedule["id"], "slug": "repayment-failed", "version": "1", "step": "frontline",
            "report": "cases", "serial": receipt["serial"], "code": receipt["verification_code"],
            "number": "0",   # a contacts/macros version: 0 is the packaged file
            "incident_id": "INC-202612010930-ABCD",   # the demo has no incident: its page must be a 404 page
            "build_id": "kb1-abcdef",   # nor an index build: a 404 too
            "username": "agent"}   # a lead resets a member's two-factor sign-in (the confirmation form)


def _attachment(case_id: str) -> str:
    """An evidence file in the case's S3 prefix, as the presigned POST would have stored it."""
    from chalicelib.adapters import aws
    from chalicelib.config import settings
    from chalicelib.escalation import attachments
    attachment_id = dt.datetime(2026, 11, 24, 2, 0).strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(4)
    aws.client("s3").put_object(Bucket=settings().attachments_bucket, Key=f"{attachments.prefix(case_id)}"
                                f"{attachment_id}/扣款短信.png", Body=b"\x89PNG\r\n\x1a\n" + b"0" * 64,
                                ContentType="image/png")
    return attachment_id


def _get_routes():
    from app import app
    return sorted((path, entry) for path, methods in app.routes.items() for method, entry in methods.items()
                  if method == "GET")


def _url(path: str, entry, ids: dict[str, str]) -> str:
    missing = [name for name in entry.view_args if name not in ids]
    assert not missing, f"{path}: the crawl has no id for {missing}; add one to _ids()"
    url = path
    for name in entry.view_args:
        url = url.replace("{" + name + "}", ids[name])
    query = QUERIES.get(path)
    if path in ("/receipts/verify", "/help/receipts/verify"):
        query = {"serial": ids["serial"], "code": ids["code"]}
    return url + ("?" + urlencode(query) if query else "")


@pytest.mark.parametrize("name,door", [("alice", "help"), ("bob", "help"), ("agent", "agent"), ("lead", "agent")])
def test_every_get_page_renders_for_each_demo_user(demo, signed_in, api, name, door):
    from chalicelib.edge import errorpages

    user = demo.users[name]
    receipt = api.get(f"/repayments/{demo.repayment('alice', '1234.50')['id']}/receipt",
                      token=demo.users["alice"].token).json
    ids = _ids(demo, name, receipt)
    browser = signed_in(name, door)
    problems, seen = [], 0
    for path, entry in _get_routes():
        url = _url(path, entry, ids)
        headers = {"Accept": BROWSER_ACCEPT}
        if entry.authorizer is not None:
            answer = api.get(url, token=user.token, headers=headers)
        else:
            answer = browser.get(url, headers=headers)
        seen += 1
        kind = answer.headers.get("content-type", "")
        if answer.status >= 500:
            problems.append(f"{url}: {answer.status} {answer.text[:300]}")
        elif answer.status >= 400 and not kind.startswith("text/html"):
            problems.append(f"{url}: a {answer.status} shown to a browser as {kind}: {answer.text[:200]}")
        elif answer.status == 200 and errorpages.is_page_route(path, entry) and not kind.startswith("text/html") \
                and not answer.headers.get("content-disposition", "").startswith("attachment"):   # a download
            problems.append(f"{url}: a page answered {kind}")
        elif kind.startswith("text/html") and answer.text.lstrip().startswith("{"):
            problems.append(f"{url}: JSON sent as text/html")
        if kind.startswith("text/html") and door == "help" and user.user_id in answer.text:
            problems.append(f"{url}: shows the user's id (a UUID) to the user")
    assert seen >= 50, seen
    assert not problems, "\n".join(problems)


def test_api_callers_still_get_json_errors(demo, api):
    """The same failures, asked for by a program (no Accept, or JSON): the common JSON error shape."""
    alice = demo.users["alice"]
    for headers in ({}, {"Accept": "application/json"}):
        missing = api.get("/repayments/rp_00000000000000000000", token=alice.token, headers=headers)
        assert missing.status == 404 and missing.json["error"]["code"] == "repayment_not_found"
        refused = api.get("/support/queues/frontline", token=alice.token, headers=headers)
        assert refused.status == 403 and "error" in refused.json
        bad = api.get("/kb/search", headers=headers)
        assert bad.status == 400 and bad.headers["content-type"].startswith("application/json")
    # The scripts' JSON endpoints in the help door keep JSON (their fetch() sends Accept: */*).
    scripts = api.get("/help/cases/RD-20261124-ABCD/messages", headers={"Accept": "*/*"})
    assert scripts.status == 401 and scripts.json["error"]["code"] == "login_required"
