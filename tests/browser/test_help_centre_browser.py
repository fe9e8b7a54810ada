"""The help centre in a real browser: Debian's Chromium, headless, on a 375 px wide phone screen.

A user searches the way people type, opens the article, votes (and the vote is stored),
checks a caller's number, and the hotline stays one tap away. Screenshots land in
``test-artifacts/`` (the README's ``docs/help-centre.png`` is one of them).
"""
from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.browser.conftest import ARTIFACTS, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.e2e]



@pytest.fixture
def phone(browser, local_stack):
    context = browser.new_context(base_url=local_stack.api_url, **PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))  # what the phone shows, fixed call bar included
    return path


def assert_fits_phone(page):
    """Nothing wider than the 375 px screen (no sideways scrolling) and the hotline is visible."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} is {width}px wide"
    call = page.get_by_test_id("call-hotline")
    assert call.get_attribute("href") == "tel:01000001001"
    box = call.bounding_box()
    assert box and 0 <= box["y"] and box["y"] + box["height"] <= 812, "hotline button must be on screen"
    assert page.get_by_test_id("call-security").get_attribute("href") == "tel:01000001002"


def test_search_open_article_and_vote(phone, local_stack):
    phone.goto("/help")
    assert phone.locator("html").get_attribute("lang") == "zh-CN"
    assert_fits_phone(phone)
    shot(phone, "help-home")

    # A typo, as typed on a phone keyboard.
    phone.get_by_role("searchbox").fill("还款失拜")
    phone.get_by_role("searchbox").press("Enter")
    phone.wait_for_url("**/help/search?q=*")
    first = phone.locator("article.result").first
    assert "还款失败" in first.locator("h2").inner_text()
    assert first.locator("mark").count() >= 1
    assert phone.get_by_test_id("suggestion").inner_text().endswith("还款失败")
    assert_fits_phone(phone)
    shot(phone, "help-search")

    first.locator("h2 a").click()
    phone.wait_for_url("**/help/articles/repayment-failed")
    assert phone.locator("h1").inner_text() == "还款失败的原因和处理办法"
    assert_fits_phone(phone)

    # Vote "helpful": a thank-you replaces the buttons.
    phone.get_by_role("button", name="有帮助").first.click()
    thanks = phone.get_by_test_id("feedback-thanks")
    thanks.wait_for(state="visible")
    assert "谢谢" in thanks.inner_text()
    assert phone.get_by_test_id("feedback-actions").is_hidden()
    shot(phone, "help-article-voted")

    # Another reader: "not helpful", with a comment.
    phone.reload()
    phone.get_by_role("button", name="没有帮助").click()
    phone.get_by_label("哪里没说清楚").fill("没说维护一般多久结束")
    phone.get_by_role("button", name="提交").click()
    phone.get_by_test_id("feedback-thanks").wait_for(state="visible")
    assert "改进" in phone.get_by_test_id("feedback-thanks").inner_text()

    # Both votes were stored: support sees them in the knowledge-base gaps report.
    support_token = local_stack.token("kb-browser-agent", role="support", phone="+8613800138099")
    gaps = requests.get(f"{local_stack.api_url}/support/kb-gaps", timeout=10,
                        headers={"Authorization": f"Bearer {support_token}"})
    assert gaps.status_code == 200, gaps.text
    article = next(a for a in gaps.json()["least_helpful_articles"] if a["slug"] == "repayment-failed")
    assert (article["helpful"], article["not_helpful"]) == (1, 1)
    from chalicelib.search import store  # this process points at the stack's moto server (token() set it)
    assert "没说维护一般多久结束" in [vote["comment"] for vote in store.votes("repayment-failed")]


def test_check_a_callers_number(phone):
    phone.goto("/help/contact")
    assert_fits_phone(phone)
    checker = phone.get_by_label("要核实的电话号码")
    result = phone.get_by_test_id("check-result")

    checker.fill("010-0000-10020")  # one digit added to the security line: a classic fake
    phone.get_by_role("button", name="核实").click()
    result.locator('[data-verdict="scam_pattern"] .verdict', has_text="疑似冒充本钱包的诈骗号码").wait_for()
    assert "冒充客服" in result.inner_text() or "诈骗" in result.inner_text()
    assert result.get_by_role("link").get_attribute("href") == "/help/articles/fake-hotline-scams"
    assert "number=" not in phone.url  # answered in place by /contacts/verify, no page load
    shot(phone, "help-contact-scam")

    checker.fill("95588")  # a bank's own customer-service line: not ours, and no fraud verdict on it
    phone.get_by_role("button", name="核实").click()
    result.locator('[data-verdict="not_ours"] .verdict', has_text="不是本钱包的号码").wait_for()
    assert "诈骗" not in result.inner_text() and "自称本钱包客服" in result.inner_text()
    shot(phone, "help-contact-not-ours")

    checker.fill("+86 021-0000-1003")
    phone.get_by_role("button", name="核实").click()
    result.locator(".notice.ok .verdict", has_text="官方号码").wait_for()
    assert "备用热线" in result.inner_text()

    checker.fill("010-0000-1002abc")
    phone.get_by_role("button", name="核实").click()
    phone.get_by_text("只能包含数字").wait_for()

    # The scam warning's link leads to the article that explains how to check a number.
    checker.fill("13800138000")
    phone.get_by_role("button", name="核实").click()
    result.get_by_role("link").click()
    phone.wait_for_url("**/help/articles/fake-hotline-scams")
    assert "谨防冒充客服诈骗" in phone.locator("h1").inner_text()


def test_friendly_pages_for_bad_input(phone):
    response = phone.goto("/help/search?q=%20")
    assert response.status == 400
    assert "请输入你想问的问题" in phone.get_by_test_id("search-problem").inner_text()
    assert_fits_phone(phone)
    response = phone.goto("/help/articles/does-not-exist")
    assert response.status == 404
    assert phone.locator("h1").inner_text() == "找不到这篇文章"
    assert_fits_phone(phone)
