"""Ranking: the way people really type still finds the right article first."""
from __future__ import annotations

import pytest

from chalicelib.kernel.schema import as_body
from tests.search._kb import fixture_index, kb  # noqa: F401  (fixtures)


def top(kb, query, **kw):
    return [r["slug"] for r in as_body(kb.search(query, **kw))["results"]]


@pytest.mark.parametrize("query, slug", [
    ("客服电话是多少", "find-hotline"),
    ("kefu dianhua", "find-hotline"),          # pinyin
    ("KEFU DIANHUA", "find-hotline"),          # pinyin, shouting
    ("我要找人工", "find-hotline"),              # colloquial: 人工 → 客服热线
    ("还款失拜", "repayment-failed"),           # homophone typo
    ("还钱一直不成功", "repayment-failed"),       # 还钱 → 还款, 不成功 → 失败
    ("钱还了但是到账慢", "repayment-delay"),       # 到账慢 → 延迟
    ("花被怎么还", "huabei-repay"),              # homophone typo of 花呗
    ("huabei", "huabei-repay"),
    ("号被盗了", "account-compromised"),
    ("提现收不收手续费", "fees"),
    ("去哪投诉支付公司", "legal-options"),
    ("１２３６３", "legal-options"),              # full-width digits
])
def test_natural_queries_find_the_article_first(kb, query, slug):
    assert top(kb, query)[:1] == [slug]


def test_filler_words_alone_match_nothing(kb):
    body = as_body(kb.search("请问怎么办呢？"))
    assert body["total"] == 0 and body["results"] == []


def test_filler_words_do_not_change_the_ranking(kb):
    assert top(kb, "还款失败") == top(kb, "请问还款失败了怎么办呢")


def test_covering_more_of_the_query_ranks_higher(kb):
    # both articles are about repayment; only one is also about failing
    ranked = top(kb, "还款 失败")
    assert ranked.index("repayment-failed") < ranked.index("repayment-delay")


def test_questions_count_like_the_title(kb):
    # "提现要收费吗" appears only among fees' questions, not in its title
    assert top(kb, "提现要收费吗")[:1] == ["fees"]


def test_did_you_mean_for_typos_and_pinyin(kb):
    assert as_body(kb.search("花被"))["suggestion"] == "花呗"
    assert as_body(kb.search("kefu dianhua"))["suggestion"] == "客服电话"
    assert as_body(kb.search("还款失败"))["suggestion"] is None


def test_took_ms_is_reported(kb):
    assert as_body(kb.search("还款"))["took_ms"] >= 0


def test_service_rejects_bad_input_directly(kb):
    from chalicelib.edge import errors
    for bad in ("", "  ", "还" * 201):
        with pytest.raises(errors.ValidationFailed):
            kb.search(bad)
    with pytest.raises(errors.ValidationFailed):
        kb.search("还款", limit=0)
    with pytest.raises(errors.ValidationFailed):
        kb.search("还款", category="nope")


@pytest.fixture(scope="module")
def product_index(tmp_path_factory):
    """Questions that differ by product: every other word of the query matches 花呗's."""
    from chalicelib.search.build import Article, build
    from chalicelib.search.index import KbIndex

    articles = [Article(slug=slug, title=title, category="repayment", questions=[], tags=[], updated="", body="")
                for slug, title in (("huabei-limit", "花呗额度怎么提高"), ("jiebei-limit", "借呗额度"),
                                    ("limit-general", "额度是什么意思"))]
    # A general article that names a product only as an example, in one of its questions.
    articles.append(Article(slug="limit-restore", title="还款后额度多久恢复", category="repayment",
                            questions=["信用卡还了额度没恢复"], tags=[], updated="", body=""))
    out = tmp_path_factory.mktemp("products") / "index"
    build(out.parent, out, articles=articles)
    return KbIndex(out)


def ranked(index, query):
    hits, _, _ = index.search(query, limit=3)
    return [index.stored(hit.docnum)["slug"] for hit in hits]


@pytest.mark.parametrize("query", ["借呗额度怎么提高", "蚂蚁借呗的额度怎么提高呢"])
def test_an_article_about_another_product_does_not_answer_first(product_index, query):
    # 花呗's question shares 额度, 怎么, 提高 — more than 借呗's — but is about another product
    # (蚂蚁借呗, the long form, included).
    assert ranked(product_index, query)[0] == "jiebei-limit"


def test_articles_naming_no_product_or_the_same_one_are_not_demoted(product_index):
    assert ranked(product_index, "花呗额度怎么提高")[0] == "huabei-limit"
    assert ranked(product_index, "借呗额度是什么意思")[:2] == ["limit-general", "jiebei-limit"]
    assert ranked(product_index, "借呗还款后额度多久恢复")[0] == "limit-restore"
