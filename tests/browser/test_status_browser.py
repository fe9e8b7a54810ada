"""A service notice in a real browser: posted by a lead through the API, it shows on /help at 375 and 1280 px
(screenshots ``test-artifacts/status-help-*.png``; the lead's ``/agent/notices``
too) and leaves at its end. The end is set a few seconds after the
stack's own clock (``TEST_CLOCK_START``, shared with this process), so the test waits under a minute; the
banner's cache (5 s) is filtered by the request's moment, so it leaves exactly at its end."""
from __future__ import annotations

import datetime as dt
import time

import pytest
import requests

from chalicelib.kernel import clock
from infra import local
from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE, assert_accessible, pass_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
TEXT = "招商银行信用卡还款通道维护中，预计 14:00 恢复"


def test_a_notice_appears_on_help_and_leaves_at_its_end(browser, local_stack):
    lead = {"Authorization": f"Bearer {local_stack.token('status-lead', role='senior-support')}"}
    ends_at = clock.now() + dt.timedelta(seconds=45)   # room for two browsers to start on a busy machine
    posted = requests.post(f"{local_stack.api_url}/support/notices", headers=lead, timeout=30, json={
        "text": TEXT, "scope": "issuer:招商银行", "ends_at": ends_at.isoformat()})
    assert posted.status_code == 201, posted.text
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        for name, device in (("375", PHONE), ("1280", DESKTOP)):
            context = browser.new_context(base_url=local_stack.api_url, **device)
            page = context.new_page()
            page.goto("/help")
            # The stack is shared with this worker's other tests (the contract run posts notices too): ours by its text.
            banner = page.get_by_test_id("service-notice").filter(has_text=TEXT)
            assert banner.count() == 1 and "status-lead" not in page.content()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= device["viewport"]["width"], f"/help is {width}px wide"
            page.screenshot(path=str(ARTIFACTS / f"status-help-{name}.png"))
            if name == "375":
                assert_accessible(page, "/help with a service notice")
            context.close()
        for name, device in (("375", PHONE), ("1280", DESKTOP)):    # the lead's workspace page, while it lasts
            context = browser.new_context(base_url=local_stack.api_url, **device)
            page = context.new_page()
            page.goto("/agent/notices")
            page.wait_for_url("**/agent/login**")
            page.get_by_label("用户名").fill("status-lead")
            page.get_by_label("密码").fill(local.DEMO_PASSWORD)
            page.get_by_role("button", name="登录").click()
            pass_second_factor(page)   # staff: the authenticator code (two-factor sign-in)
            page.wait_for_url("**/agent/notices")
            assert page.get_by_test_id("notice-row").filter(has_text=TEXT).count() == 1
            assert page.get_by_test_id("notice-form").is_visible()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= device["viewport"]["width"], f"/agent/notices is {width}px wide"
            page.screenshot(path=str(ARTIFACTS / f"status-agent-notices-{name}.png"), full_page=True)
            if name == "1280":
                assert_accessible(page, "/agent/notices")
            context.close()
        context = browser.new_context(base_url=local_stack.api_url, **PHONE)
        page = context.new_page()
        page.goto("/help/articles/credit-card-repayment")
        assert TEXT in page.get_by_test_id("service-notices").inner_text()
        time.sleep(max(0.0, (ends_at - clock.now()).total_seconds()) + 0.5)    # until the stack's clock passes it
        page.goto("/help")
        assert page.get_by_test_id("service-notice").filter(has_text=TEXT).count() == 0
        in_force = requests.get(f"{local_stack.api_url}/status", timeout=30).json()["notices"]
        assert TEXT not in [n["text"] for n in in_force]
        context.close()
    finally:   # the stack is shared with the other browser tests of this worker: leave nothing behind
        requests.delete(f"{local_stack.api_url}/support/notices/{posted.json()['id']}", headers=lead, timeout=30)
