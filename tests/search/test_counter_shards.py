"""Feedback totals (FEEDBACK[#<shard>]) and zero-result counters (ZERO#<day>[#<shard>]) are write-sharded;
the readers merge every shard and the totals stay exact."""
from __future__ import annotations

import pytest

SLUGS = ["fees", "find-hotline", "repayment-failed", "repayment-delay", "card-limit", "refund",
         "huabei-bill", "login", "freeze", "coupon", "transfer", "statement", "password"]
QUERIES = ["天气预报", "股票开户", "彩票", "打车", "外卖退款", "机票改签", "基金定投", "话费充值", "快递查询"]


@pytest.fixture
def shards(aws, monkeypatch):
    """``shards(feedback=n, zero=m)`` → totals and counters are written and read with that many shards."""
    from chalicelib import config
    from chalicelib.search import store

    def use(*, feedback: int, zero: int):
        monkeypatch.setenv("FEEDBACK_SHARDS", str(feedback))
        monkeypatch.setenv("ZERO_RESULT_SHARDS", str(zero))
        config.reload()
    store.resume_analytics()
    yield use
    store.resume_analytics()


def _items_per_partition(partitions: list[str]) -> list[int]:
    from chalicelib.adapters import aws
    from chalicelib.config import settings
    ddb = aws.client("dynamodb")
    return [ddb.query(TableName=settings().kb_table, KeyConditionExpression="pk = :pk",
                      ExpressionAttributeValues={":pk": {"S": pk}})["Count"] for pk in partitions]


def _vote(slug, helpful, n):
    from chalicelib.search import store
    store.record_feedback(slug, helpful=helpful, comment=None, user_id=None, at=f"2026-11-24T02:00:{n:02d}Z")


def test_feedback_totals_are_exact_across_shards(shards):
    from chalicelib.adapters import shards as sharding
    from chalicelib.search import store
    shards(feedback=4, zero=1)
    expected = {}
    for i, slug in enumerate(SLUGS):
        helpful, unhelpful = i % 4, (i * 5) % 3 + (1 if i % 4 == 0 else 0)
        for n in range(helpful):
            _vote(slug, True, n)
        for n in range(unhelpful):
            _vote(slug, False, 30 + n)
        expected[slug] = {"slug": slug, "helpful": helpful, "not_helpful": unhelpful}
    spread = _items_per_partition(sharding.shard_keys(store.FEEDBACK_PK, 4))
    assert sum(spread) == len(SLUGS) and all(spread), spread  # every shard holds some articles' totals
    assert store.article_feedback() == [expected[slug] for slug in sorted(SLUGS)]


def test_raising_the_feedback_shard_count_keeps_totals_exact(shards):
    from chalicelib.search import store
    shards(feedback=1, zero=1)
    for n, slug in enumerate(SLUGS):
        _vote(slug, True, n)
    shards(feedback=8, zero=1)
    for n, slug in enumerate(SLUGS):
        _vote(slug, False, n)
        _vote(slug, True, 30 + n)
    # most slugs now have a total in the old partition and one in their new shard: summed, not doubled or lost
    assert store.article_feedback() == [{"slug": slug, "helpful": 2, "not_helpful": 1} for slug in sorted(SLUGS)]


def test_zero_result_counts_are_exact_across_shards_and_days(shards):
    from chalicelib.adapters import shards as sharding
    from chalicelib.search import store
    shards(feedback=1, zero=4)
    expected = {"2026-11-23": {}, "2026-11-24": {}}
    for i, query in enumerate(QUERIES):
        for day, times in (("2026-11-23", i % 3), ("2026-11-24", i + 1)):
            for _ in range(times):
                store.count_zero_result(query, day=day)
            if times:
                expected[day][query] = times
    spread = _items_per_partition(sharding.shard_keys(store.ZERO_PREFIX + "2026-11-24", 4))
    assert sum(spread) == len(QUERIES) and all(spread), spread
    found = store.zero_result_queries(["2026-11-24", "2026-11-23"])
    assert found == [{"query": q, "day": day, "count": expected[day][q]}
                     for day in ("2026-11-24", "2026-11-23") for q in sorted(expected[day])]


def test_raising_the_zero_result_shard_count_keeps_counts_exact(shards):
    from chalicelib.search import store
    shards(feedback=1, zero=1)
    for query in QUERIES:
        store.count_zero_result(query, day="2026-11-24")
    shards(feedback=1, zero=6)
    for query in QUERIES:
        store.count_zero_result(query, day="2026-11-24")
        store.count_zero_result(query, day="2026-11-24")
    assert store.zero_result_queries(["2026-11-24"]) == [
        {"query": q, "day": "2026-11-24", "count": 3} for q in sorted(QUERIES)]
