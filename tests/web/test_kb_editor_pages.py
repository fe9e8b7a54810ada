"""The article editor in the workspace (``/agent/kb``) over the content facade: the list with search, a new draft
from a user question, the preview by the help centre's renderer (script and no-script), a conflicting save that
keeps both texts, review with four eyes, and who may not write."""
from __future__ import annotations

import html
import json
import re

import pytest

BODY = "还款一般 **2 小时内** 到账。\n\n有疑问请拨打客服热线 010-0000-1001。"


@pytest.fixture
def builds():
    from chalicelib.content import service
    reasons: list[str] = []
    previous = service.use_index_builder(lambda reason, requested_by="": reasons.append(reason) or f"b-{len(reasons)}")
    yield reasons
    service.use_index_builder(previous)


@pytest.fixture
def desk(aws, builds, make_user, browser_for, demo_password):
    """Signed-in browsers by name: editor/editor2 (kb-editor), lead/lead2 (senior-support), agent (support)."""
    roles = {"editor": "kb-editor", "editor2": "kb-editor", "lead": "senior-support", "lead2": "senior-support",
             "agent": "support"}

    def open_as(name: str):
        make_user(name, role=roles[name], phone=f"+86138001380{10 + list(roles).index(name)}")
        browser = browser_for()
        assert browser.sign_in("agent", name, demo_password).status == 303
        return browser
    return open_as


def _new_article(browser, title="信用卡还款到账时间", question="还款多久到账") -> str:
    form = browser.get("/agent/kb/new")
    made = browser.post("/agent/kb/new", {"csrf_token": browser.csrf(form), "title": title, "category": "repayment",
                                          "tags": "到账、信用卡", "questions": question, "body": BODY,
                                          "note": "新文章", "action": "save"})
    assert made.status == 303, made.text
    return made.headers["location"].split("/agent/kb/articles/")[1].split("?")[0]


def _version(page) -> str:
    return re.search(r'name="version" value="(\d+)"', page.text).group(1)


def test_an_editor_lands_on_the_list_and_a_gap_query_opens_a_draft_with_it(desk):
    editor = desk("editor")
    assert editor.get("/agent").headers["location"] == "/agent/kb"        # no 工单 queue for a content editor
    form = editor.get("/agent/kb/new?question=" + "%E6%80%8E%E4%B9%88%E6%B3%A8%E9%94%80%E8%B4%A6%E6%88%B7")
    assert form.status == 200
    assert "怎么注销账户" in re.search(r'data-testid="questions">(.*?)</textarea>', form.text, re.S).group(1)
    slug = _new_article(editor, title="注销账户怎么办", question="怎么注销账户")
    listing = editor.get("/agent/kb?q=" + "%E6%B3%A8%E9%94%80")
    rows = re.findall(r'<li data-slug="([^"]+)">', listing.text)
    assert rows == [slug] and "草稿" in listing.text and "editor" in listing.text
    assert re.findall(r'<li data-slug="([^"]+)">', editor.get("/agent/kb?state=published").text) == []


def test_the_preview_is_what_users_see_with_and_without_script(desk):
    editor = desk("editor")
    form = editor.get("/agent/kb/new")
    shown = editor.post("/agent/kb/new", {"csrf_token": editor.csrf(form), "title": "预览", "category": "repayment",
                                          "tags": "", "questions": "", "body": BODY + "\n\n<script>x()</script>",
                                          "note": "", "action": "preview"})
    assert shown.status == 200
    frame = re.search(r'data-testid="preview-375">(.*?)</div>', shown.text, re.S).group(1)
    assert "<strong>2 小时内</strong>" in frame and 'href="tel:01000001001"' in frame and "<script>x()" not in frame
    assert re.findall(r'<li data-slug="([^"]+)">', editor.get("/agent/kb").text) == []    # a preview saves nothing
    token = editor.csrf(form)
    answer = editor.api.post("/agent/kb/preview", body=json.dumps({"body": "# 标题\n\n[链接](javascript:alert(1))"}),
                             headers=editor._headers({"Content-Type": "application/json", "X-CSRF-Token": token}))
    assert answer.status == 200 and "<h1>标题</h1>" in answer.json["html"] and "javascript:" not in answer.json["html"]
    forged = editor.api.post("/agent/kb/preview", body=json.dumps({"body": "x"}),
                             headers=editor._headers({"Content-Type": "application/json", "X-CSRF-Token": "no"}))
    assert forged.status == 403 and forged.json["error"]["code"]


def test_a_conflicting_save_keeps_both_texts(desk):
    editor, other = desk("editor"), desk("editor2")
    slug = _new_article(editor)
    mine, theirs = editor.get(f"/agent/kb/articles/{slug}"), other.get(f"/agent/kb/articles/{slug}")
    fields = {"title": "信用卡还款到账时间", "category": "repayment", "tags": "到账", "questions": "还款多久到账",
              "action": "save"}
    assert other.post(f"/agent/kb/articles/{slug}/save", {**fields, "csrf_token": other.csrf(theirs),
                                                          "version": _version(theirs), "note": "乙的修改",
                                                          "body": "乙写的：2 小时内到账。"}).status == 303
    late = editor.post(f"/agent/kb/articles/{slug}/save", {**fields, "csrf_token": editor.csrf(mine),
                                                           "version": _version(mine), "note": "甲的修改",
                                                           "body": "甲写的：最迟次日到账。"})
    assert late.status == 409
    assert "甲写的：最迟次日到账。" in html.unescape(re.search(r'data-testid="body">(.*?)</textarea>', late.text,
                                                              re.S).group(1))
    assert "乙写的：2 小时内到账。" in html.unescape(re.search(r'data-testid="theirs">(.*?)</section>', late.text,
                                                               re.S).group(1))
    again = editor.post(f"/agent/kb/articles/{slug}/save", {**fields, "csrf_token": editor.csrf(late),
                                                            "version": _version(late), "note": "甲合并",
                                                            "body": "甲写的：最迟次日到账。"})
    assert again.status == 303
    diff = editor.get(f"/agent/kb/articles/{slug}/diff?from=2&to=3")
    assert diff.status == 200 and "乙写的" in diff.text and "甲写的" in diff.text


def test_review_needs_a_second_person_and_the_button_says_why(desk, builds, api):
    editor, lead = desk("editor"), desk("lead")
    slug = _new_article(editor)
    page = editor.get(f"/agent/kb/articles/{slug}")
    assert editor.post(f"/agent/kb/articles/{slug}/submit", {"csrf_token": editor.csrf(page), "note": "请审核"}
                       ).status == 303
    waiting = editor.get(f"/agent/kb/articles/{slug}")
    assert 'disabled aria-describedby="publish-why" data-testid="publish"' in waiting.text
    assert "高级客服" in re.search(r'data-testid="publish-why">([^<]+)', waiting.text).group(1)
    assert api.get(f"/help/articles/{slug}").status == 404                  # in review: no user can reach it
    review = lead.get(f"/agent/kb/articles/{slug}")
    assert lead.post(f"/agent/kb/articles/{slug}/publish", {"csrf_token": lead.csrf(review)}).status == 303
    assert "已发布" in lead.get(f"/agent/kb/articles/{slug}?done=published").text and builds


def test_a_frontline_agent_cannot_write_and_bad_input_is_a_page_with_a_way_back(desk):
    agent = desk("agent")
    assert agent.get("/agent/kb/new").status == 403
    editor = desk("editor")
    form = editor.get("/agent/kb/new")
    bad = editor.post("/agent/kb/new", {"csrf_token": editor.csrf(form), "title": "没有分类", "category": "nope",
                                        "tags": "", "questions": "", "body": "正文", "note": "", "action": "save"})
    assert bad.status == 400 and "没有保存" in bad.text and "没有分类" in bad.text
    missing = editor.get("/agent/kb/articles/no-such-article")
    assert missing.status == 404 and 'href="/agent/kb"' in missing.text
    assert editor.get("/agent/kb/articles/x/diff?from=a&to=2").status in (400, 404)
