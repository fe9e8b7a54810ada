"""The wallet user's front door in a real browser (Debian's Chromium) against the real local stack (issue #20).

A user with repayments — one settled, one failed for lack of funds (retryable), one failed for a wrong account —
opens /help, follows 提交工单 in the header (signs in on the way), gets suggested articles while typing, submits
and lands on the new 工单; opens 我的还款, the failed loan's detail, retries it and sees 处理中; opens the settled
repayment's 电子回单 and checks it on the public page its printed address opens (also as a third party, signed
out). Screenshots at 375 px and 1280 px land in ``test-artifacts/help-door-*.png`` (``docs/`` has copies).
"""
from __future__ import annotations

import contextlib
import os
import signal
import uuid

import pytest
import requests

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE
from tests.conftest import wait_for_status

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
CARD = "6225880137654324"


@pytest.fixture(scope="module")
def wallet_user(local_stack):
    """A user seeded like alice: a settled card repayment, a failed loan (retryable), a failed bill (not)."""
    from infra import local
    name = f"door-{uuid.uuid4().hex[:6]}"
    token = local_stack.token(name, phone="+8613800138081")
    auth = {"Authorization": f"Bearer {token}"}
    made = {}
    for label, body in (
            ("card", {"amount": "1234.50",
                      "payee": {"kind": "credit_card", "issuer": "招商银行", "card_number": CARD}}),
            ("loan", {"amount": "800.51", "payee": {"kind": "loan", "platform": "微粒贷",
                                                    "contract_number": "WLD-2026-0001"}}),
            ("power", {"amount": "88.55", "payee": {"kind": "utility", "utility": "electricity",
                                                    "biller": "国网上海市电力公司", "account_number": "3100123456",
                                                    "city": "上海"}})):
        answer = requests.post(f"{local_stack.api_url}/repayments", json=body, timeout=30,
                               headers={**auth, "Idempotency-Key": f"{name}-{label}"})
        assert answer.status_code == 201, answer.text
        made[label] = answer.json()["id"]
    for label, status in (("card", "succeeded"), ("loan", "failed"), ("power", "failed")):
        wait_for_status(f"{local_stack.api_url}/repayments/{made[label]}", auth, {status}, timeout=60)
    return name, local.DEMO_PASSWORD, made


@pytest.fixture
def context_for(browser, local_stack):
    opened = []

    def make(**options):
        context = browser.new_context(base_url=local_stack.api_url, **(options or PHONE))
        opened.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        return context, page
    yield make
    for context in opened:
        context.close()


@contextlib.contextmanager
def settlement_paused(local_stack):
    """The stack's event runner stopped (SIGSTOP) for the block: what was just submitted stays 处理中."""
    runner = next(child.proc for child in local_stack.children if child.name == "event runner")
    os.kill(runner.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(runner.pid, signal.SIGCONT)


def shot(page, name: str) -> None:
    """The whole page, the viewport stretched to it first: the fixed call bar shows at the page's end, where a
    reader scrolling down sees it, not pinned halfway down the picture."""
    ARTIFACTS.mkdir(exist_ok=True)
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": page.evaluate("document.documentElement.scrollHeight")})
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    finally:
        page.set_viewport_size(size)


def fits(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide at {width}px"


def sign_in_here(page, username: str, password: str) -> None:
    page.wait_for_url("**/help/login?next=**")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_help_to_a_new_case_through_the_header(context_for, wallet_user):
    name, password, _ = wallet_user
    _, page = context_for()
    page.goto("/help")
    assert page.get_by_test_id("nav-login").is_visible() and page.get_by_test_id("nav-my-repayments").is_visible()
    fits(page, 375)
    page.get_by_test_id("door-nav").get_by_test_id("nav-new-case").click()
    sign_in_here(page, name, password)
    page.wait_for_url("**/help/cases/new")
    assert page.get_by_test_id("signed-in-as").inner_text() == name
    assert page.locator("#repayment option").count() == 4            # 不关联 + her three repayments
    page.get_by_label("问题类别").select_option("repayment_failed")
    page.get_by_label("问题描述").press_sequentially("贷款还款失败了，提示余额不足", delay=20)
    page.get_by_test_id("suggestions").wait_for(state="visible")
    assert page.get_by_test_id("suggestion-link").count() >= 1
    page.get_by_label("关联还款（可选）").select_option(label=page.locator("#repayment option").filter(
        has_text="800.51 元").inner_text())
    page.get_by_test_id("submit-case").click()
    page.wait_for_url("**/help/cases/RD-*")
    assert page.get_by_test_id("case-status").inner_text() == "处理中"
    linked = page.get_by_test_id("linked-repayment")
    assert "800.51 元 · 微粒贷借款（合同尾号 0001） · 还款失败" in linked.inner_text()
    fits(page, 375)
    shot(page, "help-door-case-375")
    page.goto("/help")
    assert page.get_by_test_id("signed-in-as").inner_text() == name
    shot(page, "help-door-home-375")
    page.goto("/help/cases")
    assert "贷款还款失败了，提示余额不足" in page.get_by_test_id("case-row-subject").first.inner_text()


def test_my_repayments_retry_and_a_receipt_checked_on_the_public_page(context_for, local_stack, wallet_user):
    name, password, made = wallet_user
    _, page = context_for()
    page.goto("/help/repayments")
    sign_in_here(page, name, password)
    page.wait_for_url("**/help/repayments")
    assert page.get_by_test_id("repayment-row").count() == 3
    fits(page, 375)
    shot(page, "help-door-repayments-375")

    # The failed loan: why, what next, the article; retry → 处理中.
    page.get_by_test_id("repayment-row").filter(has_text="微粒贷").locator("a.money-row").click()
    page.wait_for_url(f"**/help/repayments/{made['loan']}")
    assert page.get_by_test_id("repayment-status").inner_text() == "还款失败"
    assert "余额不足" in page.get_by_test_id("failure").inner_text()
    assert page.get_by_test_id("failure-article").get_attribute("href") == "/help/articles/repayment-failed"
    fits(page, 375)
    shot(page, "help-door-failed-375")
    with settlement_paused(local_stack):
        page.get_by_test_id("retry-button").click()
        page.wait_for_url("**?done=retried")
        assert page.get_by_test_id("repayment-status").inner_text() == "处理中"
        assert "已重新提交" in page.get_by_test_id("done-notice").inner_text()
        assert page.get_by_test_id("retry-form").count() == 0
    # once the worker runs again the retry settles (the simulator's .51 succeeds on the second attempt)
    auth = {"Authorization": f"Bearer {local_stack.token(name)}"}
    wait_for_status(f"{local_stack.api_url}/repayments/{made['loan']}", auth, {"succeeded"}, timeout=60)
    page.reload()
    assert page.get_by_test_id("repayment-status").inner_text() == "已到账"

    # The settled card's receipt, and its printed address opens the public check, prefilled.
    page.goto(f"/help/repayments/{made['card']}")
    page.get_by_test_id("receipt-link").click()
    page.wait_for_url(f"**/help/repayments/{made['card']}/receipt")
    serial = page.get_by_test_id("serial").inner_text()
    address = page.get_by_test_id("check-url").get_attribute("href")
    assert address.startswith(f"{local_stack.api_url}/help/receipts/verify?serial={serial}&code=")
    page.get_by_test_id("check-url").click()
    page.wait_for_url("**/help/receipts/verify?**")
    result = page.get_by_test_id("check-result")
    assert result.get_attribute("data-valid") == "true" and "1234.50 元" in result.inner_text()
    assert page.get_by_label("回单流水号").input_value() == serial
    fits(page, 375)
    shot(page, "help-door-receipt-check-375")

    # A third party, signed out, with the address as printed; and with one character changed.
    _, stranger = context_for(**DESKTOP)
    stranger.goto(address)
    assert stranger.get_by_test_id("check-result").get_attribute("data-valid") == "true"
    assert stranger.get_by_test_id("nav-login").is_visible()
    fits(stranger, 1280)
    shot(stranger, "help-door-receipt-check-1280")
    code = stranger.get_by_label("校验码")
    original = code.input_value()
    code.fill(original[:-1] + ("0" if original[-1] != "0" else "1"))
    stranger.get_by_test_id("check-button").click()
    assert stranger.get_by_test_id("check-result").get_attribute("data-valid") == "false"
    # the JSON check's address, opened in a browser, lands on the page too
    stranger.goto(f"/receipts/verify?serial={serial}&code={original}")
    assert "/help/receipts/verify?" in stranger.url
    assert stranger.get_by_test_id("check-result").get_attribute("data-valid") == "true"


def test_desktop_pages_and_an_error_page(context_for, wallet_user):
    name, password, made = wallet_user
    _, desk = context_for(**DESKTOP)
    desk.goto("/help/repayments")
    sign_in_here(desk, name, password)
    desk.wait_for_url("**/help/repayments")
    fits(desk, 1280)
    shot(desk, "help-door-repayments-1280")
    desk.goto(f"/help/repayments/{made['power']}")
    assert desk.get_by_test_id("retry-form").count() == 0
    assert "核对收款信息" in desk.get_by_test_id("next-step").inner_text()
    fits(desk, 1280)
    shot(desk, "help-door-failed-1280")
    desk.goto("/help/notices")
    assert desk.get_by_test_id("notice-row").count() >= 3
    fits(desk, 1280)
    shot(desk, "help-door-notices-1280")
    desk.goto("/help/articles/repayment-failed")
    desk.get_by_test_id("case-from-article").click()
    desk.wait_for_url("**/help/cases/new?article=repayment-failed")
    assert "还款失败的原因和处理办法" in desk.get_by_test_id("from-article").inner_text()
    # a repayment that is not hers: a page with a way back, not JSON
    response = desk.goto("/help/repayments/rp_00000000000000000000")
    assert response.status == 404 and desk.get_by_role("heading", level=1).inner_text() == "找不到这笔记录"
    assert desk.get_by_role("link", name="返回我的还款").is_visible()
