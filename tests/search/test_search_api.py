"""GET /kb/search, /kb/articles/{slug}, /kb/categories: contract, limits, filters, bad input."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.search._kb import fixture_index, kb_api  # noqa: F401  (fixtures)


def search(api, q, **params):
    query = "&".join([f"q={quote(q)}"] + [f"{k}={quote(str(v))}" for k, v in params.items()])
    return api.get(f"/kb/search?{query}")


def test_search_answers_the_documented_shape(kb_api):
    response = search(kb_api, "客服电话是多少")
    assert response.status == 200
    body = response.json
    assert set(body) == {"query", "total", "results", "suggestion", "took_ms"}
    assert body["query"] == "客服电话是多少"
    assert body["total"] >= 1 and body["results"][0]["slug"] == "find-hotline"
    first = body["results"][0]
    assert set(first) == {"slug", "title", "category", "snippet", "score"}
    assert first["category"] == "contact" and first["title"] == "如何找到官方客服热线"
    assert "<mark>" in first["snippet"]
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_limit_bounds_and_default(kb_api):
    assert len(search(kb_api, "还款").json["results"]) <= 10
    assert len(search(kb_api, "还款", limit=1).json["results"]) == 1
    for bad in (0, 51, -1, "ten", "1.5"):
        response = search(kb_api, "还款", limit=bad)
        assert response.status == 400, bad
        assert response.json["error"]["field"] == "limit"
    assert search(kb_api, "还款", limit=50).status == 200


def test_category_filter_only_returns_that_category(kb_api):
    everything = search(kb_api, "客服热线 还款").json
    assert {r["category"] for r in everything["results"]} > {"contact"}
    only_repayment = search(kb_api, "客服热线 还款", category="repayment").json
    assert only_repayment["results"] and {r["category"] for r in only_repayment["results"]} == {"repayment"}
    assert search(kb_api, "客服热线", category="weather").status == 400


@pytest.mark.parametrize("q", ["", "   ", "\u3000\t"])
def test_empty_or_blank_query_is_a_400(kb_api, q):
    response = search(kb_api, q)
    assert response.status == 400
    assert response.json["error"]["field"] == "q"
    assert kb_api.get("/kb/search").status == 400


def test_overlong_query_is_a_400_with_a_chinese_message(kb_api):
    assert search(kb_api, "还" * 200).status == 200
    response = search(kb_api, "还" * 201)
    assert response.status == 400
    assert response.json["error"]["field"] == "q"


@pytest.mark.parametrize("q", [
    'kefu AND "dianhua" OR (还款', "还款*", "还款?~2", "title:还款", "[还款 TO 失败]", "{}", "'\"", "+-&&||!^",
    "还款😀🙏", "😀", "\x00还款", "还\x01款\x7f", "\u200b\u200e还款", "<script>alert(1)</script>", "%00", "\\",
])
def test_query_syntax_emoji_and_control_characters_are_plain_text(kb_api, q):
    response = search(kb_api, q)
    assert response.status == 200, response.text
    for result in response.json["results"]:
        assert "<script>" not in result["snippet"]


def test_unknown_extra_parameters_are_refused(kb_api):
    assert kb_api.get("/kb/search?q=%E8%BF%98%E6%AC%BE&debug=1").status == 400


def test_nothing_found_is_an_empty_result_not_an_error(kb_api):
    body = search(kb_api, "天气预报").json
    assert body["total"] == 0 and body["results"] == []


def test_article_has_html_body_questions_and_related(kb_api):
    response = kb_api.get("/kb/articles/account-compromised")
    assert response.status == 200
    article = response.json
    assert set(article) == {"slug", "title", "category", "html", "updated", "questions", "related"}
    assert article["title"] == "账户被盗了怎么办" and article["category"] == "security"
    assert article["updated"] == "2026-11-05"
    assert "账号被别人登录了" in article["questions"]
    assert "<p>" in article["html"] and "010-0000-1002" in article["html"]
    # raw HTML in an article is shown as text, never executed
    assert "<script>" not in article["html"] and "&lt;script&gt;" in article["html"]
    assert article["related"] and all(set(r) == {"slug", "title"} for r in article["related"])
    assert "account-compromised" not in {r["slug"] for r in article["related"]}


def test_related_articles_prefer_the_same_subject(kb_api):
    related = [r["slug"] for r in kb_api.get("/kb/articles/repayment-failed").json["related"]]
    assert related[0] in {"repayment-delay", "huabei-repay", "fees"}


def test_unknown_article_is_a_404(kb_api):
    response = kb_api.get("/kb/articles/no-such-article")
    assert response.status == 404
    assert response.json["error"]["code"] == "article_not_found"


def test_categories_have_chinese_names_and_counts(kb_api):
    body = kb_api.get("/kb/categories").json
    by_id = {c["id"]: c for c in body["categories"]}
    assert list(by_id) == ["contact", "repayment", "security", "escalation", "about"]
    assert by_id["repayment"]["count"] == 4 and by_id["contact"]["count"] == 1 and by_id["about"]["count"] == 0
    assert by_id["security"]["name"] == "账户安全"


def test_missing_index_is_a_503_not_a_500(kb_api, monkeypatch, tmp_path):
    from chalicelib import config
    from chalicelib.search import service
    monkeypatch.setenv("KB_INDEX_DIR", str(tmp_path / "nothing-here"))
    config.reload()
    service.reset()
    response = search(kb_api, "还款")
    assert response.status == 503
    assert response.json["error"]["code"] == "kb_unavailable"
