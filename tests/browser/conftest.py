"""What every browser test shares: Debian's Chromium (never a downloaded browser), the two screen sizes,
and where screenshots go."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN"}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() or not shutil.which("fc-list"):
        pytest.fail("Debian's chromium is not installed: run `make system-deps` (make test does it)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


SERIOUS = ("serious", "critical")


def axe_violations(page, impacts=SERIOUS) -> list[str]:
    """axe-core (the copy bundled by ``axe-playwright-python``, no download) run on the page as it is now:
    one line per violation of these impacts — rule, impact, how many elements, the first few selectors."""
    from axe_playwright_python.sync_playwright import Axe
    results = Axe().run(page, options={"resultTypes": ["violations"]})
    return [f"{v['id']} ({v['impact']}, {len(v['nodes'])}×): {v['help']} — "
            + ", ".join(str(n["target"]) for n in v["nodes"][:3])
            for v in results.response["violations"] if v.get("impact") in impacts]


def assert_accessible(page, label: str = "") -> None:
    """No serious or critical axe-core violation (WCAG A/AA rules: contrast, names, labels, landmarks …)."""
    found = axe_violations(page)
    assert not found, f"{label or page.url}: " + "; ".join(found)


def pass_second_factor(page) -> None:
    """After the password: a two-factor page (every staff test user has an authenticator — moto's one secret —
    enrolled by ``infra.local.ensure_user``) answered with the code it shows at this process's clock; nothing
    when the sign-in went on without one (a wallet user, a refused password). docs/front-doors.md."""
    page.wait_for_load_state()
    if page.get_by_test_id("mfa-form").count():
        from infra import local
        page.get_by_label("6 位验证码").fill(local.totp_code())
        page.get_by_test_id("mfa-form").get_by_role("button").click()
        page.wait_for_load_state()


def sign_in_at(page, door: str, username: str, password: str, start: str | None = None) -> None:
    """Sign in through a door's form (``door`` "agent" or "help"), starting from a page that sends there.

    The one place a browser test signs a user or a staff member in: a later sign-in step (staff two-factor)
    is added here."""
    page.goto(start or ("/agent" if door == "agent" else "/help/cases"))
    page.wait_for_url(f"**/{door}/login**")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    pass_second_factor(page)
