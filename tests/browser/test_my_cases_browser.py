"""「我的工单」 in a real browser (Debian's Chromium, headless) against the real local stack.

A wallet user signs in at /help/login, opens a 工单 from the form (suggested articles appear while
typing), sees an agent's reply arrive without reloading, uploads a screenshot straight to S3 (moto)
through the presigned POST, and confirms with a rating. Another user gets a 404 page for it; a
forged or expired session cookie is sent to sign in. Screenshots at 375 px and 1280 px land in
``test-artifacts/`` (the README's ``docs/my-cases-*.png`` are copies).
"""
from __future__ import annotations

import hashlib
import struct
import uuid
import zlib

import pytest
import requests

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def png(width: int = 24, height: int = 16) -> bytes:
    """A small real PNG (a blue-to-red gradient), made here so nothing binary lives in the repository."""
    rows = b"".join(b"\x00" + b"".join(bytes((x * 10 % 256, 40, 255 - x * 10 % 256)) for x in range(width))
                    for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def people(local_stack):
    from infra import local
    suffix = uuid.uuid4().hex[:6]
    names = {"user": f"mc-user-{suffix}", "other": f"mc-other-{suffix}", "agent": f"mc-agent-{suffix}"}
    tokens = {"user": local_stack.token(names["user"], phone="+8613800138071"),
              "other": local_stack.token(names["other"], phone="+8613800138072"),
              "agent": local_stack.token(names["agent"], role="support", phone="+8613800138073")}
    return names, tokens, local.DEMO_PASSWORD


@pytest.fixture
def context_for(browser, local_stack):  # noqa: F811
    opened = []

    def make(**options):
        context = browser.new_context(base_url=local_stack.api_url, **(options or PHONE))
        opened.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        return context, page
    yield make
    for context in opened:
        context.close()


def sign_in(page, username: str, password: str, goto: str = "/help/cases"):
    page.goto(goto)
    page.wait_for_url("**/help/login?next=**")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**" + goto)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def fits(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide at {width}px"


def staff(local_stack, token: str, method: str, path: str, body=None):
    response = requests.request(method, local_stack.api_url + path, json=body, timeout=30,
                                headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 300, response.text
    return response.json()


def test_open_see_reply_upload_confirm(context_for, local_stack, people):
    names, tokens, password = people
    _, page = context_for()
    sign_in(page, names["user"], password)
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.get_by_test_id("no-cases").wait_for()

    # Open a 工单 from the form: articles that may answer it appear while typing.
    page.get_by_test_id("new-case").click()
    page.wait_for_url("**/help/cases/new")
    page.get_by_label("问题类别").select_option("repayment_failed")
    page.get_by_label("问题描述").press_sequentially("还款失败了，提示银行卡余额不足", delay=20)
    page.get_by_test_id("suggestions").wait_for(state="visible")
    assert page.get_by_test_id("suggestion-link").count() >= 1
    fits(page, 375)
    shot(page, "my-cases-new-375")
    page.get_by_label("问题描述").press_sequentially("，但卡里明明有钱，请帮忙查一下", delay=5)
    page.get_by_test_id("submit-case").click()
    page.wait_for_url("**/help/cases/RD-*")
    case_id = page.get_by_test_id("case-reference").inner_text()
    assert page.get_by_test_id("case-status").inner_text() == "处理中"
    assert "一线客服" in page.get_by_test_id("what-next").inner_text()

    # The agent replies through the support API: the open page shows it without a reload.
    staff(local_stack, tokens["agent"], "POST", f"/support/cases/{case_id}/reply",
          {"message": "您好，请上传扣款短信或银行流水的截图，我们马上核查。"})
    page.get_by_test_id("messages").get_by_text("请上传扣款短信或银行流水的截图").wait_for(timeout=20_000)
    assert page.url.endswith(case_id)  # same page, no navigation

    # A screenshot, straight to S3 through the presigned POST.
    page.locator("#evidence").set_input_files({"name": "扣款短信.png", "mimeType": "image/png", "buffer": png()})
    page.get_by_test_id("upload-button").click()
    page.wait_for_url("**?done=uploaded#attachments")
    page.get_by_test_id("attachment-link").filter(has_text="扣款短信.png").wait_for()
    from chalicelib.config import settings
    stored = local_stack.client("s3").list_objects_v2(Bucket=settings().attachments_bucket,
                                                      Prefix=f"cases/{case_id}/").get("Contents", [])
    assert len(stored) == 1 and stored[0]["Key"].endswith("/扣款短信.png") and stored[0]["Size"] == len(png())
    listed = staff(local_stack, tokens["agent"], "GET", f"/support/cases/{case_id}/attachments")["items"]
    got = requests.get(listed[0]["download_url"], timeout=10)
    assert got.content == png() and got.headers["Content-Disposition"].startswith("attachment")

    # The user answers, the agent resolves, the user confirms with a rating.
    page.get_by_label("回复客服").fill("截图已上传，请查看")
    page.get_by_role("button", name="发送").click()
    page.wait_for_url("**?done=sent#conversation")
    staff(local_stack, tokens["agent"], "POST", f"/support/cases/{case_id}/resolve",
          {"summary": "银行系统维护导致失败，已为您重新发起，款项已到账"})
    page.get_by_test_id("new-activity").wait_for(state="visible", timeout=20_000)
    page.goto(f"/help/cases/{case_id}")
    fits(page, 375)
    shot(page, "my-cases-case-375")
    page.get_by_test_id("rating").get_by_text("4 满意").click()
    page.get_by_label("评价（可选）").fill("处理很快，谢谢")
    page.get_by_test_id("confirm-button").click()
    page.wait_for_url("**?done=confirmed")
    assert page.get_by_test_id("case-status").inner_text() == "已关闭"
    assert "处理很快，谢谢" in page.get_by_test_id("satisfaction").inner_text()
    view = staff(local_stack, tokens["agent"], "GET", f"/support/cases/{case_id}")
    assert view["satisfaction"]["rating"] == 4 and view["satisfaction"]["comment"] == "处理很快，谢谢"

    # 「我的工单」 at 375 px and on a desktop.
    page.goto("/help/cases")
    assert page.get_by_test_id("case-row").count() == 1
    assert page.get_by_test_id("case-row-status").inner_text() == "已关闭"
    fits(page, 375)
    shot(page, "my-cases-list-375")
    _, desk = context_for(**DESKTOP)
    sign_in(desk, names["user"], password)
    fits(desk, 1280)
    shot(desk, "my-cases-list-1280")
    desk.goto(f"/help/cases/{case_id}")
    fits(desk, 1280)
    shot(desk, "my-cases-case-1280")

    # Someone else: a 404 page, nothing of the 工单 shown.
    _, other = context_for()
    sign_in(other, names["other"], password)
    response = other.goto(f"/help/cases/{case_id}")
    assert response.status == 404
    assert "找不到" in other.locator("h1").inner_text()
    assert "余额不足" not in other.content()


def test_forged_and_expired_cookies_are_sent_to_sign_in(context_for, local_stack, people):
    names, _, password = people
    context, page = context_for()
    context.add_cookies([{"name": "rd_session", "value": "F" * 43, "url": local_stack.api_url}])
    page.goto("/help/cases")
    page.wait_for_url("**/help/login?next=/help/cases")

    sign_in(page, names["user"], password)
    cookie = next(c for c in context.cookies() if c["name"] == "rd_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    # The session goes idle past its limit (its last request long ago, as 31 minutes without a click would).
    from chalicelib.config import settings
    key = {"pk": {"S": "SESSION#" + hashlib.sha256(cookie["value"].encode()).hexdigest()}, "sk": {"S": "SESSION"}}
    local_stack.client("dynamodb").update_item(
        TableName=settings().sessions_table, Key=key, UpdateExpression="SET last_seen = :old",
        ExpressionAttributeValues={":old": {"N": "1000"}})
    page.goto("/help/cases")
    page.wait_for_url("**/help/login?next=/help/cases&expired=1")
    assert "重新登录" in page.get_by_test_id("login-notice").inner_text()
