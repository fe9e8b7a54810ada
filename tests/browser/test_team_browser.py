"""Assignment, merging and presence in a real browser (Debian's Chromium) against this module's own local stack
(issue #25, "Done means").

- A lead sets two agents available with capacity 1 on the team page; three new 工单 go one, one, and one waits
  in the pool; each agent's queue ("分配给我") shows exactly their one; one agent goes away on her queue page and
  her 工单 returns to the pool — visible on the team page.
- A user opens two 工单 about one repayment (the second insisting, through the API); an agent merges one into the
  other on the 工单 page; the user's 「我的工单」 shows one open 工单 and the plain-words merge message, no staff
  name.
- Two agents on the same 工单 page each see the other's name as viewing within a few seconds (polling).

Screenshots at 375 px and 1280 px in ``test-artifacts/``. Staff and users sign in through the shared
``sign_in_at`` (``tests/browser/conftest.py``).
"""
from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE, assert_accessible, sign_in_at

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
ANN, BEN, LEAD = "tw-ann", "tw-ben", "tw-lead"


@pytest.fixture(scope="module")
def stack():
    from tests.conftest import start_stack
    started = start_stack(extra_env={"AWS_READ_TIMEOUT_SECONDS": "10", "REQUEST_BUDGET_SECONDS": "30",
                                     "STEP_LIMIT_OVERRIDES": "frontline=36000,senior=36000"})
    yield started
    started.stop()


class World:
    """Users made through the API, as the wallet app would; staff users of the local user pool."""

    def __init__(self, stack):
        from infra import local
        self.stack, self.password = stack, local.DEMO_PASSWORD
        self.alice = stack.token("tw-alice", phone="+8613800138031")
        self.carol = stack.token("tw-carol", phone="+8613800138032")
        stack.token(ANN, role="support", phone="+8613800138033")
        stack.token(BEN, role="support", phone="+8613800138034")
        self.lead = stack.token(LEAD, role="senior-support", phone="+8613800138035")

    def call(self, method, path, token, **kw):
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=15,
                                headers={"Authorization": f"Bearer {token}", **kw.pop("headers", {})}, **kw)

    def open_case(self, token, **body) -> requests.Response:
        return self.call("POST", "/support/cases", token, json={"category": "repayment_failed",
                                                                "description": "还款失败了，银行卡却被扣款", **body})

    def assignee(self, case_id):
        return self.call("GET", f"/support/cases/{case_id}", self.lead).json()["assignee"]


@pytest.fixture(scope="module")
def world(stack):
    return World(stack)


def signed_in(browser, stack, world, door, name, size):
    context = browser.new_context(base_url=stack.api_url, **size)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in_at(page, door, name, world.password)
    page.wait_for_url(f"**/{'agent' if door == 'agent' else 'help/cases'}")
    return context, page


@pytest.fixture(scope="module")
def desk(browser, stack, world):
    """The three staff, each signed in once for the module (Ann on a phone, Ben and the lead at a desk)."""
    signed = {ANN: signed_in(browser, stack, world, "agent", ANN, PHONE),
              BEN: signed_in(browser, stack, world, "agent", BEN, DESKTOP),
              LEAD: signed_in(browser, stack, world, "agent", LEAD, DESKTOP)}
    yield {name: page for name, (_, page) in signed.items()}
    for context, _ in signed.values():
        context.close()


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def fits(page, width):
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide at {width}px"


def mine(page) -> list[str]:
    page.goto("/agent?mine=1")
    return [i.get_attribute("data-case") for i in page.get_by_test_id("queue-item").all()]


def row(page, name):
    return page.locator(f'[data-testid=agent][data-name="{name}"]')


def test_two_agents_of_capacity_one_three_new_cases_go_one_one_and_one_waits(browser, stack, world, desk):
    ann, ben, lead = desk[ANN], desk[BEN], desk[LEAD]      # signing in opened the queue: each is registered
    lead.set_viewport_size(DESKTOP["viewport"])
    lead.goto("/agent")
    lead.get_by_test_id("nav-team").click()
    lead.wait_for_url("**/agent/team")
    for name in (ANN, BEN):
        row(lead, name).get_by_label(f"{name} 的容量").fill("1")
        with lead.expect_navigation():
            row(lead, name).get_by_role("button", name="更改容量").click()
        row(lead, name).get_by_label(f"{name} 的状态").select_option("available")
        with lead.expect_navigation():
            row(lead, name).get_by_role("button", name="更改状态").click()
    for name in (ANN, BEN):
        assert row(lead, name).get_by_test_id("agent-status").inner_text() == "在线接单"
        assert row(lead, name).get_by_test_id("agent-capacity").inner_text() == "1"

    ids = []
    for _ in range(3):
        opened = world.open_case(world.alice)
        assert opened.status_code == 201, opened.text
        ids.append(opened.json()["case_id"])
    anns, bens = mine(ann), mine(ben)
    assert len(anns) == 1 and len(bens) == 1 and set(anns + bens) == set(ids[:2])
    waiting = ids[2]
    assert world.assignee(waiting) is None
    lead.reload()
    assert lead.get_by_test_id("waiting").inner_text() == "1"
    assert [a.inner_text() for a in lead.get_by_test_id("pool-case").all()] == [waiting]
    assert row(lead, ANN).get_by_test_id("carried").get_attribute("data-case") == anns[0]
    assert row(lead, ANN).get_by_test_id("agent-load").inner_text() == "1"
    assert row(lead, ANN).get_by_test_id("agent-seen").inner_text() != "—"

    # Ann goes away from her queue page: her 工单 goes back to the pool (Ben is full: it waits there).
    ann.goto("/agent")
    shot(ann, "team-my-status-375")
    fits(ann, 375)
    with ann.expect_navigation():
        ann.get_by_test_id("go-away").click()
    assert ann.get_by_test_id("my-status-title").inner_text() == "暂离"
    assert mine(ann) == [] and mine(ben) == bens
    lead.reload()
    assert lead.get_by_test_id("waiting").inner_text() == "2"
    assert sorted(a.inner_text() for a in lead.get_by_test_id("pool-case").all()) == sorted([anns[0], waiting])
    assert row(lead, ANN).get_by_test_id("agent-status").inner_text() == "暂离"
    assert row(lead, ANN).get_by_test_id("agent-load").inner_text() == "0"
    assert world.assignee(anns[0]) is None
    shot(lead, "team-1280")
    fits(lead, 1280)
    assert_accessible(lead, "the team page")
    lead.set_viewport_size({"width": 375, "height": 812})
    lead.reload()
    fits(lead, 375)
    shot(lead, "team-375")


def test_an_agent_merges_a_duplicate_and_the_user_sees_one_case(browser, stack, world, desk):
    paid = world.call("POST", "/repayments", world.carol, headers={"Idempotency-Key": "tw-merge-repayment"},
                      json={"amount": "300.00", "payee": {"kind": "loan", "platform": "微粒贷",
                                                          "contract_number": "WLD-2026-0031"}})
    assert paid.status_code == 201, paid.text
    repayment_id = paid.json()["id"]
    first = world.open_case(world.carol, repayment_id=repayment_id)
    assert first.status_code == 201, first.text
    kept = first.json()["case_id"]
    offered = world.open_case(world.carol, repayment_id=repayment_id)
    assert offered.status_code == 409 and kept in offered.text            # the open one is offered first
    second = world.open_case(world.carol, repayment_id=repayment_id, insist=True)
    assert second.status_code == 201, second.text
    dup = second.json()["case_id"]

    staff = desk[BEN]
    user_ctx, user = signed_in(browser, stack, world, "help", "tw-carol", PHONE)
    try:
        staff.goto(f"/agent/cases/{dup}")
        staff.locator("#into").fill(kept)
        with staff.expect_navigation():
            staff.get_by_test_id("merge").click()
        assert f"/agent/cases/{kept}" in staff.url and staff.get_by_test_id("done").inner_text() == "已合并"

        user.goto("/help/cases")
        rows = user.get_by_test_id("case-row")
        assert rows.count() == 1 and kept in rows.first.inner_text()
        assert rows.first.get_by_test_id("case-row-status").inner_text() != "已关闭"
        fits(user, 375)
        shot(user, "merge-my-cases-375")
        rows.first.locator("a").first.click()
        user.wait_for_url(f"**/help/cases/{kept}")
        text = user.locator("main").inner_text()
        assert f"工单 {dup} 与此工单是同一个问题，已合并到此工单一并处理" in text
        assert BEN not in text and "tw-" not in text
        user.set_viewport_size({"width": 1280, "height": 900})
        user.reload()
        fits(user, 1280)
        shot(user, "merge-kept-case-1280")
    finally:
        user_ctx.close()


def test_two_agents_on_one_case_see_each_other_viewing(browser, stack, world, desk):
    from playwright.sync_api import expect
    opened = world.open_case(world.alice, category="fees", description="手续费多收了八元")
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    ann, ben = desk[ANN], desk[BEN]
    ann.goto(f"/agent/cases/{case_id}")
    ben.goto(f"/agent/cases/{case_id}")
    expect(ann.get_by_test_id("presence")).to_contain_text(BEN, timeout=15_000)   # polls every 5 s
    expect(ben.get_by_test_id("presence")).to_contain_text(ANN, timeout=15_000)
    assert "同时在看" in ann.get_by_test_id("presence").inner_text()
    fits(ann, 375)
    shot(ann, "presence-375")
    shot(ben, "presence-1280")
