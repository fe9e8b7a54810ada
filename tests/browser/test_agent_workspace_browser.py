"""The agent workspace in a real browser (Debian's Chromium, headless) against the real local stack.

An agent signs in, picks the oldest 工单 from the queue, sees the user's failed repayment and replies with a
macro; a frontline agent cannot open a senior 工单; a wallet user cannot open any /agent page; a forged
cookie and a form POST without its CSRF token are refused. Screenshots of the queue and the 工单 page at
375 px and 1280 px land in ``test-artifacts/`` (the README's ``docs/agent-*.png`` are copies).

The stack is this module's own (``start_stack``, same code as ``local_stack``) without the shared stack's
3-second frontline limit, which would move the 工单 on to senior support before the agent could take it.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE, assert_accessible, pass_second_factor

# The module's tests share one stack and one set of 工单 (`make test` runs --dist loadfile: one worker per
# file). Each run still works out what the queue must show from the 工单's state, not from the order the
# runs came in: the 1280 px run answers (and so pauses) the oldest 工单, and the 375 px run expects the next.
pytestmark = [pytest.mark.browser, pytest.mark.e2e]



@pytest.fixture(scope="module")
def stack():
    from tests.conftest import start_stack
    # Ten-hour wall-clock limits: deadlines follow the order the 工单 were opened in (business hours
    # would give every 工单 opened before 09:00 the same deadline).
    started = start_stack(extra_env={"LOCAL_SCHEDULE_SECONDS": "2", "AWS_READ_TIMEOUT_SECONDS": "10",
                                     "REQUEST_BUDGET_SECONDS": "30",
                                     "STEP_LIMIT_OVERRIDES": "frontline=36000,senior=36000"})
    yield started
    started.stop()


class World:
    """Users and 工单 made through the API, as the wallet app would."""

    def __init__(self, stack):
        from infra import local
        self.stack, self.password = stack, local.DEMO_PASSWORD
        self.alice = stack.token("ws-alice", phone="+8613800138011")
        self.bob = stack.token("ws-bob", phone="+8613800138012")
        stack.token("ws-agent", role="support", phone="+8613800138013")
        stack.token("ws-lead", role="senior-support", phone="+8613800138014")
        self.failed_id = self._failed_repayment()
        # One oldest 工单 per screen size: a reply that waits for the user pauses it (it leaves the top).
        self.oldest_cases = []
        for _ in range(2):
            self.oldest_cases.append(self.open_case(self.alice, "repayment_failed", "还款失败了，但银行卡被扣款了",
                                                    self.failed_id))
            time.sleep(1.1)
        self.oldest = self.oldest_cases[0]
        self.newer = self.open_case(self.bob, "fees", "还款时多收了手续费")
        self.senior = self.open_case(self.bob, "account_security", "账户被盗，有人用我的账户还款")

    def call(self, method, path, token, **kw):
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=15,
                                headers={"Authorization": f"Bearer {token}", **kw.pop("headers", {})}, **kw)

    def _failed_repayment(self) -> str:
        created = self.call("POST", "/repayments", self.alice, headers={"Idempotency-Key": "ws-browser-failed"},
                            json={"amount": "800.51", "payee": {"kind": "loan", "platform": "微粒贷",
                                                                "contract_number": "WLD-2026-0001"}})
        assert created.status_code == 201, created.text
        repayment_id = created.json()["id"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:   # the event runner settles it (amounts ending .51 fail once)
            if self.call("GET", f"/repayments/{repayment_id}", self.alice).json()["status"] == "failed":
                return repayment_id
            time.sleep(0.5)
        pytest.fail("the repayment was not settled")

    def open_case(self, token, category, description, repayment_id=None) -> str:
        body = {"category": category, "description": description}
        if repayment_id:   # each screen size opens its own 工单 on the one failed repayment: the user insists
            body.update(repayment_id=repayment_id, insist=True)
        opened = self.call("POST", "/support/cases", token, json=body)
        assert opened.status_code == 201, opened.text
        return opened.json()["case_id"]

    def case(self, case_id, token=None):
        return self.call("GET", f"/support/cases/{case_id}", token or self.alice).json()


@pytest.fixture(scope="module")
def world(stack):
    return World(stack)


def _context(browser, stack, size):
    context = browser.new_context(base_url=stack.api_url, **size)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, door, username, password, start="/agent"):
    page.goto(start)
    page.wait_for_url(f"**/{door}/login**")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    pass_second_factor(page)   # staff: the authenticator code (two-factor sign-in)


def fits(page, width):
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide at {width}px"


@pytest.mark.parametrize("size,label", [(DESKTOP, "1280"), (PHONE, "375")])
def test_agent_takes_the_oldest_case_sees_the_failed_repayment_and_replies_with_a_macro(
        browser, stack, world, size, label):
    # the oldest 工单 not yet answered (paused) by the other screen size's run
    oldest = next(c for c in world.oldest_cases if world.case(c)["status"] == "open")
    context, page = _context(browser, stack, size)
    try:
        sign_in(page, "agent", "ws-agent", world.password)
        page.wait_for_url("**/agent")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        items = page.get_by_test_id("queue-item")
        assert items.first.get_attribute("data-case") == oldest   # nearest deadline first = oldest
        assert world.senior not in page.get_by_test_id("queue").inner_text()
        row = items.first.inner_text()
        assert "ws-alice" in row and "还款失败了，但银行卡被扣款了" in row   # who and what: recognisable
        countdown = items.first.locator(".countdown")
        page.wait_for_function("el => el.textContent.startsWith('剩余')", arg=countdown.element_handle())
        fits(page, size["viewport"]["width"])
        shot(page, f"agent-queue-{label}")
        assert_accessible(page, f"queue at {label} px")

        items.first.locator("a.ref").click()
        page.wait_for_url(f"**/agent/cases/{oldest}")
        failed = page.get_by_test_id("repayment").filter(has=page.locator('[data-testid="failure"]')).first
        assert failed.get_attribute("data-status") == "failed"
        assert "800.51" in failed.inner_text() and "本工单关联" in failed.inner_text()

        page.get_by_test_id("macro-select").select_option("repayment_failed")
        reply = page.get_by_test_id("reply-text")
        text = reply.input_value()
        assert oldest in text and "800.51" in text and "失败" in text
        assert page.get_by_test_id("reply-preview").inner_text().strip() == text.strip()
        reply.fill(text + f"（{label}）")          # edited before sending
        assert f"（{label}）" in page.get_by_test_id("reply-preview").inner_text()
        assert page.get_by_test_id("user-name").inner_text() == "ws-alice"
        assert page.get_by_test_id("await-user").is_checked()   # the macro the agent picked suggests its choice
        fits(page, size["viewport"]["width"])
        shot(page, f"agent-case-{label}")
        assert_accessible(page, f"工单 page at {label} px")
        page.get_by_test_id("send-reply").click()
        page.get_by_test_id("done").wait_for()
        assert f"（{label}）" in page.get_by_test_id("conversation").inner_text()

        case = world.case(oldest)   # what the user sees through the API
        assert case["conversation"][-1]["text"].endswith(f"（{label}）")
        assert case["status"] == "waiting_user"
    finally:
        context.close()


def test_new_user_message_appears_without_a_reload(browser, stack, world):
    context, page = _context(browser, stack, DESKTOP)
    try:
        sign_in(page, "agent", "ws-agent", world.password, start=f"/agent/cases/{world.newer}")
        page.wait_for_url(f"**/agent/cases/{world.newer}")
        answer = world.call("POST", f"/support/cases/{world.newer}/messages", world.bob,
                            json={"message": "补充：多收的是 5 元手续费"})
        assert answer.status_code == 200, answer.text
        page.get_by_test_id("conversation").get_by_text("补充：多收的是 5 元手续费").wait_for(timeout=15_000)
    finally:
        context.close()


def test_frontline_agent_cannot_open_a_senior_case(browser, stack, world):
    context, page = _context(browser, stack, DESKTOP)
    try:
        sign_in(page, "agent", "ws-agent", world.password)
        page.wait_for_url("**/agent")
        response = page.goto(f"/agent/cases/{world.senior}")
        assert response.status == 403
        assert "高级客服" in page.get_by_test_id("message-text").inner_text()
        assert "账户被盗" not in page.content()
        lead_context, lead = _context(browser, stack, DESKTOP)
        sign_in(lead, "agent", "ws-lead", world.password, start=f"/agent/cases/{world.senior}")
        lead.wait_for_url(f"**/agent/cases/{world.senior}")
        assert "账户被盗" in lead.get_by_test_id("description").inner_text()
        lead_context.close()
    finally:
        context.close()


def test_wallet_user_cannot_open_any_agent_page(browser, stack, world):
    context, page = _context(browser, stack, PHONE)
    try:
        response = page.goto("/agent/login")
        page.get_by_label("用户名").fill("ws-alice")
        page.get_by_label("密码").fill(world.password)
        page.get_by_role("button", name="登录").click()
        # A right wallet password at the staff door is answered as a wrong one (#21: no password oracle).
        assert "用户名或密码不正确" in page.get_by_test_id("login-error").inner_text()
        sign_in(page, "help", "ws-alice", world.password, start="/help/login?next=/help")
        page.wait_for_url("**/help")
        for path in ("/agent", f"/agent/cases/{world.oldest}", f"/agent/cases/{world.oldest}/unfreeze"):
            response = page.goto(path)
            assert response.status == 403, path
            assert "还款失败了" not in page.content()
        del response
    finally:
        context.close()


def test_forged_cookie_is_sent_to_sign_in(browser, stack, world):
    context, page = _context(browser, stack, DESKTOP)
    try:
        context.add_cookies([{"name": "rd_session", "value": "A" * 43, "url": stack.api_url}])
        page.goto(f"/agent/cases/{world.oldest}")
        assert page.url.endswith(f"/agent/login?next=/agent/cases/{world.oldest}")
        assert page.get_by_label("密码").is_visible()
        assert "还款失败了" not in page.content()
    finally:
        context.close()


def test_post_without_csrf_token_is_refused_and_changes_nothing(browser, stack, world):
    context, page = _context(browser, stack, DESKTOP)
    try:
        sign_in(page, "agent", "ws-agent", world.password, start=f"/agent/cases/{world.newer}")
        page.wait_for_url(f"**/agent/cases/{world.newer}")
        form = page.locator(f'form[action="/agent/cases/{world.newer}/notes"]')
        form.locator('input[name="csrf_token"]').evaluate("el => el.remove()")
        form.locator("textarea").fill("没有令牌的备注")
        with page.expect_navigation() as navigation:
            form.get_by_role("button", name="添加备注").click()
        assert navigation.value.status == 403
        assert "CSRF" in page.get_by_test_id("message-text").inner_text()
        lead_token = stack.token("ws-lead", role="senior-support", phone="+8613800138014")
        notes = world.case(world.newer, lead_token)["notes"]
        assert "没有令牌的备注" not in [n["text"] for n in notes]
    finally:
        context.close()


STAFF_REASON = "内部：银行代扣通道疑似故障，请高级客服向银行核实"
SUMMARY = "银行已退回多扣的 800.51 元，预计 1–3 个工作日到账。"


@pytest.mark.parametrize("size,label", [(DESKTOP, "1280"), (PHONE, "375")])
def test_agent_escalates_back_to_the_queue_and_the_user_reads_plain_words(browser, stack, world, size, label):
    """The agent answers (choosing the clock explicitly), escalates with an internal reason and lands on the
    queue with a confirmation; senior support resolves; the user's 工单 page shows no staff name or internal
    reason, and its conversation ends with the resolution."""
    case_id = world.open_case(world.alice, "repayment_delay", f"信用卡还款两天还没到账（{label}）")
    context, page = _context(browser, stack, size)
    try:
        sign_in(page, "agent", "ws-agent", world.password, start=f"/agent/cases/{case_id}")
        page.wait_for_url(f"**/agent/cases/{case_id}")
        page.get_by_test_id("reply-text").fill("核查结果会在这里回复您")
        page.get_by_test_id("send-reply").click()         # no clock choice: the browser keeps the form
        assert page.get_by_test_id("await-user").evaluate("el => el.validity.valueMissing")
        assert page.url.endswith(f"/agent/cases/{case_id}")
        page.get_by_test_id("holding").check()
        page.get_by_test_id("send-reply").click()
        page.get_by_test_id("done").wait_for()
        page.get_by_label("升级至「高级客服」的原因").fill(STAFF_REASON)
        page.get_by_test_id("escalate").click()
        page.wait_for_url("**/agent?step=frontline&done=escalated*")
        done = page.get_by_test_id("done").inner_text()
        assert case_id in done and "高级客服" in done
        assert case_id not in page.get_by_test_id("queue").inner_text()
        assert_accessible(page, f"queue after escalating at {label} px")
    finally:
        context.close()
    lead_context, lead = _context(browser, stack, size)
    try:
        sign_in(lead, "agent", "ws-lead", world.password, start=f"/agent/cases/{case_id}")
        lead.wait_for_url(f"**/agent/cases/{case_id}")
        timeline = lead.get_by_test_id("timeline").inner_text()
        assert "ws-agent" in timeline and STAFF_REASON in timeline      # staff see who and why
        lead.get_by_label("解决说明（用户可见）").fill(SUMMARY)
        lead.get_by_test_id("resolve").click()
        lead.get_by_test_id("done").wait_for()
        assert lead.get_by_test_id("case-status").inner_text() == "已解决，待用户确认"
    finally:
        lead_context.close()
    user_context, user = _context(browser, stack, size)
    try:
        sign_in(user, "help", "ws-alice", world.password, start=f"/help/login?next=/help/cases/{case_id}")
        user.wait_for_url(f"**/help/cases/{case_id}")
        shown = user.locator("main").inner_text()
        for hidden in ("ws-agent", "ws-lead", STAFF_REASON, "分配给"):
            assert hidden not in shown, hidden
        assert "工单已转至「高级客服」处理" in user.get_by_test_id("timeline").inner_text()
        last = user.get_by_test_id("message").last
        assert SUMMARY in last.inner_text() and "处理结果" in last.inner_text()
        assert user.get_by_test_id("case-status").inner_text() == "已解决，待您确认"
        fits(user, size["viewport"]["width"])
        shot(user, f"my-cases-case-{label}")
        assert_accessible(user, f"the user's 工单 at {label} px")
    finally:
        user_context.close()
