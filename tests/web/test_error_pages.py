"""A failure shown to a browser is a page (status kept, the request id, a way back); API callers keep JSON."""
from __future__ import annotations

import re

import pytest

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _boom(*args, **kwargs):
    raise RuntimeError("template exploded: values.repayment_id is undefined")


def test_a_crash_in_a_page_is_an_html_500_with_the_request_id_and_a_way_back(demo, signed_in, monkeypatch):
    from chalicelib.web import mymoney
    alice = signed_in("alice")
    monkeypatch.setattr(mymoney, "payee_label", _boom)
    page = alice.get("/help/repayments", headers={**BROWSER, "Referer": "http://localhost/help/cases",
                                                  "Host": "localhost"})
    assert page.status == 500 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "出错了" in page.text and "template exploded" not in page.text and "Traceback" not in page.text
    request_id = re.search(r'data-testid="request-id">([^<]+)<', page.text).group(1)
    assert request_id == page.headers["x-request-id"] and len(request_id) >= 8
    assert 'href="/help/cases" data-testid="error-back"' in page.text       # where the browser came from
    assert 'href="/help" data-testid="error-home"' in page.text
    # the same route without an Accept header (a page route): still a page, never raw JSON
    bare = alice.get("/help/repayments")
    assert bare.status == 500 and bare.headers["content-type"].startswith("text/html")
    # an API caller asking for JSON gets the JSON shape
    program = alice.get("/help/repayments", headers={"Accept": "application/json"})
    assert program.status == 500 and program.json["error"]["code"] == "internal_error"


def test_a_referer_from_another_site_is_not_offered_as_the_way_back(demo, signed_in, monkeypatch):
    from chalicelib.web import mymoney
    alice = signed_in("alice")
    monkeypatch.setattr(mymoney, "payee_label", _boom)
    page = alice.get("/help/repayments", headers={**BROWSER, "Referer": "https://evil.example/phish",
                                                  "Host": "localhost"})
    assert page.status == 500 and "evil.example" not in page.text and 'data-testid="error-back"' not in page.text


def test_bearer_api_errors_are_json_for_programs_and_a_page_for_a_browser(demo, api):
    alice = demo.users["alice"]
    missing = "/repayments/rp_00000000000000000000/receipt.html"
    program = api.get(missing, token=alice.token)
    assert program.status == 404 and program.json["error"]["code"] == "repayment_not_found"
    browser = api.get(missing, token=alice.token, headers=BROWSER)
    assert browser.status == 404 and browser.headers["content-type"].startswith("text/html")
    assert "找不到这笔还款。" in browser.text and 'data-testid="request-id"' in browser.text


def test_chalices_own_refusals_on_a_page_route_are_pages(demo, signed_in):
    alice = signed_in("alice")
    wrong_type = alice.api.post("/help/cases", body='{"category": "other"}',
                                headers={**BROWSER, "Content-Type": "application/json",
                                         "Cookie": f"rd_session={alice.jar['rd_session']}"})
    assert wrong_type.status == 415 and wrong_type.headers["content-type"].startswith("text/html")
    assert "提交方式不正确" in wrong_type.text
    as_program = alice.api.post("/help/cases", body="{}", headers={"Content-Type": "application/json",
                                                                 "Accept": "application/json"})
    assert as_program.status == 415 and as_program.json["error"]["code"] == "unsupported_media_type"


def test_an_agent_door_error_links_back_to_the_workspace(demo, signed_in, monkeypatch):
    from chalicelib.web import agent
    lead = signed_in("lead", door="agent")
    monkeypatch.setattr(agent, "queue", _boom)
    page = lead.get("/agent", headers=BROWSER)
    assert page.status == 500 and 'href="/agent" data-testid="error-home"' in page.text and "返回工作台" in page.text


def test_a_busy_dependency_keeps_503_and_retry_after_on_the_page(demo, signed_in, monkeypatch):
    from botocore.exceptions import ClientError

    from chalicelib.web import mymoney

    def throttled(*args, **kwargs):
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                          "Query")
    alice = signed_in("alice")
    monkeypatch.setattr(mymoney, "payee_label", throttled)
    page = alice.get("/help/repayments", headers=BROWSER)
    assert page.status == 503 and page.headers["retry-after"] == "2" and "服务繁忙" in page.text


def test_if_even_the_error_page_cannot_render_a_plain_page_goes_out(demo, signed_in, monkeypatch):
    from chalicelib.edge import render
    from chalicelib.web import mymoney
    alice = signed_in("alice")
    monkeypatch.setattr(mymoney, "payee_label", _boom)
    monkeypatch.setattr(render, "render", _boom)
    page = alice.get("/help/repayments", headers=BROWSER)
    assert page.status == 500 and page.headers["content-type"].startswith("text/html")
    assert "请求编号" in page.text and 'href="/help"' in page.text


@pytest.mark.parametrize("accept,html,json", [
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True, False),   # Chromium navigating
    ("application/json", False, True),
    ("*/*", False, False),                                                                 # fetch(), curl
    ("", False, False),
    ("application/json, text/html;q=0.5", False, True),
    ("text/html;q=0.2, application/json;q=0.9", False, True),
    ("text/html;q=0", False, False),
])
def test_accept_header_decides_only_when_it_is_explicit(accept, html, json):
    from chalicelib.edge import errorpages
    assert errorpages.prefers_html(accept) is html and errorpages.prefers_json(accept) is json
