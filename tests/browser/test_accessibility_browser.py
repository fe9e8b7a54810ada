"""Accessibility of every page family in a real browser (Debian's Chromium, the real local stack), at 375 px
and 1280 px: axe-core (bundled by ``axe-playwright-python``) finds no serious or critical violation —
contrast, names of links/buttons/fields, labels, headings, language, landmarks (issue #20, part 8).

The families: the help centre (home, search, article, contact), sign-in (both doors), 我的工单 (list, new,
one 工单), the agent workspace (queue, one 工单), the reports and a repayment receipt. Other browser tests can
call ``tests.browser.conftest.assert_accessible(page)`` on the pages they drive.
"""
from __future__ import annotations

import time

import pytest
import requests

from tests.browser.conftest import DESKTOP, PHONE, assert_accessible, pass_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


class Site:
    """A wallet user with a settled repayment (its receipt), a user with a 工单, a senior agent."""

    def __init__(self, stack):
        from infra import local
        self.stack, self.password = stack, local.DEMO_PASSWORD
        self.payer = stack.token("a11y-payer", phone="+8613800138091")
        self.user = stack.token("a11y-user", phone="+8613800138092")
        stack.token("a11y-lead", role="senior-support", phone="+8613800138093")
        self.repayment = self._settled_repayment()
        opened = self.call("POST", "/support/cases", self.user,
                           json={"category": "fees", "description": "还款时多收了 5 元手续费，请核实"})
        assert opened.status_code == 201, opened.text
        self.case = opened.json()["case_id"]

    def call(self, method, path, token, **kw):
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=15,
                                headers={"Authorization": f"Bearer {token}", **kw.pop("headers", {})}, **kw)

    def _settled_repayment(self) -> str:
        created = self.call("POST", "/repayments", self.payer, headers={"Idempotency-Key": "a11y-receipt"},
                            json={"amount": "320.00", "payee": {"kind": "credit_card", "issuer": "招商银行",
                                                                 "card_number": "6225880137654324"}})
        assert created.status_code == 201, created.text
        repayment_id = created.json()["id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.call("GET", f"/repayments/{repayment_id}", self.payer).json()["status"] == "succeeded":
                return repayment_id
            time.sleep(0.5)
        pytest.fail("the repayment did not settle")


@pytest.fixture(scope="module")
def site(local_stack):
    return Site(local_stack)


def _page(browser, stack, size, **extra):
    context = browser.new_context(base_url=stack.api_url, **size, **extra)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return context, page


def _check(page, path: str, label: str) -> None:
    response = page.goto(path)
    assert response.status == 200, f"{path}: {response.status}"
    page.wait_for_load_state("load")
    assert_accessible(page, f"{path} at {label} px")


def _sign_in(page, door: str, username: str, password: str, target: str) -> None:
    page.goto(f"/{door}/login?next={target}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    pass_second_factor(page)   # staff: the authenticator code (two-factor sign-in)
    page.wait_for_url(f"**{target}")


SIZES = [(PHONE, "375"), (DESKTOP, "1280")]


@pytest.mark.parametrize("size,label", SIZES)
def test_help_centre_and_sign_in_pages_have_no_serious_violations(browser, local_stack, site, size, label):
    context, page = _page(browser, local_stack, size)
    try:
        for path in ("/help", "/help/search?q=还款没到账", "/help/contact", "/help/login", "/agent/login"):
            _check(page, path, label)
        page.goto("/help/search?q=还款没到账")
        article = page.locator("[data-result]").first.get_attribute("href")
        _check(page, article, label)
    finally:
        context.close()


@pytest.mark.parametrize("size,label", SIZES)
def test_my_cases_pages_have_no_serious_violations(browser, local_stack, site, size, label):
    context, page = _page(browser, local_stack, size)
    try:
        _sign_in(page, "help", "a11y-user", site.password, "/help/cases")
        for path in ("/help/cases", "/help/cases/new", f"/help/cases/{site.case}"):
            _check(page, path, label)
    finally:
        context.close()


@pytest.mark.parametrize("size,label", SIZES)
def test_agent_workspace_and_reports_have_no_serious_violations(browser, local_stack, site, size, label):
    context, page = _page(browser, local_stack, size)
    try:
        _sign_in(page, "agent", "a11y-lead", site.password, "/agent")
        step = site.call("GET", f"/support/cases/{site.case}", site.user).json()["step"]
        for path in (f"/agent?step={step}", f"/agent/cases/{site.case}", "/agent/reports"):
            _check(page, path, label)
    finally:
        context.close()


@pytest.mark.parametrize("size,label", SIZES)
def test_receipt_has_no_serious_violations(browser, local_stack, site, size, label):
    context, page = _page(browser, local_stack, size, extra_http_headers={"Authorization": f"Bearer {site.payer}"})
    try:
        _check(page, f"/repayments/{site.repayment}/receipt.html", label)
    finally:
        context.close()
