"""「我的还款」 in the help centre (/help/repayments, /help/bills, /help/notices) and the public receipt check page.

alice and bob are seeded as ``make serve`` seeds them (``demo``): alice has a settled card repayment (1234.50),
a failed loan (800.51, insufficient funds: retryable), a failed electricity bill (88.55, invalid account: not
retryable) and a delayed card repayment (300.56); her card bill is due in 3 days with reminders on.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


@pytest.fixture
def alice_in(demo, signed_in):
    return signed_in("alice")


def _retry_form(b, repayment_id: str) -> dict:
    page = b.get(f"/help/repayments/{repayment_id}")
    assert page.status == 200, page.text
    return {"csrf_token": b.csrf(page), "idempotency_key": KEY.search(page.text).group(1)}


def _status(demo, amount: str) -> tuple[str, int]:
    from chalicelib.kernel.actor import Actor
    from chalicelib.repay import service
    user = demo.users["alice"]
    found = service.get(Actor(user_id=user.user_id, username=user.username), demo.repayment("alice", amount)["id"],
                        service.current())
    return found["status"], found["attempt"]


def test_pages_need_the_help_session(demo, api):
    for path in ("/help/repayments", "/help/bills", "/help/notices",
                 f"/help/repayments/{demo.repayment('alice', '800.51')['id']}"):
        answer = api.get(path)
        assert answer.status == 303 and answer.headers["location"] == "/help/login?next=" + path, path


def test_the_list_shows_each_repayment_in_words(alice_in, demo):
    page = alice_in.get("/help/repayments")
    assert page.status == 200 and page.headers["cache-control"] == "no-store"
    rows = re.findall(r'data-testid="repayment-row">.*?</li>', page.text, re.S)
    assert len(rows) == 4

    def row(payee: str) -> str:
        return next(r for r in rows if payee in r)
    assert "处理中" in row("工商银行信用卡（尾号 4324）")
    assert "预计 2026-11-24 到账" in row("工商银行信用卡（尾号 4324）")
    assert "还款失败" in row("国网上海市电力公司电费（户号尾号 3456）")
    assert "可重试" not in row("国网上海市电力公司电费")
    assert "还款失败" in row("微粒贷借款（合同尾号 0001）") and "可重试" in row("微粒贷借款（合同尾号 0001）")
    assert "1234.50 元" in row("招商银行信用卡（尾号 4324）") and "已到账" in row("招商银行信用卡（尾号 4324）")
    assert "6225880137654324" not in page.text                      # never the card number
    assert 'aria-current="page">还款记录' in page.text and 'data-testid="unread-count">4<' in page.text


def test_the_list_is_newest_first_and_pages_on_with_a_cursor(alice_in, demo, business_morning):
    import datetime as dt

    from chalicelib.kernel.actor import Actor
    from chalicelib.repay import schemas, service
    user = demo.users["alice"]
    actor = Actor(user_id=user.user_id, username=user.username)
    for n in range(8):
        business_morning.advance(dt.timedelta(minutes=1))
        body = {"amount": f"{10 + n}.00",
                "payee": {"kind": "loan", "platform": "微粒贷", "contract_number": "WLD-2026-0001"}}
        service.create(actor, f"more-{n}", schemas.RepaymentRequest.model_validate(body), service.current())
    first = alice_in.get("/help/repayments")
    assert re.findall(r'class="amount">([0-9.]+) 元', first.text)[:8] == [f"{17 - n}.00" for n in range(8)]
    assert first.text.count('data-testid="repayment-row"') == 10
    cursor = re.search(r'href="/help/repayments\?cursor=([^"]+)"', first.text).group(1)
    second = alice_in.get(f"/help/repayments?cursor={cursor}")
    assert second.text.count('data-testid="repayment-row"') == 2 and "17.00 元" not in second.text
    assert 'data-testid="next-page"' not in second.text
    made_up = alice_in.get("/help/repayments?cursor=bm9wZQ")
    assert made_up.status == 400 and "翻页标记无效" in made_up.text and "cursor" not in made_up.text.split("<main>")[1]


def test_a_failed_loan_says_why_what_next_and_offers_a_retry(alice_in, demo):
    loan = demo.repayment("alice", "800.51")
    page = alice_in.get(f"/help/repayments/{loan['id']}")
    assert page.status == 200
    text = page.text
    assert 'data-testid="repayment-status">还款失败<' in text
    assert "付款账户余额不足，银行未能扣款。" in text and "请先充值或更换付款卡" in text
    assert 'href="/help/articles/repayment-failed"' in text and "《还款失败的原因和处理办法》" in text
    assert 'data-testid="retry-form"' in text and 'data-testid="receipt-link"' not in text
    assert 'data-testid="expected-arrival">2026-11-24（实时到账）' in text and "尚未到账" in text
    assert f"/help/cases/new?repayment_id={loan['id']}&amp;category=repayment_failed" in text


def test_a_not_retryable_failure_offers_no_retry_and_a_settled_one_its_receipt(alice_in, demo):
    bill = alice_in.get(f"/help/repayments/{demo.repayment('alice', '88.55')['id']}").text
    assert "收款账户信息有误" in bill and "请核对收款信息后重新发起还款" in bill
    assert 'data-testid="retry-form"' not in bill
    paid = demo.repayment("alice", "1234.50")
    page = alice_in.get(f"/help/repayments/{paid['id']}").text
    assert 'data-testid="repayment-status">已到账<' in page and 'data-testid="retry-form"' not in page
    assert f'href="/help/repayments/{paid["id"]}/receipt"' in page
    assert 'data-testid="actual-arrival">2026-11-24 10:00<' in page
    delayed = alice_in.get(f"/help/repayments/{demo.repayment('alice', '300.56')['id']}").text
    assert "处理中（到账推迟）" in delayed and "银行处理较慢，到账时间推迟" in delayed


def test_retry_is_csrf_checked_and_acts_once(alice_in, demo):
    loan = demo.repayment("alice", "800.51")["id"]
    form = _retry_form(alice_in, loan)
    refused = alice_in.post(f"/help/repayments/{loan}/retry", {"idempotency_key": form["idempotency_key"]})
    assert refused.status == 403 and "CSRF" in refused.text
    forged = alice_in.post(f"/help/repayments/{loan}/retry", {**form, "csrf_token": "x" * 43})
    assert forged.status == 403
    assert _status(demo, "800.51") == ("failed", 1)            # nothing changed

    done = alice_in.post(f"/help/repayments/{loan}/retry", form)
    assert done.status == 303 and done.headers["location"] == f"/help/repayments/{loan}?done=retried"
    page = alice_in.get(done.headers["location"]).text
    assert 'data-testid="repayment-status">处理中<' in page and "已重新提交" in page
    assert 'data-testid="retry-form"' not in page
    again = alice_in.post(f"/help/repayments/{loan}/retry", form)     # the same form sent twice: one retry
    assert again.status == 303
    assert _status(demo, "800.51") == ("processing", 2)


def test_retry_refusals_are_pages(alice_in, demo, signed_in):
    not_retryable = demo.repayment("alice", "88.55")["id"]
    form = _retry_form(alice_in, demo.repayment("alice", "800.51")["id"])
    refused = alice_in.post(f"/help/repayments/{not_retryable}/retry", form)
    assert refused.status == 409 and refused.headers["content-type"].startswith("text/html")
    assert "重试解决" in refused.text and "返回我的还款" in refused.text
    no_key = alice_in.post(f"/help/repayments/{not_retryable}/retry", {"csrf_token": form["csrf_token"]})
    assert no_key.status == 400 and "表单已过期" in no_key.text
    bob = signed_in("bob")
    theirs = bob.post(f"/help/repayments/{demo.repayment('alice', '800.51')['id']}/retry",
                      {"csrf_token": bob.csrf(bob.get("/help/repayments")), "idempotency_key": "bob-tries"})
    assert theirs.status == 404
    assert _status(demo, "800.51") == ("failed", 1)


def test_someone_elses_repayment_and_receipt_are_404_pages(demo, signed_in):
    bob = signed_in("bob")
    alices = demo.repayment("alice", "1234.50")["id"]
    for path in (f"/help/repayments/{alices}", f"/help/repayments/{alices}/receipt", "/help/repayments/rp_nonsense"):
        answer = bob.get(path)
        assert answer.status == 404 and answer.headers["content-type"].startswith("text/html"), path
        assert "找不到这笔还款" in answer.text and "1234.50" not in answer.text


def test_the_receipt_opens_with_the_session_and_prints_the_check_page_address(alice_in, demo, api, monkeypatch):
    from chalicelib import config
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://help.example.cn")
    config.reload()
    paid = demo.repayment("alice", "1234.50")["id"]
    page = alice_in.get(f"/help/repayments/{paid}/receipt")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html") and "电子回单" in page.text
    receipt = api.get(f"/repayments/{paid}/receipt", token=demo.users["alice"].token).json
    link = re.search(r'data-testid="check-url">([^<]+)<', page.text).group(1).replace("&amp;", "&")
    assert link.startswith("https://help.example.cn/help/receipts/verify?")
    assert parse_qs(urlsplit(link).query) == {"serial": [receipt["serial"]], "code": [receipt["verification_code"]]}
    early = alice_in.get(f"/help/repayments/{demo.repayment('alice', '800.51')['id']}/receipt")
    assert early.status == 409 and "还没有电子回单" in early.text and "到账后" in early.text


def test_bills_show_next_due_date_reminders_and_schedule_and_reminders_switch(alice_in, demo, signed_in):
    page = alice_in.get("/help/bills")
    assert page.status == 200
    assert "招行信用卡" in page.text and 'data-testid="bill-next-due">2026-11-27<' in page.text
    assert "已开启，下次提醒 2026-11-26 08:00" in page.text
    assert "到期前自动还款" in page.text and "1500.00 元" in page.text
    bill_id = re.search(r'id="bill-(bl_[0-9a-f]+)"', page.text).group(1)
    assert alice_in.post(f"/help/bills/{bill_id}/reminders", {"reminders": "off"}).status == 403   # no CSRF
    off = alice_in.post(f"/help/bills/{bill_id}/reminders", {"csrf_token": alice_in.csrf(page), "reminders": "off"})
    assert off.status == 303
    after = alice_in.get(off.headers["location"]).text
    assert 'data-testid="bill-reminders">已关闭<' in after and "已关闭到期提醒" in after
    bob = signed_in("bob")
    theirs = bob.post(f"/help/bills/{bill_id}/reminders", {"csrf_token": bob.csrf(bob.get("/help/bills")),
                                                            "reminders": "on"})
    assert theirs.status == 404 and "找不到这个账单" in theirs.text
    assert 'data-testid="bill-reminders">已关闭<' in alice_in.get("/help/bills").text


def test_notices_inbox_marks_read_once_and_only_ones_own(alice_in, demo, signed_in):
    page = alice_in.get("/help/notices")
    assert page.status == 200 and page.text.count('data-testid="notice-row"') == 4
    assert "4 条未读" in page.text and "未成功：付款账户余额不足" in page.text
    loan = demo.repayment("alice", "800.51")["id"]
    assert f'href="/help/repayments/{loan}"' in page.text                      # the notice links to its repayment
    notice_id = re.findall(r'action="/help/notices/(nt_[0-9a-f]+)/read"', page.text)[0]
    assert alice_in.post(f"/help/notices/{notice_id}/read", {}).status == 403
    for _ in range(2):                                                         # repeating it is harmless
        answer = alice_in.post(f"/help/notices/{notice_id}/read", {"csrf_token": alice_in.csrf(page)})
        assert answer.status == 303 and answer.headers["location"] == f"/help/notices#notice-{notice_id}"
    after = alice_in.get("/help/notices").text
    assert "3 条未读" in after and f'action="/help/notices/{notice_id}/read"' not in after
    bob = signed_in("bob")
    theirs = bob.post(f"/help/notices/{re.findall(r'/help/notices/(nt_[0-9a-f]+)/read', after)[0]}/read",
                      {"csrf_token": bob.csrf(bob.get("/help/notices"))})
    assert theirs.status == 404 and "找不到这条消息" in theirs.text
    assert "3 条未读" in alice_in.get("/help/notices").text


def test_receipt_check_page_prefilled_from_the_printed_address(demo, api):
    paid = demo.repayment("alice", "1234.50")["id"]
    receipt = api.get(f"/repayments/{paid}/receipt", token=demo.users["alice"].token).json
    blank = api.get("/help/receipts/verify")
    assert blank.status == 200 and 'data-testid="check-form"' in blank.text and "check-result" not in blank.text
    good = api.get(f"/help/receipts/verify?serial={receipt['serial']}&code={receipt['verification_code']}")
    assert good.status == 200 and 'data-valid="true"' in good.text and "1234.50 元" in good.text
    assert f'value="{receipt["serial"]}"' in good.text and f'value="{receipt["verification_code"]}"' in good.text
    altered = receipt["verification_code"][:-1] + ("0" if receipt["verification_code"][-1] != "0" else "1")
    bad = api.get(f"/help/receipts/verify?serial={receipt['serial']}&code={altered}")
    assert bad.status == 200 and 'data-valid="false"' in bad.text and "1234.50" not in bad.text
    too_long = api.get(f"/help/receipts/verify?serial={'R' * 65}&code=1")
    assert too_long.status == 400 and "不超过 64 个字符" in too_long.text
    empty = api.get("/help/receipts/verify?serial=&code=")
    assert empty.status == 400 and 'data-testid="check-form"' in empty.text


def test_a_browser_opening_the_json_check_gets_the_page_programs_keep_json(demo, api):
    query = "serial=RD0123&code=abc"
    browser = api.get(f"/receipts/verify?{query}", headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser.status == 303 and browser.headers["location"] == f"/help/receipts/verify?{query}"
    for accept in ({}, {"Accept": "application/json"}, {"Accept": "*/*"}):
        program = api.get(f"/receipts/verify?{query}", headers=accept)
        assert program.status == 200 and program.json["valid"] is False


def test_receipt_check_page_is_rate_limited_per_client_like_the_json_check(demo, api, monkeypatch):
    from chalicelib import config
    monkeypatch.setenv("RATE_LIMITS", "receipt_verify=2/300")
    config.reload()
    for _ in range(2):
        assert api.get("/help/receipts/verify?serial=RD01&code=x").status == 200
    limited = api.get("/help/receipts/verify?serial=RD01&code=x")
    assert limited.status == 429 and "操作过于频繁" in limited.text and 'data-testid="check-form"' in limited.text
    assert api.get("/receipts/verify?serial=RD01&code=x").status == 429          # one budget for both
