"""The help-centre pages, server-rendered: what a user sees, safe escaping, and friendly errors."""
from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from urllib.parse import quote

import pytest

SECURITY_SLUGS = {"account-compromised", "strong-password", "two-factor-auth", "keep-app-updated",
                  "review-account-activity", "fake-hotline-scams"}


def text_of(page: str) -> str:
    """The visible text of a page (tags, styles and scripts removed)."""
    page = re.sub(r"<(style|script)\b.*?</\1>", "", page, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))


def article_links(page: str) -> list[str]:
    return re.findall(r'href="/help/articles/([a-z0-9-]+)"', page)


def assert_help_page(response, status=200):
    assert response.status == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="zh-CN">' in page
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    # One tap to a human on every page, errors included.
    assert 'href="tel:01000001001"' in page and 'href="tel:01000001002"' in page
    # Nothing fetched from elsewhere: no CDN, no web font, no remote script/style/image.
    assert not re.search(r'(src|href)="(https?:)?//', page) and "@import" not in page and "@font-face" not in page
    return page


def test_home_has_search_box_categories_top_articles_and_the_hotline(api):
    page = assert_help_page(api.get("/help"))
    assert 'action="/help/search"' in page and 'name="q"' in page
    for name in ("联系客服", "还款与费用", "账户安全", "投诉与升级", "关于本钱包"):
        assert name in text_of(page)
    assert {"repayment-delay", "repayment-failed", "find-hotline", "account-compromised"} <= set(article_links(page))
    assert "content-security-policy" in api.get("/help").headers


def test_search_page_shows_highlighted_results_and_did_you_mean(api):
    page = assert_help_page(api.get("/help/search?q=" + quote("还款失拜")))
    assert article_links(page)[0] == "repayment-failed"
    assert "<mark>" in page                                  # the service's highlights are rendered, not escaped
    assert "&lt;mark&gt;" not in page
    assert re.search(r'你是不是要找：<a href="/help/search\?q=[^"]+">还款失败</a>', page)
    assert 'value="还款失拜"' in page                         # the question stays in the box


def test_pinyin_query_finds_the_hotline_article(api):
    page = assert_help_page(api.get("/help/search?q=" + quote("kefu dianhua")))
    assert article_links(page)[0] == "find-hotline"


def test_category_filter_and_browsing(api):
    page = assert_help_page(api.get("/help/search?q=" + quote("密码") + "&category=security"))
    assert article_links(page) and set(article_links(page)) <= SECURITY_SLUGS
    browse = assert_help_page(api.get("/help/search?category=security"))
    assert set(article_links(browse)) == SECURITY_SLUGS      # every article of the category, none other


def test_nothing_found_offers_the_hotline_and_stays_200(api):
    page = assert_help_page(api.get("/help/search?q=" + quote("qwxzv zzkq")))
    assert "没有找到相关文章" in text_of(page) and not article_links(page)


@pytest.mark.parametrize("query, message", [
    ("", "请输入你想问的问题"),
    ("%20%20%20", "请输入你想问的问题"),
    (quote("还款" * 101), "200 个字以内"),
])
def test_empty_or_over_long_question_is_a_friendly_400_page(api, query, message):
    page = assert_help_page(api.get(f"/help/search?q={query}"), status=400)
    assert message in text_of(page)


@pytest.mark.parametrize("query", ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "还款 AND OR NOT (",
                                   "还款\u0000失败", "💳 还款 ✅", "{{ 7*7 }}"])
def test_hostile_or_odd_questions_are_plain_text(api, query):
    response = api.get("/help/search?q=" + quote(query))
    assert response.status in (200, 400)
    page = assert_help_page(response, status=response.status)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "49" not in text_of(page).split("搜索")[0]         # no template injection in the title


def test_article_page_renders_body_feedback_buttons_and_related(api):
    page = assert_help_page(api.get("/help/articles/fake-hotline-scams"))
    visible = text_of(page)
    assert "谨防冒充客服诈骗" in visible and "官方客服绝不会" in visible
    assert "<h2>" in page and "&lt;h2&gt;" not in page          # Markdown body is HTML, not escaped text
    assert "这篇文章有帮助吗？" in visible
    assert 'data-slug="fake-hotline-scams"' in page
    assert '"/kb/articles/" + encodeURIComponent(slug) + "/feedback"' in page
    assert 'data-helpful="true"' in page and 'data-helpful="false"' in page
    assert len(set(article_links(page)) - {"fake-hotline-scams"}) >= 2   # related articles


def test_numbers_in_an_article_are_one_tap_to_call(api):
    page = assert_help_page(api.get("/help/articles/legal-options"))
    body = page.split('class="article-body"', 1)[1].split("</article>", 1)[0]
    assert '<a href="tel:12363">12363</a>' in body and '<a href="tel:12315">12315</a>' in body
    scam = assert_help_page(api.get("/help/articles/fake-hotline-scams"))
    assert '<a href="tel:02100001003">021-0000-1003</a>' in scam


def test_tel_links_leave_tags_links_and_longer_numbers_alone():
    from chalicelib.helpcentre.pages import tel_links
    html = ('<p title="010-0000-1002">拨打 010-0000-1002 或 010-0000-10020，<a href="/x">010-0000-1002</a>；'
            '<strong>021-0000-1003</strong> 与 021-0000-10030</p>')
    assert tel_links(html, ["010-0000-1002", "021-0000-1003"]) == (
        '<p title="010-0000-1002">拨打 <a href="tel:01000001002">010-0000-1002</a> 或 010-0000-10020，'
        '<a href="/x">010-0000-1002</a>；'
        '<strong><a href="tel:02100001003">021-0000-1003</a></strong> 与 021-0000-10030</p>')


def test_feedback_target_of_the_article_page_records_a_vote(api):
    """What the page's buttons send (same path and body) is accepted by the feedback API."""
    response = api.post("/kb/articles/fees/feedback", json_body={"helpful": False, "comment": "没写提现怎么收费"})
    assert response.status in (200, 201, 204), response.text


@pytest.mark.parametrize("slug", ["no-such-article", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "..%2F..%2Fetc%2Fpasswd"])
def test_unknown_article_is_a_404_page_with_a_way_on(api, slug):
    page = assert_help_page(api.get(f"/help/articles/{slug}"), status=404)
    assert "找不到这篇文章" in text_of(page) and 'href="/help"' in page
    assert "<script>alert" not in page


def test_contact_page_lists_channels_hours_regulators_and_the_checker(api):
    page = assert_help_page(api.get("/help/contact"))
    visible = text_of(page)
    for expected in ("010-0000-1001", "010-0000-1002", "021-0000-1003", "8:00–22:00", "24 小时", "在线客服",
                     "service@repaydesk.example.com", "@本钱包客服", "本钱包服务号", "12363", "12378", "12315"):
        assert expected in visible, expected
    assert 'href="tel:02100001003"' in page and 'href="tel:12363"' in page
    assert 'data-testid="number-checker"' in page and "/contacts/verify?number=" in page


def test_number_checker_works_without_javascript(api):
    """The three answers, each worded as what it is."""
    official = text_of(assert_help_page(api.get("/help/contact?number=" + quote("+86 010-0000-1002"))))
    assert "官方号码" in official and "010-0000-1002 是本钱包的官方安全专线" in official
    lookalike = assert_help_page(api.get("/help/contact?number=" + quote("010-0000-10020")))
    assert 'data-verdict="scam_pattern"' in lookalike and "疑似冒充本钱包的诈骗号码" in text_of(lookalike)
    listed = assert_help_page(api.get("/help/contact?number=" + quote("010 0000 9001")))
    assert 'data-verdict="scam_pattern"' in listed and "已核实的冒充本钱包客服的诈骗号码" in text_of(listed)
    bank = assert_help_page(api.get("/help/contact?number=" + quote("95588")))
    result = text_of(bank.split('data-testid="check-result"', 1)[1].split("</section>", 1)[0])
    assert 'data-verdict="not_ours"' in bank and "不是本钱包的号码" in result
    assert "诈骗" not in result and "官方号码" not in result.split("本钱包的官方号码只有")[0]
    bad = assert_help_page(api.get("/help/contact?number=" + quote("<b>abc</b>")), status=400)
    assert "只能包含数字" in text_of(bad) and "<b>abc</b>" not in bad


def test_pages_are_in_the_openapi_document_as_html(api):
    paths = api.get("/openapi.json").json["paths"]
    for path in ("/help", "/help/search", "/help/articles/{slug}", "/help/contact"):
        assert "text/html" in paths[path]["get"]["responses"]["200"]["content"]
    assert paths["/contacts/verify"]["get"]["responses"]["400"]


def test_titles_and_questions_from_an_article_file_are_escaped(aws, monkeypatch, tmp_path):
    """A hostile article title cannot inject markup into the pages (autoescape is on)."""
    from chalice.test import Client

    from app import app
    from chalicelib import config
    from chalicelib.search import service
    from chalicelib.search.build import build

    source = tmp_path / "kb"
    source.mkdir()
    (source / "evil.md").write_text(
        "---\nslug: evil\ntitle: '还款<img src=x onerror=alert(1)>'\ncategory: repayment\n"
        "questions: ['还款<script>alert(2)</script>']\ntags: [还款]\nupdated: '2026-11-20'\n---\n"
        "还款步骤：\n\n1. 打开本钱包。\n", encoding="utf-8")
    build(source, tmp_path / "index")
    monkeypatch.setenv("KB_INDEX_DIR", str(tmp_path / "index"))
    config.reload()
    service.reset()
    try:
        with Client(app, stage_name="dev", project_dir=str(Path(__file__).resolve().parents[2])) as client:
            for path in ("/help/search?q=" + quote("还款"), "/help/articles/evil", "/help/search?category=repayment"):
                response = client.http.get(path)
                page = response.body.decode()
                assert response.status_code == 200, page[:300]
                assert "<img src=x" not in page and "<script>alert(2)" not in page
                assert "&lt;img src=x onerror=alert(1)&gt;" in page
    finally:
        service.reset()


def test_without_the_index_the_pages_still_give_the_hotline(api, monkeypatch, tmp_path):
    from chalicelib import config
    from chalicelib.search import service
    monkeypatch.setenv("KB_INDEX_DIR", str(tmp_path / "missing-index"))
    config.reload()
    service.reset()
    try:
        for path in ("/help", "/help/search?q=" + quote("还款"), "/help/articles/fees"):
            page = assert_help_page(api.get(path), status=503)
            assert "暂时打不开" in text_of(page)
        assert_help_page(api.get("/help/contact"))          # the contact page does not need the index
        assert api.get("/contacts/verify?number=010-0000-1002").json["official"] is True
    finally:
        service.reset()
