"""The failure notice's 「问智能客服」 in a real browser against the local stack (#24 item 1): a wallet user whose loan
repayment failed for insufficient funds opens 「消息」 at 375 px, follows 「问智能客服」 on the failure notice and,
without typing, reads that repayment's amount and reason with a 重试还款 button; taps it (script on: the first
tap starts the conversation about that repayment) and sees 处理中; then the same at 1280 px without script for
another look. Screenshots ``test-artifacts/assistant-about-*.png``."""
from __future__ import annotations

import uuid

import pytest
import requests

from devtools import seed_repay
from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE
from tests.browser.test_assistant_grounded_browser import sign_in
from tests.conftest import wait_for_status

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture(scope="module")
def failed(local_stack):
    from infra import local
    user = f"ab-alice-{uuid.uuid4().hex[:6]}"
    headers = {"Authorization": f"Bearer {local_stack.token(user, phone='+8613800138093')}"}
    key, body = next((k, b) for k, b in seed_repay.ALICE if k == "seed-alice-loan")
    created = requests.post(f"{local_stack.api_url}/repayments", json=body, timeout=15,
                            headers={**headers, "Idempotency-Key": f"{key}-{user}"})
    assert created.status_code == 201, created.text
    shown = wait_for_status(f"{local_stack.api_url}/repayments/{created.json()['id']}", headers, {"failed"})
    return {"user": user, "password": local.DEMO_PASSWORD, "id": shown["id"], "headers": headers}


def test_the_failure_notice_opens_the_assistant_about_that_repayment(browser, local_stack, failed):
    context = browser.new_context(base_url=local_stack.api_url, **PHONE)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        sign_in(page, "/help/notices", "help", failed["user"], failed["password"])
        page.wait_for_url("**/help/notices")
        page.get_by_test_id("ask-assistant").first.click()
        page.wait_for_url(f"**/help/assistant?repayment={failed['id']}")
        opening = page.get_by_test_id("turn-assistant").last.inner_text()
        assert "800.51" in opening and "余额不足" in opening
        assert page.evaluate("document.documentElement.scrollWidth") <= 375     # no horizontal scroll
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "assistant-about-375.png"), full_page=True)
        before = page.get_by_test_id("turn-assistant").count()
        page.get_by_test_id("action").filter(has_text="重试还款").click()
        page.get_by_test_id("turn-assistant").nth(before).wait_for()
        assert "处理中" in page.get_by_test_id("turn-assistant").last.inner_text()
    finally:
        context.close()
    shown = requests.get(f"{local_stack.api_url}/repayments/{failed['id']}", headers=failed["headers"], timeout=15)
    assert shown.json()["attempt"] == 2

    plain = browser.new_context(base_url=local_stack.api_url, java_script_enabled=False, **DESKTOP)
    desk = plain.new_page()
    desk.set_default_timeout(20_000)
    try:
        sign_in(desk, f"/help/assistant?repayment={failed['id']}", "help", failed["user"], failed["password"])
        desk.wait_for_url("**/help/assistant?repayment=*")
        assert "800.51" in desk.get_by_test_id("turn-assistant").last.inner_text()
        desk.screenshot(path=str(ARTIFACTS / "assistant-about-1280.png"), full_page=True)
        desk.get_by_test_id("chat-text").fill("什么时候能到账")
        desk.get_by_test_id("send").click()
        desk.wait_for_url("**/help/assistant?c=*")
        assert desk.get_by_test_id("turn-assistant").count() == 2            # the opening kept, then the answer
    finally:
        plain.close()
