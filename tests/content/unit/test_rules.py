"""What an article must be before it is stored, and the HTML users get (fast tier, no AWS)."""
from __future__ import annotations

import pytest

from chalicelib.content import render, rules, schemas, service
from chalicelib.kernel import refusals
from tests.content.conftest import ARTICLE, EDITOR

pytestmark = pytest.mark.unit


def refused(**changes) -> refusals.Invalid:
    body = {**ARTICLE, **changes}
    with pytest.raises(refusals.Invalid) as caught:
        rules.clean(body["title"], body["category"], body["body"], body["tags"], body["questions"])
    return caught.value


def test_an_unknown_category_is_refused_in_chinese():
    error = refused(category="loans")
    assert (error.code, error.field) == ("unknown_category", "category") and "loans" in error.message


def test_a_body_over_100_kb_is_refused_and_one_just_under_is_kept():
    error = refused(body="还" * (100 * 1024 // 3 + 1))
    assert (error.code, error.field) == ("body_too_large", "body") and "100 KB" in error.message
    assert rules.clean("t", "about", "还" * (100 * 1024 // 3)).body


@pytest.mark.parametrize("body", ["点这里 <a href='x'>领取</a>", "<script>alert(1)</script>", "<div>块</div>\n\n正文"])
def test_raw_html_is_refused(body):
    assert refused(body=body).code == "raw_html"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html;base64,PHNjcmlwdD4=", "vbscript:x"])
def test_unsafe_links_are_refused(url):
    assert refused(body=f"[点击]({url})").code == "bad_link"


def test_a_phone_number_that_is_not_an_official_contact_is_refused_by_name():
    error = refused(body="遇到问题请拨打 400-123-4567 联系我们。")
    assert (error.code, error.field) == ("unofficial_number", "body") and "400-123-4567" in error.message
    assert "13912345678" in refused(questions=["客服手机 13912345678 是真的吗"]).message
    assert "95588" in refused(body="请拨打 95588。").message


def test_official_numbers_regulators_and_emergency_lines_pass_and_amounts_are_not_numbers():
    text = rules.clean("热线", "contact", "客服热线 010-0000-1001，安全专线 010-0000-1002，投诉 12363，"
                       "报警 110、96110。每月 12000 元以内免费，单笔 10000 元，手续费 0.1%。")
    assert "12363" in text.body


def test_a_refused_article_is_not_stored(content):
    with pytest.raises(refusals.Invalid):
        service.create_article(EDITOR, schemas.NewArticle.model_validate({**ARTICLE, "slug": "bad", "category": "x"}),
                               service.current())
    assert content.heads == {} and content.kept == {}


def test_rendering_keeps_markdown_escapes_html_and_marks_external_links():
    html = render.to_html("## 标题\n\n**重点** [官网](https://bank.example.com) [费用](/help/articles/fees)\n\n"
                          "| a | b |\n| --- | --- |\n| 1 | 2 |")
    assert "<h2>标题</h2>" in html and "<strong>重点</strong>" in html and "<table>" in html
    assert ('<a class="external" rel="noopener noreferrer nofollow" target="_blank" '
            'href="https://bank.example.com">官网</a>') in html
    assert '<a href="/help/articles/fees">费用</a>' in html
    assert service.article_html("[官网](https://bank.example.com)") == render.to_html("[官网](https://bank.example.com)")
    unsafe = render.to_html("[x](javascript:alert(1)) <img src=x onerror=alert(1)>")
    assert "javascript:" not in unsafe and "<img" not in unsafe     # the link is defused, the tag shown as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in unsafe
