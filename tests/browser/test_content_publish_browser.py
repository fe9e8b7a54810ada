"""#23 done-means, end to end in a real browser on the real local stack (its event runner runs the build worker;
``KB_LIVE_REFRESH_SECONDS`` is 5 in ``dev``): an editor changes an article in ``/agent/kb`` and submits it, a lead
publishes it, and within 60 s the help centre's search finds the new wording and the article page shows it. Until
then — draft and review — a wallet user finds the new wording neither in search nor at the article's URL."""
from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE, pass_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
SLUG = "repayment-failed"
WORDING = "熊猫积分补偿券"


@pytest.fixture(scope="module")
def password(local_stack):
    local_stack.token("cpb-editor", role="kb-editor", phone="+8613800138091")
    local_stack.token("cpb-lead", role="senior-support", phone="+8613800138092")
    from chalicelib.config import settings
    from chalicelib.content import service as content  # what make serve does: kb/ imported into content
    content.import_seed(Path(settings().kb_source_dir), content.current())   # (idempotent)
    from infra import local
    return local.DEMO_PASSWORD


def sign_in(page, username: str, password: str, target: str) -> None:
    page.goto(f"/agent/login?next={target}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    pass_second_factor(page)   # staff: the authenticator code (two-factor sign-in)
    page.wait_for_load_state()


def user_sees(page) -> tuple[bool, bool]:
    """(search finds the new wording on this article, the article page shows it) — as a wallet user sees them."""
    page.goto(f"/help/search?q={quote(WORDING)}")
    found = page.locator(f'a[href*="/help/articles/{SLUG}"]').count() > 0 and WORDING in page.content()
    page.goto(f"/help/articles/{SLUG}")
    return found, WORDING in page.locator("main").inner_text()


def test_an_edit_published_by_a_lead_is_searchable_within_a_minute_and_a_draft_never_is(browser, local_stack,
                                                                                        password):
    def page_at(size):
        made = browser.new_context(base_url=local_stack.api_url, **size)
        made.set_default_timeout(20_000)
        return made.new_page()

    user = page_at(PHONE)
    editor = page_at(DESKTOP)
    sign_in(editor, "cpb-editor", password, "/agent/kb")
    opened = editor.goto(f"/agent/kb/articles/{SLUG}")
    assert opened.status == 200, editor.content()[:2000]
    body = editor.get_by_test_id("body")
    body.fill(body.input_value() + f"\n\n失败的还款会自动退回，并发放一张{WORDING}。")
    editor.get_by_test_id("note").fill("补偿说明")
    editor.get_by_test_id("save").click()
    editor.wait_for_url("**done=saved")
    assert user_sees(user) == (False, False)             # a draft: not searchable, not at its URL
    editor.get_by_test_id("submit").click()
    editor.wait_for_url("**done=submitted")
    assert user_sees(user) == (False, False)             # in review: neither

    lead = page_at(DESKTOP)
    sign_in(lead, "cpb-lead", password, "/agent/kb")
    lead.goto(f"/agent/kb/articles/{SLUG}")
    lead.get_by_test_id("publish").click()
    lead.wait_for_url("**done=published")
    published = time.monotonic()
    seen = (False, False)
    while time.monotonic() - published < 60 and seen != (True, True):
        time.sleep(2)
        seen = user_sees(user)
    assert seen == (True, True), f"not live {time.monotonic() - published:.0f} s after the publish: {seen}"
    ARTIFACTS.mkdir(exist_ok=True)
    user.goto(f"/help/search?q={quote(WORDING)}")
    assert user.evaluate("document.documentElement.scrollWidth") <= 375
    user.screenshot(path=str(ARTIFACTS / "content-published-search-375.png"), full_page=True)
    assert "cpb-editor" not in user.content() and "cpb-lead" not in user.content()   # no staff names for users
