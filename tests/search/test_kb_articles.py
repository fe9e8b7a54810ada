"""The articles in kb/: every required one exists, is well-formed, and is found by the way users really ask.

Queries here are deliberately not the articles' own titles: colloquial phrasing, common
typos (homophones from pinyin input), and plain pinyin, as typed into the help centre.
The index is built from the current kb/ into a temporary folder, so an edited article
is tested as it is now, not as the last ``make index`` saw it.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KB = ROOT / "kb"

REQUIRED = {
    "contact": ["find-hotline", "online-chat-vs-hotline", "self-service-tips"],
    "repayment": ["credit-card-repayment", "loan-repayment", "utility-bills", "repayment-delay",
                  "repayment-failed", "avoid-late-fees", "fees"],
    "security": ["account-compromised", "strong-password", "two-factor-auth", "keep-app-updated",
                 "review-account-activity", "fake-hotline-scams"],
    "escalation": ["escalate-to-senior", "public-feedback", "legal-options"],
    "about": ["what-is-digital-wallet", "wallet-features"],
}

# slug → what users type (colloquial, typo, pinyin). Each must put the slug first.
QUERIES = {
    "find-hotline": ["你们客服电话是多少", "人工客服号码", "kefu dianhua", "客服电化多少"],
    "online-chat-vs-hotline": ["电话一直打不进去 排队太久", "在线客服快还是打电话快", "zaixian kefu"],
    "self-service-tips": ["不想排队 能自己查吗", "自助服务在哪里", "zizhu fuwu"],
    "credit-card-repayment": ["用钱包还信用卡", "信用卡怎么还钱", "xinyongka huankuan", "信用卡换款"],
    "loan-repayment": ["网贷怎么还", "贷款合同号在哪里", "daikuan huankuan", "还代款", "借呗怎么还"],
    "utility-bills": ["交电费", "水费在哪交", "jiao dianfei", "交煤气费"],
    "repayment-delay": ["还款了钱扣了还没到账", "到账太慢", "还款没到帐", "huankuan mei daozhang",
                        "花呗还款多久能到", "花呗还了钱没到账"],
    "repayment-failed": ["还款失拜", "还款不成功怎么办", "huankuan shibai", "系统维护还不了款", "借呗还款失败了"],
    "avoid-late-fees": ["忘了还款会逾期吗", "滞纳金能不能减免", "逾其了怎么办", "yuqi"],
    "fees": ["手续费怎么收", "提现要收费吗", "手续废", "shouxufei"],
    "account-compromised": ["账号被盗了", "钱被人盗刷了", "帐户被盗", "zhanghu bei dao"],
    "strong-password": ["忘记支付密码", "怎么改登录密码", "密马忘了", "mima xiugai"],
    "two-factor-auth": ["收不到验证码", "验证码一直不来", "yanzhengma"],
    "keep-app-updated": ["app怎么升级", "提示版本太低", "gengxin app"],
    "review-account-activity": ["怎么查交易记录", "陌生设备登录", "jiaoyi jilu"],
    "fake-hotline-scams": ["有人冒充客服让我转账", "这个号码是不是骗子", "假客服", "jia kefu"],
    "escalate-to-senior": ["客服解决不了我要投诉", "转高级客服", "gaoji kefu"],
    "public-feedback": ["官方微博是哪个", "微信公众号叫什么", "weibo"],
    "legal-options": ["12363", "去哪里投诉支付公司", "我要起诉你们", "jianguan tousu"],
    "what-is-digital-wallet": ["数字钱包是什么", "电子钱包安全吗", "shuzi qianbao"],
    "wallet-features": ["AA分账", "每个月预算", "聚餐怎么平摊"],
}


def front_matter(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
    assert match, f"{path.name}: no YAML front matter"
    return yaml.safe_load(match.group(1)), match.group(2)


ALL_REQUIRED = [(category, slug) for category, slugs in REQUIRED.items() for slug in slugs]


@pytest.mark.parametrize("category, slug", ALL_REQUIRED)
def test_required_article_is_complete_and_in_its_category(category, slug):
    meta, body = front_matter(KB / f"{slug}.md")
    assert meta["slug"] == slug and meta["category"] == category
    assert re.search(r"[\u4e00-\u9fff]", meta["title"])
    assert 5 <= len(meta["questions"]) <= 10 and len(set(meta["questions"])) == len(meta["questions"])
    assert meta["tags"] and all(isinstance(tag, str) for tag in meta["tags"])
    dt.date.fromisoformat(str(meta["updated"]))
    assert "本钱包" in body or "本钱包" in meta["title"]
    assert len(body) >= 300
    assert re.search(r"^\s*(#+\s*)?1\. ", body, re.M), "practical articles walk through steps"


def test_every_article_in_kb_has_a_unique_slug_matching_its_file():
    slugs = {}
    for path in sorted(KB.glob("*.md")):
        meta, _ = front_matter(path)
        assert meta["slug"] == path.stem
        assert meta["category"] in REQUIRED
        slugs[meta["slug"]] = path
    assert {slug for _, slug in ALL_REQUIRED} <= set(slugs)


def test_numbers_the_articles_give_are_the_official_ones():
    """An article that prints a wrong hotline would send users to a scammer."""
    book = yaml.safe_load((KB / "contacts.yaml").read_text(encoding="utf-8"))
    official = {line["number"] for line in book["hotlines"]} | {line["number"] for line in book["regulators"]}
    official |= {"110", "96110"}  # police and the national anti-fraud line, named in the scam articles
    for path in KB.glob("*.md"):
        _, body = front_matter(path)
        for number in re.findall(r"(?<![\d-])(?:9\d{4}|1\d{4}|400-\d{3}-\d{4}|110)(?![\d-])", body):
            assert number in official, f"{path.name} mentions {number}, which is not an official line"


@pytest.fixture(scope="module")
def kb_search(tmp_path_factory):
    """``service.search`` over an index built from the current kb/ (analytics go to moto, not AWS)."""
    from moto import mock_aws

    from chalicelib import config
    from chalicelib.adapters import aws as aws_clients
    from chalicelib.search import service
    from chalicelib.search.build import build
    from infra import local

    out = tmp_path_factory.mktemp("kb-index")
    build(KB, out)
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.delenv("AWS_ENDPOINT_URL", raising=False)  # never the e2e stack's moto server
        patch.setenv("KB_INDEX_DIR", str(out))
        config.reload()
        aws_clients.reset()
        local.create_all(config.settings())
        service.reset()
        yield service
        service.flush_analytics()
        service.reset()
    config.reload()
    aws_clients.reset()


CASES = [(slug, query) for slug, queries in QUERIES.items() for query in queries]


@pytest.mark.parametrize("slug, query", CASES)
def test_users_own_words_find_the_article_first(kb_search, slug, query):
    found = kb_search.search(query, limit=5)
    ranked = [hit.slug for hit in found.results]
    assert ranked and ranked[0] == slug, f"{query!r} → {ranked}"


def test_every_required_slug_has_natural_queries():
    assert set(QUERIES) == {slug for _, slug in ALL_REQUIRED}
    assert all(len(queries) >= 3 for queries in QUERIES.values())
    assert all(any(re.fullmatch(r"[a-z ]+", q) for q in queries) or slug in {"wallet-features"}
               for slug, queries in QUERIES.items()), "each article has a pinyin query"


def _own_text() -> str:
    """The CJK characters of every article's own words — title, tags and body (its Markdown marks and punctuation
    left out) — not its ``questions``, which keep the typos users type (信用卡换款, 还款失拜) as search aids."""
    texts = []
    for path in sorted(KB.glob("*.md")):
        meta, body = front_matter(path)
        texts += [meta["title"], *meta.get("tags", []), body]
    return _cjk("\n".join(texts))


def _cjk(text: str) -> str:
    return "".join(re.findall(r"[\u4e00-\u9fff]", text))


def test_did_you_mean_offers_only_words_of_the_articles_own_text(kb_search):
    own = _own_text()
    table = kb_search.kb_index().suggestions()
    assert len(table) > 200                       # built from the knowledge base, not a hand list
    offered = set(table.values())
    assert not {word for word in offered if word not in own}
    assert {"换款", "失拜", "手续废", "密马", "逾其"}.isdisjoint(offered)   # typos kept only in questions


# what users type (pinyin, homophone typos) → the did-you-mean, in the knowledge base's own words
DID_YOU_MEAN = [
    ("huankuan shibai", "还款失败"),       # not 换款失败: 换款 is only a question's typo
    ("xinyongka huankuan", "信用卡还款"),
    ("daikuan huankuan", "贷款还款"),
    ("信用卡换款", "信用卡还款"),
    ("还款失拜", "还款失败"),
    ("还代款", "还贷款"),
    ("kefu dianhua", "客服电话"),
    ("客服电化多少", "客服电话多少"),
    ("手续废", "手续费"),
    ("shouxufei", "手续费"),
    ("逾其了怎么办", "逾期了怎么办"),
    ("密马忘了", "密码忘了"),
    ("yanzhengma", "验证码"),
    ("帐户被盗", "账户被盗"),
]


@pytest.mark.parametrize("query, suggestion", DID_YOU_MEAN)
def test_pinyin_and_typos_get_the_knowledge_bases_word(kb_search, query, suggestion):
    assert kb_search.search(query, limit=5).suggestion == suggestion


@pytest.mark.parametrize("query", ["还款失败", "客服电话", "信用卡还款", "交电费", "手续费怎么收", "忘记支付密码",
                                   "我的钱包安全吗", "怎么查交易记录"])
def test_a_query_in_the_knowledge_bases_words_gets_no_did_you_mean(kb_search, query):
    assert kb_search.search(query, limit=5).suggestion is None


@pytest.mark.parametrize("query", ["huankuan shibai", "信用卡换款", "还款失拜", "xinyongka huankuan", "手续废",
                                   "密马忘了", "kefu dianhua", "逾其了怎么办"])
def test_snippets_are_the_articles_own_text(kb_search, query):
    """A snippet never quotes an article's ``questions`` (信用卡换款, 还款失拜 are typos kept there for search)."""
    own = _own_text()
    results = kb_search.search(query, limit=5).results
    assert results
    for result in results:
        for piece in result.snippet.split("…"):
            assert _cjk(re.sub(r"</?mark>", "", piece)) in own, (query, result.slug, result.snippet)
    shown = " ".join(r.snippet for r in results)
    assert not any(typo in shown for typo in ("换款", "失拜", "手续废", "密马", "逾其")), shown


def test_a_typed_pinyin_word_is_marked_in_the_snippet_in_its_own_characters(kb_search):
    top = kb_search.search("huankuan shibai", limit=1).results[0]
    assert top.slug == "repayment-failed" and "<mark>还款" in top.snippet
