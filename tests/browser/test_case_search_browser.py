"""Finding a 工单 and reading the access records in a real browser (Debian's Chromium) against the local stack.

An agent types a reference in full-width characters into the queue page's search box and lands on the 工单;
then a word that only occurs in the conversation (a support reply) and sees the 工单 in the results; then the
agent looks a user up by name, and a lead reads that search on the access-records page. At 375 px and 1280 px,
with screenshots in ``test-artifacts/``.
"""
from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE, pass_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
FULL_WIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


@pytest.fixture(scope="module")
def stack():
    from tests.conftest import start_stack
    started = start_stack(extra_env={"AWS_READ_TIMEOUT_SECONDS": "10", "REQUEST_BUDGET_SECONDS": "30",
                                     "STEP_LIMIT_OVERRIDES": "frontline=36000,senior=36000"})
    yield started
    started.stop()


@pytest.fixture(scope="module")
def world(stack):
    from infra import local
    user = stack.token("cs-alice", phone="+8613800138021")
    agent = stack.token("cs-agent", role="support", phone="+8613800138022")
    stack.token("cs-lead", role="senior-support", phone="+8613800138023")

    def call(method, path, token, **kw):
        answer = requests.request(method, f"{stack.api_url}{path}", timeout=15,
                                  headers={"Authorization": f"Bearer {token}"}, **kw)
        assert answer.status_code < 300, answer.text
        return answer.json()
    opened = call("POST", "/support/cases", user, json={"category": "fees", "description": "手续费多收了五元"})
    case_id = opened["case_id"]
    call("POST", f"/support/cases/{case_id}/reply", agent,
         json={"message": "已为您提交对账复核，请耐心等待", "await_user": True})
    return {"case_id": case_id, "password": local.DEMO_PASSWORD}


def sign_in(page, username, password, start):
    page.goto(start)
    page.wait_for_url("**/agent/login**")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    pass_second_factor(page)   # staff: the authenticator code (two-factor sign-in)


def search(page, text, by="text"):
    page.goto("/agent")
    box = page.get_by_test_id("case-search")
    box.locator("select[name=by]").select_option(by)
    page.get_by_test_id("case-search-q").fill(text)
    box.get_by_role("button", name="查找").click()


@pytest.mark.parametrize("size,label", [(DESKTOP, "1280"), (PHONE, "375")])
def test_an_agent_finds_a_case_by_full_width_reference_and_by_a_conversation_word_and_a_lead_sees_it(
        browser, stack, world, size, label):
    case_id = world["case_id"]
    context = browser.new_context(base_url=stack.api_url, **size)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, "cs-agent", world["password"], "/agent")
        page.wait_for_url("**/agent")
        search(page, case_id.translate(FULL_WIDTH))
        page.wait_for_url(f"**/agent/cases/{case_id}")
        search(page, "对账")
        page.wait_for_url("**/agent/search**")
        assert page.get_by_test_id("search-item").first.get_attribute("data-case") == case_id
        width = size["viewport"]["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"agent-search-{label}.png"), full_page=True)
        search(page, "cs-alice", by="user")
        assert page.get_by_test_id("search-item").first.get_attribute("data-case") == case_id
        context.clear_cookies()
        sign_in(page, "cs-lead", world["password"], "/agent/access?staff=cs-agent")
        page.wait_for_url("**/agent/access**")
        records = page.get_by_test_id("access-record")
        assert records.count() >= 1 and case_id in records.first.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(ARTIFACTS / f"agent-access-{label}.png"), full_page=True)
    finally:
        context.close()
