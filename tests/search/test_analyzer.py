"""The Chinese analyser: segmentation, synonyms, filler words, pinyin, highlights."""
from __future__ import annotations

import pytest

from tests.search._kb import fixture_index, kb  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def analyzer():
    from chalicelib.search.analyzer import Analyzer
    return Analyzer.for_build()


def test_domain_words_stay_whole(analyzer):
    words = analyzer.analyze("花呗借呗的客服热线和钱包还款").words
    for word in ("花呗", "借呗", "客服热线", "钱包", "还款"):
        assert word in words
    assert "呗" not in words and "花" not in words


def test_long_words_also_yield_their_dictionary_subwords(analyzer):
    words = analyzer.analyze("客服热线").words
    assert {"客服热线", "客服", "热线"} <= set(words)


@pytest.mark.parametrize("colloquial, canonical", [
    ("还钱", "还款"), ("人工", "客服热线"), ("客服电话", "客服热线"), ("到账慢", "延迟"), ("登陆", "登录"),
])
def test_colloquial_words_also_produce_the_canonical_word(analyzer, colloquial, canonical):
    words = analyzer.analyze(f"我{colloquial}").words
    assert colloquial in words and canonical in words


def test_filler_words_are_dropped_and_split_bigrams(analyzer):
    result = analyzer.analyze("请问花呗怎么还款呢？")
    assert [w for w in result.words if not w.startswith("~")] == ["花呗", "还款"]
    # fillers survive only as marked weak terms, ways of asking made to agree
    assert {w for w in result.words if w.startswith("~")} == {"~请问", "~怎么", "~呢"}
    assert "~怎么" in analyzer.analyze("如何还款").words and "~为什么" in analyzer.analyze("为啥扣钱").words
    assert "呗怎" not in result.grams and "么还" not in result.grams
    assert set(result.grams) == {"花呗", "还款", "花", "呗", "还", "款"}  # bigrams + single characters
    assert [w for w in analyzer.analyze("怎么办呢？吗").words if not w.startswith("~")] == []


def test_bigrams_cover_words_the_dictionary_misses(analyzer):
    assert "盲盒" in analyzer.analyze("盲盒退货").grams


def test_typed_pinyin_becomes_the_same_terms_as_the_characters(analyzer):
    typed = analyzer.analyze("kefu dianhua").pinyin
    written = analyzer.analyze("客服电话").pinyin
    assert "ke_fu" in typed and "dian_hua" in typed
    assert {"ke_fu", "dian_hua"} <= set(written)
    assert analyzer.analyze("kefudianhua").pinyin == ["ke_fu", "fu_dian", "dian_hua"]


def test_homophone_typos_share_pinyin_terms(analyzer):
    assert set(analyzer.analyze("还款失拜").pinyin) == set(analyzer.analyze("还款失败").pinyin)
    assert analyzer.analyze("花被").pinyin == analyzer.analyze("花呗").pinyin == ["hua_bei"]


def test_commonly_confused_sounds_share_pinyin_terms(analyzer):
    # zh/z, sh/s, n/l and -ing/-in are confused in many dialects and by pinyin typists
    assert set(analyzer.analyze("资付宝").pinyin) == set(analyzer.analyze("支付宝").pinyin)
    assert set(analyzer.analyze("还款四败").pinyin) == set(analyzer.analyze("还款失败").pinyin)
    assert set(analyzer.analyze("zifubao").pinyin) == set(analyzer.analyze("支付宝").pinyin)


def test_latin_words_that_are_not_pinyin_are_kept_as_words(analyzer):
    result = analyzer.analyze("APP 打不开 vpn")
    assert "app" in result.words and "vpn" in result.words
    assert analyzer.split_syllables("vpn") is None


def test_full_width_and_control_characters_are_normalised_without_moving_offsets():
    from chalicelib.search.analyzer import normalize
    text = "ＡＰＰ\x00还款\t１２"
    assert normalize(text) == "app 还款 12"
    assert len(normalize(text)) == len(text)


def test_runtime_analyzer_from_the_index_agrees_with_the_build(analyzer, fixture_index):
    from chalicelib.search.analyzer import Analyzer
    runtime = Analyzer.for_index(fixture_index)
    for text in ("客服热线电话多少", "还款失败怎么办", "账户被盗了", "kefu dianhua"):
        built, served = analyzer.analyze(text), runtime.analyze(text)
        assert (built.words, built.grams, built.pinyin) == (served.words, served.grams, served.pinyin), text
    # A typo the articles never contain may be segmented differently, but its characters
    # and sounds — what lets it match — are the same.
    built, served = analyzer.analyze("花被还钱"), runtime.analyze("花被还钱")
    assert (built.grams, built.pinyin) == (served.grams, served.pinyin)
    assert "hua_bei" in served.pinyin


def test_highlights_mark_every_occurrence_of_a_repeated_word(kb):
    index = kb.kb_index()
    text = "还款：先还款，再还款 还款"
    marks = kb._query_marks(index, index.analyzer.analyze("还款"), "还款")
    spans = kb.mark_text(index, text, marks)
    assert spans == [(0, 2), (4, 6), (8, 10), (11, 13)]
    html = kb.highlight(text, spans)
    assert html == "<mark>还款</mark>：先<mark>还款</mark>，再<mark>还款</mark> <mark>还款</mark>"


def test_highlights_escape_html_around_marks(kb):
    index = kb.kb_index()
    text = "<b>还款</b> & 还款"
    marks = kb._query_marks(index, index.analyzer.analyze("还款"), "还款")
    html = kb.highlight(text, kb.mark_text(index, text, marks))
    assert html == "&lt;b&gt;<mark>还款</mark>&lt;/b&gt; &amp; <mark>还款</mark>"


def test_highlights_mark_typo_and_pinyin_matches(kb):
    index = kb.kb_index()
    for query, text, expected in (("还款失拜", "付款失败", [(2, 4)]),
                                  ("kefu", "联系客服", [(2, 4)])):
        marks = kb._query_marks(index, index.analyzer.analyze(query), query)
        assert kb.mark_text(index, text, marks) == expected, query


def test_highlight_spans_are_the_full_analysis_spans_including_typed_pinyin(analyzer):
    # analyzer.spans() skips the character and pinyin terms; the offsets, terms and sounds that
    # highlighting reads must not change (typed pinyin keeps its syllables: "kefu" sounds like 客服).
    for text in ("还款：先还款，再还款 还款", "我的花被还钱失拜了吗？", "kefu dianhua 多少", "app 打不开 ma"):
        assert analyzer.spans(text) == analyzer.analyze(text, spans=True).spans, text
    assert ("kefu", "kefu") in {(terms[0], sound) for _, _, terms, sound in analyzer.spans("kefu dianhua")}
