"""The workspace page for service notices (``/agent/notices``: CSRF, the service's role checks, an HTML page for bad
input), the queue's banner, and the new-工单 form: its banner and the deflection counted when a user leaves it."""
from __future__ import annotations

import re

from tests.status.conftest import CMB, notice

FORM = {"text": CMB, "scope": "issuer:招商银行", "starts_at": "2026-12-09T10:30", "ends_at": "2026-12-09T14:00"}


def test_a_lead_posts_from_the_workspace_and_agents_see_it_on_the_queue(api, signed_in, lead, agent):
    b = signed_in(lead.username)
    page = b.get("/agent/notices")
    assert page.status == 200 and 'data-testid="notice-form"' in page.text and 'data-testid="no-notices"' in page.text
    posted = b.post("/agent/notices", {**FORM, "csrf_token": b.csrf(page)})
    assert posted.status == 303 and posted.headers["location"].endswith("/agent/notices?done=posted")
    listed = b.get("/agent/notices")
    assert CMB in listed.text and "发卡行：招商银行" in listed.text and "12月9日 14:00" in listed.text
    assert api.get("/status").json["notices"][0]["ends_at"] == "2026-12-09T06:00:00.000Z"   # local time read as +08:00
    queue = signed_in(agent.username).get("/agent")
    banner = re.search(r'data-testid="service-notices">(.*?)</section>', queue.text, re.S).group(1)
    assert CMB in banner and "至 12月9日 14:00" in banner


def test_bad_input_on_the_page_is_a_400_page_with_the_text_kept_and_nothing_stored(api, signed_in, lead):
    b = signed_in(lead.username)
    page = b.get("/agent/notices")
    refused = b.post("/agent/notices", {**FORM, "text": "请访问 www.cmb-fix.top 处理", "csrf_token": b.csrf(page)})
    assert refused.status == 400 and "text/html" in refused.headers["content-type"]
    assert "公告内容：公告里不能有网址或链接" in refused.text and "www.cmb-fix.top" in refused.text   # kept, escaped
    late = b.post("/agent/notices", {**FORM, "ends_at": "2026-12-20T14:00", "csrf_token": b.csrf(page)})
    assert late.status == 400 and "结束时间：一条公告最长显示 7 天" in late.text
    forged = b.post("/agent/notices", FORM)                                   # no CSRF token
    assert forged.status == 403 and "CSRF" in forged.text
    assert api.get("/support/notices", token=lead.token).json["items"] == []


def test_a_frontline_agent_reads_the_page_but_cannot_post_or_delete(api, signed_in, lead, agent):
    posted = api.post("/support/notices", token=lead.token, json_body=notice()).json
    b = signed_in(agent.username)
    page = b.get("/agent/notices")
    assert page.status == 200 and CMB in page.text and 'data-testid="notice-form"' not in page.text
    assert b.post("/agent/notices", {**FORM, "csrf_token": b.csrf(page)}).status == 403
    refused = b.post(f"/agent/notices/{posted['id']}/delete", {"csrf_token": b.csrf(page)})
    assert refused.status == 403 and "senior-support" in refused.text
    assert len(api.get("/status").json["notices"]) == 1


def test_a_lead_takes_a_notice_down_from_the_page(api, signed_in, lead):
    posted = api.post("/support/notices", token=lead.token, json_body=notice()).json
    b = signed_in(lead.username)
    page = b.get("/agent/notices")
    assert b.post(f"/agent/notices/{posted['id']}/delete", {"csrf_token": b.csrf(page)}).status == 303
    assert api.get("/status").json["notices"] == []
    again = b.post(f"/agent/notices/{posted['id']}/delete", {"csrf_token": b.csrf(page)})
    assert again.status == 404 and "text/html" in again.headers["content-type"] and "/agent/notices" in again.text


def test_the_case_form_shows_the_notice_and_leaving_it_counts_as_a_deflection(api, signed_in, lead, alice):
    from chalicelib.status import store
    posted = api.post("/support/notices", token=lead.token, json_body=notice(scope="all")).json
    b = signed_in(alice.username, door="help")
    form = b.get("/help/cases/new")
    assert form.status == 200 and CMB in form.text and f'data-notice="{posted["id"]}"' in form.text
    left = b.post("/help/cases/deflections", {"csrf_token": b.csrf(form), "notices": posted["id"]})
    assert left.status == 204
    assert b.post("/help/cases/deflections", {"notices": posted["id"]}).status == 403          # no CSRF: not counted
    assert store.deflections("2026-12-09") == {posted["id"]: 1}
