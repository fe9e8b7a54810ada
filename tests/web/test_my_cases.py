"""「我的工单」 pages (/help/cases…): the wallet user's own 工单 with the help-door session cookie."""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

import pytest

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def alice_in(browser_for, alice, demo_password, business_morning):
    b = browser_for()
    assert b.sign_in("help", "alice", demo_password).status == 303
    return b


def _open(b, description="还款三天了还没到账，请帮忙查询", category="repayment_delay", **extra):
    form = b.get("/help/cases/new")
    assert form.status == 200, form.text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form.text).group(1)
    answer = b.post("/help/cases", {"csrf_token": b.csrf(form), "idempotency_key": key, "category": category,
                                    "description": description, **extra})
    return answer, key


def _case_id(answer) -> str:
    assert answer.status == 303, answer.text
    return answer.headers["location"].rsplit("/", 1)[-1]


def _form(b, path, fields):
    page = b.get(path)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    return b.post(path + "/" + fields.pop("_action"), {"csrf_token": b.csrf(page),
                                                      **({"idempotency_key": key.group(1)} if key else {}), **fields})


def test_pages_need_the_help_session(api, alice, business_morning):
    for path in ("/help/cases", "/help/cases/new", "/help/cases/RD-20261124-ABCD"):
        answer = api.get(path)
        assert answer.status == 303 and answer.headers["location"].startswith("/help/login?next=/help/cases")
    # A bearer token alone is not a browser session (the app's WebView exchanges it at POST /help/session).
    assert api.get("/help/cases", token=alice.token).status == 303
    forged = api.get("/help/cases", headers={"Cookie": "rd_session=" + "A" * 43})
    assert forged.status == 303 and forged.headers["location"].startswith("/help/login")
    scripts = api.get("/help/cases/RD-20261124-ABCD/messages")
    assert scripts.status == 401 and scripts.json["error"]["code"] == "login_required"


def test_open_a_case_from_the_form_and_see_it_listed(alice_in, api, alice, sms_sent):
    answer, key = _open(alice_in)
    case_id = _case_id(answer)
    page = alice_in.get(f"/help/cases/{case_id}")
    assert page.status == 200 and 'lang="zh-CN"' in page.text
    assert "一线客服" in page.text and "处理中" in page.text and "接下来" in page.text
    assert "还款三天了还没到账" in page.text
    # The same form submitted twice (same idempotency_key) is one 工单.
    again = alice_in.post("/help/cases", {"csrf_token": alice_in.csrf(alice_in.get("/help/cases/new")),
                                          "idempotency_key": key, "category": "repayment_delay",
                                          "description": "还款三天了还没到账，请帮忙查询"})
    assert _case_id(again) == case_id
    listed = alice_in.get("/help/cases")
    assert listed.text.count('data-testid="case-row"') == 1 and case_id in listed.text
    assert "还款延迟到账" in listed.text and "一线客服" in listed.text
    # The text points to the page.
    assert any(text.endswith(f"/help/cases/{case_id}") and "「我的工单」" in text for _, text in sms_sent())


def test_form_problems_are_shown_on_the_form(alice_in):
    answer, _ = _open(alice_in, description="短")
    assert answer.status == 400 and "问题描述" in answer.text and 'data-testid="form-error"' in answer.text
    answer, _ = _open(alice_in, category="nonsense")
    assert answer.status == 400 and "问题类别" in answer.text
    assert alice_in.get("/help/cases").text.count('data-testid="case-row"') == 0


def test_only_the_users_own_repayments_are_offered_and_accepted(alice_in, api, alice, bob, business_morning):
    paid = api.post("/repayments", token=bob.token, headers={"Idempotency-Key": "bob-1"},
                    json_body={"amount": "10.00", "payee": {"kind": "credit_card", "issuer": "招商银行",
                                                            "card_number": "6225880137654324"}})
    assert paid.status in (201, 202), paid.text
    form = alice_in.get("/help/cases/new")
    assert paid.json["id"] not in form.text
    answer, _ = _open(alice_in, repayment_id=paid.json["id"])
    assert answer.status == 422 and "只能关联您本人的还款记录" in answer.text and "form-error" in answer.text


def test_list_is_newest_first_and_paged(alice_in, business_morning, monkeypatch):
    from chalicelib import config
    monkeypatch.setenv("RATE_LIMITS", "case_open=100/3600")  # 12 工单 in a few minutes
    config.reload()
    ids = []
    for n in range(12):
        ids.append(_case_id(_open(alice_in, description=f"第 {n} 个问题：扣款了没到账")[0]))
        business_morning.advance(dt.timedelta(minutes=1))
    first = alice_in.get("/help/cases")
    shown = re.findall(r'href="/help/cases/(RD-[^"]+)"', first.text)
    assert shown == list(reversed(ids))[:10]
    cursor = re.search(r'href="/help/cases\?cursor=([^"]+)"', first.text).group(1)
    second = alice_in.get(f"/help/cases?cursor={cursor}")
    assert re.findall(r'href="/help/cases/(RD-[^"]+)"', second.text) == list(reversed(ids))[10:]
    assert 'data-testid="next-page"' not in second.text


def test_another_users_case_is_a_404_page_and_nothing_changes(alice_in, browser_for, bob, demo_password, api):
    case_id = _case_id(_open(alice_in)[0])
    b = browser_for()
    b.sign_in("help", "bob", demo_password)
    page = b.get(f"/help/cases/{case_id}")
    assert page.status == 404 and "找不到" in page.text and "还款三天了" not in page.text
    own = b.get("/help/cases")
    refused = b.post(f"/help/cases/{case_id}/reply", {"csrf_token": b.csrf(own), "message": "我来捣乱"})
    assert refused.status == 404
    assert b.get(f"/help/cases/{case_id}/messages").status == 404
    grant = b.post(f"/help/cases/{case_id}/attachments", {"csrf_token": b.csrf(own), "filename": "a.png",
                                                           "content_type": "image/png", "size": "10"})
    assert grant.status == 404
    assert "我来捣乱" not in alice_in.get(f"/help/cases/{case_id}").text


def test_posts_without_the_csrf_token_change_nothing(alice_in):
    case_id = _case_id(_open(alice_in)[0])
    for action, fields in (("reply", {"message": "hi"}), ("escalate", {"reason": "没解决"}),
                           ("attachments", {"filename": "a.png", "content_type": "image/png", "size": "10"})):
        refused = alice_in.post(f"/help/cases/{case_id}/{action}", fields)
        assert refused.status == 403, (action, refused.text)
        wrong = alice_in.post(f"/help/cases/{case_id}/{action}", {**fields, "csrf_token": "x" * 43})
        assert wrong.status == 403
    page = alice_in.get(f"/help/cases/{case_id}")
    assert 'data-testid="message"' not in page.text


def test_reply_confirm_with_rating_and_staff_see_it(alice_in, api, agent, business_morning, browser_for,
                                                      demo_password):
    case_id = _case_id(_open(alice_in)[0])
    api.post(f"/support/cases/{case_id}/reply", token=agent.token, json_body={"message": "请提供扣款短信截图"})
    page = alice_in.get(f"/help/cases/{case_id}")
    assert "请提供扣款短信截图" in page.text and "等待您回复" in page.text
    sent = _form(alice_in, f"/help/cases/{case_id}", {"_action": "reply", "message": "截图稍后上传"})
    assert sent.status == 303 and sent.headers["location"].endswith("?done=sent#conversation")
    assert "截图稍后上传" in alice_in.get(f"/help/cases/{case_id}").text

    api.post(f"/support/cases/{case_id}/resolve", token=agent.token, json_body={"summary": "已到账"})
    page = alice_in.get(f"/help/cases/{case_id}")
    assert 'data-testid="confirm-form"' in page.text and 'data-testid="reopen-form"' in page.text
    no_rating = _form(alice_in, f"/help/cases/{case_id}", {"_action": "confirm", "comment": "好"})
    assert no_rating.status == 400 and "满意度" in no_rating.text
    done = _form(alice_in, f"/help/cases/{case_id}", {"_action": "confirm", "rating": "4", "comment": "很快"})
    assert done.status == 303
    page = alice_in.get(f"/help/cases/{case_id}")
    assert "已关闭" in page.text and 'data-testid="satisfaction"' in page.text and "很快" in page.text
    staff = api.get(f"/support/cases/{case_id}", token=agent.token).json
    assert staff["satisfaction"]["rating"] == 4 and staff["satisfaction"]["comment"] == "很快"
    desk = browser_for()
    assert desk.sign_in("agent", agent.username, demo_password).status == 303
    shown = re.search(r'data-testid="satisfaction">(.*?)</section>', desk.get(f"/agent/cases/{case_id}").text, re.S)
    assert shown and 'data-testid="rating">4<' in shown.group(1) and "很快" in shown.group(1)


def test_reopen_within_seven_days_and_escalate_with_a_reason(alice_in, api, agent, lead, business_morning,
                                                              demo_password):
    from devtools import team_inbox

    def inbox(team):
        return team_inbox.receive(team)

    case_id = _case_id(_open(alice_in)[0])
    page = alice_in.get(f"/help/cases/{case_id}")
    assert 'data-testid="escalate-hint"' in page.text and 'data-testid="escalate-form"' not in page.text
    api.post(f"/support/cases/{case_id}/resolve", token=agent.token, json_body={"summary": "已到账"})
    reopened = _form(alice_in, f"/help/cases/{case_id}", {"_action": "reopen", "reason": "其实还没到账"})
    assert reopened.status == 303
    api.post(f"/support/cases/{case_id}/reply", token=agent.token, json_body={"message": "再等一天"})
    inbox("senior")
    up = _form(alice_in, f"/help/cases/{case_id}", {"_action": "escalate", "reason": "答复没有解决"})
    assert up.status == 303 and up.headers["location"].endswith("?done=escalated")
    page = alice_in.get(f"/help/cases/{case_id}")
    assert "高级客服" in page.text and "答复没有解决" in page.text
    assert [m["event"] for m in inbox("senior")] == ["case.arrived"]

    # past the 7 days the reopen form is gone, and a stale form is refused
    assert api.post(f"/support/cases/{case_id}/resolve", token=lead.token,
                    json_body={"summary": "已处理"}).status == 200
    business_morning.advance(dt.timedelta(days=7, minutes=1))
    assert alice_in.get(f"/help/cases/{case_id}").status == 303   # the session itself ended long ago
    alice_in.sign_in("help", "alice", demo_password)
    page = alice_in.get(f"/help/cases/{case_id}")
    assert 'data-testid="reopen-form"' not in page.text
    late = alice_in.post(f"/help/cases/{case_id}/reopen", {"csrf_token": alice_in.csrf(page), "reason": "还有问题"})
    assert late.status == 409 and "7 天" in late.text


def test_messages_since_poll_and_suggestions_for_the_form(alice_in, api, agent, business_morning):
    case_id = _case_id(_open(alice_in)[0])
    first = alice_in.get(f"/help/cases/{case_id}/messages")
    assert first.status == 200 and first.json["items"] == []
    api.post(f"/support/cases/{case_id}/reply", token=agent.token, json_body={"message": "在的，请稍等"})
    newer = alice_in.get(f"/help/cases/{case_id}/messages").json
    assert [m["text"] for m in newer["items"]] == ["在的，请稍等"] and newer["status"] == "waiting_user"
    assert alice_in.get(f"/help/cases/{case_id}/messages?after={newer['cursor']}").json["items"] == []

    found = alice_in.get("/help/cases/suggestions?q=" + quote("还款失败了怎么办"))
    assert found.status == 200 and found.json["items"]
    assert all(item["url"].startswith("/help/articles/") for item in found.json["items"])
    assert alice_in.get("/help/cases/suggestions?q=").json["items"] == []


def test_an_opened_suggestion_counts_as_a_deflection_without_the_user(alice_in, business_morning):
    from chalicelib.escalation import store
    page = alice_in.get("/help/cases/new")
    answer = alice_in.post("/help/cases/deflections", {"csrf_token": alice_in.csrf(page), "slug": "repayment-failed",
                                                        "q": "还款失败了怎么办"})
    assert answer.status == 204
    assert alice_in.post("/help/cases/deflections", {"slug": "repayment-failed"}).status == 403  # no CSRF
    day = "2026-11-24"
    assert store.deflections(day) == {"repayment-failed": {"opened": 1, "returned": 0}}
    # Back on the form, the 工单 is opened after all: not a deflection.
    _open(alice_in, suggestions_opened="repayment-failed")
    assert store.deflections(day) == {"repayment-failed": {"opened": 1, "returned": 1}}
    item = store._table().get_item(Key={"pk": f"DEFLECTION#{day}", "sk": "repayment-failed"})["Item"]
    assert set(item) == {"pk", "sk", "opened", "returned"}   # no user, no text


def test_attachment_grant_and_download_through_the_page(alice_in, api, agent, business_morning, browser_for,
                                                         demo_password):
    import requests
    case_id = _case_id(_open(alice_in)[0])
    page = alice_in.get(f"/help/cases/{case_id}")
    too_big = alice_in.post(f"/help/cases/{case_id}/attachments", {
        "csrf_token": alice_in.csrf(page), "filename": "a.png", "content_type": "image/png",
        "size": str(10 * 1024 * 1024 + 1)})
    assert too_big.status == 400 and too_big.json["error"]["code"] == "attachment_too_large"
    grant = alice_in.post(f"/help/cases/{case_id}/attachments", {
        "csrf_token": alice_in.csrf(page), "filename": "短信.png", "content_type": "image/png", "size": "12"})
    assert grant.status == 201, grant.text
    uploaded = requests.post(grant.json["url"], data=grant.json["fields"],
                             files={"file": ("短信.png", b"\x89PNG-bytes!", "image/png")}, timeout=10)
    assert uploaded.status_code in (200, 204)
    page = alice_in.get(f"/help/cases/{case_id}")
    assert "短信.png" in page.text
    aid = re.search(rf'/help/cases/{case_id}/attachments/([^"]+)"', page.text).group(1)
    download = alice_in.get(f"/help/cases/{case_id}/attachments/{aid}")
    assert download.status == 303 and "response-content-disposition=attachment" in download.headers["location"]
    assert requests.get(download.headers["location"], timeout=10).content == b"\x89PNG-bytes!"
    assert alice_in.get(f"/help/cases/{case_id}/attachments/20260101000000-deadbeef").status == 404
    export = alice_in.get(f"/help/cases/{case_id}/export.html")
    assert export.status == 200 and "短信.png" in export.text
    staff = browser_for()   # the agent's 工单 page lists the evidence and hands out its own short-lived link
    assert staff.sign_in("agent", agent.username, demo_password).status == 303
    staff_page = staff.get(f"/agent/cases/{case_id}")
    assert "短信.png" in staff_page.text
    staff_download = staff.get(f"/agent/cases/{case_id}/attachments/{aid}")
    assert staff_download.status == 303
    assert requests.get(staff_download.headers["location"], timeout=10).content == b"\x89PNG-bytes!"
    refused = alice_in.get(f"/agent/cases/{case_id}/attachments/{aid}")   # the owner, but at the staff door
    assert refused.status in (303, 403) and "X-Amz-Signature" not in (refused.headers.get("location") or "")
