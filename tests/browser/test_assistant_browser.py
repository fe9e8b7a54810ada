"""The 智能客服 page in a real browser (Debian's Chromium) against the real local stack: with script a message
and a clarifying button are answered in place, 转人工 stays one tap away; without script the same form posts and
the page comes back with the transcript. Screenshots at 375 px and 1280 px in ``test-artifacts/``
(``docs/assistant-*.png`` are copies)."""
from __future__ import annotations

import uuid

import pytest

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE, assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture(scope="module")
def user(local_stack):
    from infra import local
    name = f"as-user-{uuid.uuid4().hex[:6]}"
    local_stack.token(name, phone="+8613800138081")
    return name, local.DEMO_PASSWORD


def open_signed_in(browser, local_stack, user, **options):
    context = browser.new_context(base_url=local_stack.api_url, **options)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto("/help/assistant")
    page.wait_for_url("**/help/login?next=**")
    page.get_by_label("用户名").fill(user[0])
    page.get_by_label("密码").fill(user[1])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/help/assistant")
    return context, page


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("size,width", [(PHONE, 375), (DESKTOP, 1280)])
def test_with_script_answers_arrive_in_place(browser, local_stack, user, size, width):
    context, page = open_signed_in(browser, local_stack, user, **size)
    try:
        page.goto("/help/assistant?new=1")
        assert page.get_by_test_id("handover").is_visible()
        page.get_by_test_id("chat-text").fill("还款又失败了咋回事")
        page.get_by_test_id("send").click()
        answer = page.get_by_test_id("turn-assistant").last
        answer.wait_for()
        assert "余额不足" in answer.inner_text()
        assert "/help/assistant?new=1" in page.url            # answered in place, no reload
        assert page.get_by_role("link", name="还款失败的原因和处理办法").first.is_visible()
        assert page.get_by_test_id("handover").is_visible()
        page.get_by_test_id("chat-text").fill("😭🙏")
        page.get_by_test_id("send").click()
        page.get_by_role("button", name="验证码问题").click()
        page.get_by_text("60 秒后可以重新获取").wait_for()
        assert page.get_by_test_id("turn-user").count() == 3
        fits(page, width)
        shot(page, f"assistant-{width}")
        assert_accessible(page, f"assistant at {width}px")
    finally:
        context.close()


def test_without_script_each_turn_is_a_form_post(browser, local_stack, user):
    context, page = open_signed_in(browser, local_stack, user, java_script_enabled=False, **PHONE)
    try:
        page.goto("/help/assistant?new=1")
        page.get_by_test_id("chat-text").fill("收不到验证码")
        page.get_by_test_id("send").click()
        page.wait_for_url("**/help/assistant?c=**")
        assert "验证码" in page.get_by_test_id("turn-assistant").last.inner_text()
        assert page.get_by_test_id("turn-user").last.inner_text().endswith("收不到验证码")
        page.get_by_test_id("action").filter(has_text="问题已解决").click()
        page.wait_for_load_state()
        assert "不客气" in page.get_by_test_id("turn-assistant").last.inner_text()
        assert page.get_by_test_id("handover").is_visible()
        shot(page, "assistant-noscript-375")
    finally:
        context.close()
