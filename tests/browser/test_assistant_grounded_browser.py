"""The issue's browser test (#24 "Done means"), against the real local stack: alice, whose loan repayment failed for
insufficient funds (the demo seed's repayment, ``devtools/seed_repay.py``), types "还款又失败了咋回事" and sees the
amount, the reason and a retry button; taps it and sees "处理中"; types "转人工" and gets a 工单 whose agent page
shows the transcript and the repayment first. Screenshots ``test-artifacts/assistant-grounded-*.png``."""
from __future__ import annotations

import uuid

import pytest
import requests

from devtools import seed_repay
from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE, pass_second_factor
from tests.conftest import wait_for_status

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture(scope="module")
def world(local_stack):
    """A wallet user with the seed's failed loan repayment (settled by the stack's event runner), and an agent."""
    from infra import local
    suffix = uuid.uuid4().hex[:6]
    user, agent = f"ag-alice-{suffix}", f"ag-agent-{suffix}"
    token = local_stack.token(user, phone="+8613800138091")
    # the shared stack's frontline limit is 3 s (STEP_LIMIT_OVERRIDES): by the time the agent looks, the sweep
    # has moved the 工单 to the senior team, so a senior agent opens it
    local_stack.token(agent, role="senior-support", phone="+8613800138092")
    headers = {"Authorization": f"Bearer {token}"}
    key, body = next((k, b) for k, b in seed_repay.ALICE if k == "seed-alice-loan")
    created = requests.post(f"{local_stack.api_url}/repayments", json=body, timeout=15,
                            headers={**headers, "Idempotency-Key": f"{key}-{suffix}"})
    assert created.status_code == 201, created.text
    failed = wait_for_status(f"{local_stack.api_url}/repayments/{created.json()['id']}", headers, {"failed"})
    assert failed["failure"]["reason"] == "insufficient_funds"
    return {"user": user, "agent": agent, "password": local.DEMO_PASSWORD, "headers": headers,
            "repayment_id": failed["id"]}


def sign_in(page, start: str, door: str, username: str, password: str) -> None:
    page.goto(start)
    page.wait_for_url(f"**/{door}/login**")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    pass_second_factor(page)   # staff: the authenticator code (two-factor sign-in)


def say(page, text: str):
    before = page.get_by_test_id("turn-assistant").count()
    page.get_by_test_id("chat-text").fill(text)
    page.get_by_test_id("send").click()
    page.get_by_test_id("turn-assistant").nth(before).wait_for()
    return page.get_by_test_id("turn-assistant").last


def test_failed_repayment_retry_then_handover_reaches_the_agent_with_the_story(browser, local_stack, world):
    context = browser.new_context(base_url=local_stack.api_url, **PHONE)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        sign_in(page, "/help/assistant", "help", world["user"], world["password"])
        page.wait_for_url("**/help/assistant")
        page.goto("/help/assistant?new=1")
        answer = say(page, "还款又失败了咋回事").inner_text()
        assert "800.51" in answer and "余额不足" in answer and "insufficient" not in answer
        retry = page.get_by_test_id("action").filter(has_text="重试还款")
        assert retry.is_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "assistant-grounded-375.png"), full_page=True)
        before = page.get_by_test_id("turn-assistant").count()
        retry.click()
        page.get_by_test_id("turn-assistant").nth(before).wait_for()
        assert "处理中" in page.get_by_test_id("turn-assistant").last.inner_text()
        assert page.get_by_test_id("action").filter(has_text="重试还款").count() == 0
        handed = say(page, "转人工").inner_text()
        assert "工单号" in handed
        page.screenshot(path=str(ARTIFACTS / "assistant-grounded-handover-375.png"), full_page=True)
    finally:
        context.close()

    cases = requests.get(f"{local_stack.api_url}/support/cases", headers=world["headers"], timeout=15).json()["items"]
    assert len(cases) == 1 and cases[0]["category"] == "repayment_failed"
    case_id = cases[0]["case_id"]

    staff = browser.new_context(base_url=local_stack.api_url, **DESKTOP)
    desk = staff.new_page()
    desk.set_default_timeout(20_000)
    try:
        sign_in(desk, f"/agent/cases/{case_id}", "agent", world["agent"], world["password"])
        desk.wait_for_url(f"**/agent/cases/{case_id}")
        description = desk.get_by_test_id("description").inner_text()
        assert "【智能客服转人工】" in description and "用户：还款又失败了咋回事" in description
        assert "重试还款" in description and "800.51" in description
        linked = desk.locator(".repay.linked")
        assert "800.51" in linked.inner_text()
        desk.screenshot(path=str(ARTIFACTS / "assistant-grounded-agent-1280.png"), full_page=True)
    finally:
        staff.close()
