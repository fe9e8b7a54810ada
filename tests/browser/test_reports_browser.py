"""The reports in a real browser (Debian's Chromium, the real local stack): a senior agent signs in to the
workspace, reads the reports, switches the date range and downloads a CSV; a frontline agent and a wallet
user are refused. Screenshots at 1280 and 375 px land in ``test-artifacts/`` (the README's come from here)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE, pass_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture(scope="module")
def people(local_stack):
    """A senior agent, a frontline agent and a wallet user, and four weeks of history (events and rollups
    only: the shared stack's queues are left alone)."""
    local_stack.token("reports-lead", role="senior-support", phone="+8613800138071")
    local_stack.token("reports-agent", role="support", phone="+8613800138072")
    user = local_stack.token("reports-user", phone="+8613800138073")
    import requests
    opened = requests.post(f"{local_stack.api_url}/support/cases", headers={"Authorization": f"Bearer {user}"},
                           json={"category": "other", "description": "报表测试：一个还开着的工单"}, timeout=15)
    assert opened.status_code == 201, opened.text   # at least one open 工单 for 最久未结
    from devtools import seed_insight  # this process points at the stack's moto server (token() set it)
    seed_insight.seed({}, persist_open=False)
    from infra import local
    return local.DEMO_PASSWORD


def sign_in(page, door: str, username: str, password: str, target: str):
    page.goto(target)
    if "/login" not in page.url:
        page.goto(f"/{door}/login?next={target}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    pass_second_factor(page)   # staff: the authenticator code (two-factor sign-in)
    page.wait_for_load_state()


def shot(page, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


CODES = ("waiting_user", "repayment_delay", "repayment_failed", "account_security", "frontline", "public_feedback",
         "legal_guidance")


def assert_readable_at_1280(page, report: str) -> None:
    """No column behind a horizontal scroll, no code, no UTC time, no source file on the page."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280, report
    scrolled = page.evaluate("""[...document.querySelectorAll('.table-box')]
        .filter(box => box.scrollWidth > box.clientWidth + 1).map(box => box.closest('section').dataset.testid)""")
    assert scrolled == [], f"{report}: {scrolled} scroll sideways at 1280 px"
    text = page.locator("main").inner_text()
    assert not [code for code in CODES if code in text] and not re.search(r"(?<![\w-])(other|fees)(?![\w-])", text)
    assert not re.search(r"\d{2}:\d{2}(:\d{2})?(\.\d+)?Z", text) and "T0" not in text   # local times only
    assert not re.search(r"[\w/]+\.(py|yaml|yml)\b", text) and "chalicelib" not in text


def test_a_senior_agent_reads_switches_the_range_and_downloads_a_csv(browser, local_stack, people, tmp_path):
    context = browser.new_context(base_url=local_stack.api_url, accept_downloads=True, **DESKTOP)
    page = context.new_page()
    page.set_default_timeout(20_000)
    sign_in(page, "agent", "reports-lead", people, "/agent")
    page.get_by_test_id("nav-reports").click()   # the workspace's header links senior support to the reports
    page.wait_for_url("**/agent/reports*")
    assert page.locator("h1").inner_text() == "报表"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    daily = page.get_by_test_id("table-daily")
    assert daily.locator("svg.chart").count() == 1 and daily.locator("table tbody tr").count() == 28
    opened = sum(int(c) for c in daily.locator("tbody tr td:nth-child(2)").all_inner_texts())
    assert opened > 20  # four weeks of seeded cases
    times = page.get_by_test_id("table-response_times")
    assert times.locator("svg.chart").count() == 1
    targets = times.locator("svg.chart g.target")
    assert targets.count() >= 3  # each priority's first-response and resolution targets, dashed ticks
    assert {t.get_attribute("data-target") for t in targets.all()} <= {"60", "240", "480", "1080", "2160"}
    assert "P2 高" in times.locator("svg.chart").inner_html()
    assert page.get_by_test_id("table-oldest_open").is_visible()
    assert_readable_at_1280(page, "cases")
    shot(page, "reports-cases-1280")

    # 最久未结: each row opens its 工单 in the workspace
    first = page.get_by_test_id("table-oldest_open").locator("tbody tr a").first
    ref = first.inner_text()
    assert re.fullmatch(r"RD-\d{8}-[0-9A-Z]{4}", ref)
    first.click()
    page.wait_for_url(f"**/agent/cases/{ref}")
    assert ref in page.locator("h1").inner_text()
    page.go_back()
    page.wait_for_url("**/agent/reports*")

    # the date-range switch: the last 7 days
    page.get_by_test_id("range-7").click()
    page.wait_for_url("**from=*")
    first, last = re.findall(r"\d{4}-\d{2}-\d{2}", page.get_by_test_id("period").inner_text())[:2]
    assert dt.date.fromisoformat(last) - dt.date.fromisoformat(first) == dt.timedelta(days=6)
    assert page.get_by_test_id("table-daily").locator("table tbody tr").count() == 7

    # the CSV of the table on screen: the same 7 days
    with page.expect_download() as download:
        page.get_by_test_id("csv-daily").click()
    saved = tmp_path / "daily.csv"
    download.value.save_as(saved)
    lines = saved.read_text(encoding="utf-8-sig").strip().splitlines()
    assert lines[0] == "day,opened,escalated,resolved,reopened,replies" and len(lines) == 8
    assert download.value.suggested_filename.startswith("cases-daily-")

    page.get_by_test_id("tab-satisfaction").click()
    page.wait_for_url("**report=satisfaction*")
    weekly = page.get_by_test_id("table-weekly").locator("svg.chart")
    assert weekly.count() == 1
    assert weekly.locator("text").first.text_content() == "100%"        # a share's axis runs to 100 %
    assert weekly.locator("g.target").get_attribute("data-target") == "0.85" and "目标 85%" in weekly.inner_html()
    assert "满意率目标：85%" in page.locator("main").inner_text()
    assert_readable_at_1280(page, "satisfaction")
    shot(page, "reports-satisfaction-1280")
    page.get_by_test_id("tab-self-service").click()
    page.wait_for_url("**report=self-service*")
    articles = page.get_by_test_id("table-articles")
    assert "还款已扣款但还没到账怎么办" in articles.inner_text()
    assert articles.locator('a[href^="/help/articles/"]').count() >= 1   # titles, not slugs, linked to the article
    assert_readable_at_1280(page, "self-service")
    shot(page, "reports-self-service-1280")
    context.close()


def test_the_reports_fit_a_phone(browser, local_stack, people):
    context = browser.new_context(base_url=local_stack.api_url, **PHONE)
    page = context.new_page()
    page.set_default_timeout(20_000)
    sign_in(page, "agent", "reports-lead", people, "/agent/reports")
    page.wait_for_url("**/agent/reports*")
    for report, table in (("cases", "response_times"), ("satisfaction", "weekly"), ("self-service", "articles")):
        page.goto(f"/agent/reports?report={report}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{report} is {width}px wide"
        for chart in page.locator("svg.chart").all():
            box = chart.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375
        page.evaluate(f"document.querySelector('[data-testid=table-{table}]').scrollIntoView()")
        shot(page, f"reports-{report}-375", full_page=False)   # a chart and the start of its table
    context.close()


def test_a_frontline_agent_and_a_user_are_refused(browser, local_stack, people):
    context = browser.new_context(base_url=local_stack.api_url, **DESKTOP)
    page = context.new_page()
    sign_in(page, "agent", "reports-agent", people, "/agent/reports")
    assert page.get_by_test_id("nav-reports").count() == 0
    answer = page.goto("/agent/reports")
    assert answer.status == 403 and "高级客服" in page.content()
    assert page.locator("svg.chart").count() == 0
    context.close()

    context = browser.new_context(base_url=local_stack.api_url, **DESKTOP)
    page = context.new_page()
    sign_in(page, "help", "reports-user", people, "/help")
    answer = page.goto("/agent/reports")
    assert answer.status == 403 or "/agent/login" in page.url
    assert page.locator("svg.chart").count() == 0
    context.close()
