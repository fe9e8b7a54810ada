"""The knowledge-base editor in a real browser (Debian's Chromium, the real local stack): an editor writes an article
with the live preview, two editors' saves conflict and both texts stay, the editor submits, the publish button says
why it is disabled, a lead approves; a wallet user never reaches the draft. Screenshots of /agent/kb and the editor at
375 and 1280 px land in ``test-artifacts/`` (docs/kb-editor-*.png are copies)."""
from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE, pass_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture(scope="module")
def people(local_stack):
    local_stack.token("kbe-editor", role="kb-editor", phone="+8613800138081")
    local_stack.token("kbe-editor2", role="kb-editor", phone="+8613800138082")
    local_stack.token("kbe-lead", role="senior-support", phone="+8613800138083")
    local_stack.token("kbe-user", phone="+8613800138084")
    from infra import local
    return local.DEMO_PASSWORD


def sign_in(page, door: str, username: str, password: str, target: str):
    page.goto(f"/{door}/login?next={target}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    pass_second_factor(page)   # staff: the authenticator code (two-factor sign-in)
    page.wait_for_load_state()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_write_conflict_submit_approve_and_users_never_see_the_draft(browser, local_stack, people):
    def context(size):
        made = browser.new_context(base_url=local_stack.api_url, **size)
        made.set_default_timeout(20_000)
        return made.new_page()

    editor = context(DESKTOP)
    sign_in(editor, "agent", "kbe-editor", people, "/agent")
    editor.wait_for_url("**/agent/kb")                       # a content editor's desk is the editor, not the queue
    editor.goto("/agent/kb/new?question=" + "信用卡还款多久到账")
    assert editor.get_by_test_id("questions").input_value() == "信用卡还款多久到账"
    editor.get_by_test_id("title").fill("信用卡还款多久到账")
    editor.get_by_test_id("category").select_option("repayment")
    editor.get_by_test_id("tags").fill("到账、信用卡")
    editor.get_by_test_id("body").fill("还款一般 **2 小时内** 到账。\n\n- 节假日顺延\n\n客服热线 010-0000-1001")
    phone_frame = editor.get_by_test_id("preview-375")
    phone_frame.locator("strong", has_text="2 小时内").wait_for()           # the live preview, no save
    assert phone_frame.locator('a[href="tel:01000001001"]').count() == 1
    assert phone_frame.evaluate("el => el.closest('.frame').getBoundingClientRect().width") <= 375
    editor.get_by_test_id("note").fill("新文章")
    editor.get_by_test_id("save").click()
    editor.wait_for_url("**/agent/kb/articles/*")
    slug = editor.url.split("/agent/kb/articles/")[1].split("?")[0]
    shot(editor, "kb-editor-1280")

    user = context(PHONE)
    user.goto(f"/help/articles/{slug}")
    assert "信用卡还款多久到账" not in user.content()                       # a draft is not reachable by URL

    other = context(DESKTOP)
    sign_in(other, "agent", "kbe-editor2", people, f"/agent/kb/articles/{slug}")
    editor.goto(f"/agent/kb/articles/{slug}")
    editor.get_by_test_id("body").fill("还款一般 **2 小时内** 到账，最迟次日。")
    editor.get_by_test_id("note").fill("补充最迟时间")
    editor.get_by_test_id("save").click()
    editor.wait_for_url("**done=saved")
    other.get_by_test_id("body").fill("还款通常当天到账。")
    other.get_by_test_id("note").fill("改写")
    other.get_by_test_id("save").click()
    other.get_by_test_id("theirs").wait_for()
    assert "最迟次日" in other.get_by_test_id("theirs").inner_text()
    assert other.get_by_test_id("body").input_value() == "还款通常当天到账。"   # nothing lost
    other.get_by_test_id("body").fill("还款一般 **2 小时内** 到账，最迟次日；通常当天。")
    other.get_by_test_id("save").click()
    other.wait_for_url("**done=saved")

    editor.goto(f"/agent/kb/articles/{slug}")
    editor.get_by_test_id("submit").click()
    editor.wait_for_url("**done=submitted")
    assert editor.get_by_test_id("publish").is_disabled()
    assert "高级客服" in editor.get_by_test_id("publish-why").inner_text()

    lead = context(DESKTOP)
    sign_in(lead, "agent", "kbe-lead", people, f"/agent/kb/articles/{slug}")
    lead.get_by_test_id("publish").click()
    lead.wait_for_url("**done=published")
    assert "已发布" in lead.get_by_test_id("article-status").inner_text()

    lead.goto("/agent/kb")
    assert lead.locator(f'li[data-slug="{slug}"]').count() == 1
    shot(lead, "kb-list-1280")
    phone = context(PHONE)
    sign_in(phone, "agent", "kbe-lead", people, "/agent/kb")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    shot(phone, "kb-list-375")
    phone.goto(f"/agent/kb/articles/{slug}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    shot(phone, "kb-editor-375")
