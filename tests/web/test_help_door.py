"""The help centre's way in: a header on every help page (登录 or the user's name, 我的工单, 提交工单, 我的还款) that
never leaks between readers, 「还是没解决？」 → a new 工单 with the article as context, subjects in 「我的工单」, and
the new-工单 form for a user who has repayments (it answered 500 for them: issue #20)."""
from __future__ import annotations

import re

import pytest

PUBLIC_PAGES = ("/help", "/help/articles/repayment-failed", "/help/search?q=还款失败", "/help/contact",
                "/help/articles/no-such-article", "/help/receipts/verify", "/help/search?category=repayment")


def _nav(text: str) -> str:
    """The page's header (brand, who is signed in or 登录, the door's links)."""
    return re.search(r'<header class="top">.*?</header>', text, re.S).group(0)


def test_every_help_page_has_the_header_and_says_sign_in_when_anonymous(demo, api):
    for path in PUBLIC_PAGES:
        page = api.get(path)
        assert page.status in (200, 404), (path, page.status)
        nav = _nav(page.text)
        for link in ('href="/help/cases"', 'href="/help/cases/new"', 'href="/help/repayments"'):
            assert link in nav, (path, link)
        assert 'data-testid="nav-login"' in nav and 'data-testid="signed-in-as"' not in nav, path
        assert page.headers["vary"] == "Cookie" and page.headers["cache-control"] == "no-cache", path
    # 登录 comes back to the page it was pressed on
    assert 'href="/help/login?next=/help/articles/repayment-failed"' in api.get("/help/articles/repayment-failed").text


def test_signed_in_the_header_names_the_user_and_the_page_is_never_stored(demo, signed_in):
    alice = signed_in("alice")
    for path in PUBLIC_PAGES + ("/help/cases", "/help/repayments", "/help/cases/new"):
        page = alice.get(path)
        nav = _nav(page.text)
        assert 'data-testid="signed-in-as">alice<' in nav and 'data-testid="nav-login"' not in nav, path
        assert 'action="/help/logout"' in nav
        assert demo.users["alice"].user_id not in page.text, path
    home = alice.get("/help")
    assert home.headers["cache-control"] == "private, no-store" and home.headers["vary"] == "Cookie"
    # bob's browser right after: his name, never alice's
    bob = signed_in("bob")
    assert 'data-testid="signed-in-as">bob<' in bob.get("/help").text and ">alice<" not in bob.get("/help").text


def test_an_ended_or_forged_session_reads_the_public_pages_anonymously(demo, api, signed_in):
    forged = api.get("/help", headers={"Cookie": "rd_session=" + "A" * 43})
    assert forged.status == 200 and 'data-testid="nav-login"' in forged.text
    alice = signed_in("alice")
    alice.post("/help/logout", {"csrf_token": alice.csrf(alice.get("/help"))})
    after = alice.get("/help")
    assert 'data-testid="nav-login"' in after.text and ">alice<" not in after.text


def test_display_name_is_never_a_uuid_or_a_full_phone_number(aws, make_user):
    from chalicelib.kernel.actor import Actor
    from chalicelib.web import helpdoor
    opaque = make_user("7c9e6679-7425-40de-944b-e07fc1f90ae7", phone="+8613912345678")
    assert helpdoor.display_name(Actor(user_id=opaque.user_id, username=opaque.username)) == "139****5678"
    assert helpdoor.display_name(Actor(user_id="x", username="+8613800138001")) == "138****8001"
    assert helpdoor.display_name(Actor(user_id="x", username="alice")) == "alice"
    nobody = Actor(user_id="x", username="0f8fad5b-d9cb-469f-a165-70867728950e")   # no such Cognito user
    assert helpdoor.display_name(nobody) == helpdoor.FALLBACK_NAME


def test_new_case_form_works_for_a_user_with_repayments_and_names_them_readably(demo, signed_in):
    alice = signed_in("alice")
    form = alice.get("/help/cases/new")
    assert form.status == 200, form.text                           # was a 500 (values.repayment_id undefined)
    options = re.findall(r'<option value="(rp_[0-9a-f]+)"[^>]*>([^<]+)</option>', form.text)
    assert len(options) == 4
    labels = dict(options)
    assert (labels[demo.repayment("alice", "800.51")["id"]]
            == "2026-11-24 · 800.51 元 · 微粒贷借款（合同尾号 0001） · 还款失败")
    # from a repayment's page: that repayment and a matching category are already chosen
    loan = demo.repayment("alice", "800.51")["id"]
    picked = alice.get(f"/help/cases/new?repayment_id={loan}&category=repayment_failed").text
    assert re.search(rf'<option value="{loan}" selected>', picked)
    assert '<option value="repayment_failed" selected>' in picked


def test_still_unsolved_opens_a_case_with_the_article_as_context(demo, signed_in, api):
    article = api.get("/help/articles/repayment-failed").text
    link = re.search(r'href="(/help/cases/new\?article=repayment-failed)"[^>]*data-testid="case-from-article"', article)
    assert link   # the 智能客服 is offered first (docs/assistant.md), the 工单 with the article as context next
    assert re.search(r'href="/help/assistant\?article=repayment-failed"[^>]*data-testid="ask-assistant"', article)
    assert api.get(link.group(1)).headers["location"].startswith("/help/login?next=/help/cases/new")
    alice = signed_in("alice")
    form = alice.get(link.group(1))
    assert 'data-testid="from-article"' in form.text
    assert '《<a href="/help/articles/repayment-failed">还款失败的原因和处理办法</a>》' in form.text
    assert '<option value="repayment_failed" selected>' in form.text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form.text).group(1)
    answer = alice.post("/help/cases", {"csrf_token": alice.csrf(form), "idempotency_key": key,
                                        "category": "repayment_failed", "article": "repayment-failed",
                                        "description": "照着文章充值了还是失败\n第二行细节"})
    assert answer.status == 303
    case = alice.get(answer.headers["location"]).text
    assert "提交前看过帮助文章：《还款失败的原因和处理办法》" in case
    listed = alice.get("/help/cases").text
    subjects = re.findall(r'data-testid="case-row-subject">([^<]+)<', listed)
    assert "照着文章充值了还是失败" in subjects and "信用卡还款两天了还没到账，银行说没收到" in subjects
    # a made-up article is no context
    form = alice.get("/help/cases/new?article=../../etc")
    assert form.status == 200 and 'data-testid="from-article"' not in form.text


def test_case_page_shows_the_linked_repayment_readably_with_a_link(demo, signed_in):
    alice = signed_in("alice")
    case_id = demo.cases("alice")[0]
    delayed = demo.repayment("alice", "300.56")["id"]
    page = alice.get(f"/help/cases/{case_id}").text
    linked = re.search(r'<a href="([^"]+)" data-testid="linked-repayment">([^<]+)</a>', page)
    assert linked.group(1) == f"/help/repayments/{delayed}"
    assert linked.group(2) == "2026-11-24 · 300.56 元 · 工商银行信用卡（尾号 4324） · 处理中（到账推迟）"
    assert f"<dd>{delayed}</dd>" not in page


@pytest.mark.parametrize("text,expected", [("第一行\n第二行", "第一行"), ("\n\n  只有一行  ", "只有一行"),
                                           ("长" * 50, "长" * 39 + "…")])
def test_subject_is_the_first_line_cut_short(text, expected):
    from chalicelib.web.mycases import subject
    assert subject(text) == expected
