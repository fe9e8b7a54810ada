"""DynamoDB side of the knowledge base: zero-result query counters and article feedback.

One table (``settings().kb_table``, pk/sk strings), three kinds of item:

| pk | sk | what |
| --- | --- | --- |
| ``ZERO#<yyyy-mm-dd>[#<shard>]`` | ``Q#<query>`` | a query that found nothing that day: ``count`` (ADD), ``last_at`` |
| ``FEEDBACK[#<shard>]`` | ``ARTICLE#<slug>`` | per-article totals ``helpful`` / ``not_helpful`` (atomic ADD) |
| ``ARTICLE#<slug>`` | ``VOTE#<time>#<id>`` or ``USER#<user id>`` | one vote with its comment |
| ``SIGNAL#<yyyy-mm-dd>`` | ``<kind>#<slug>#<query>`` | what a search led to that day: ``count`` (ADD); no user or IP |

The counters and totals are write-sharded (``ZERO_RESULT_SHARDS``, ``FEEDBACK_SHARDS``;
``chalicelib/adapters/shards.py``, docs/scale.md): a query's or an article's shard is crc32 of the
query or slug (shard 0 is the unsharded key), so no single partition takes every zero-result
search or every vote. Readers query every shard and sum rows of the same query or slug.

Every read on a request path is a Query on one partition (a day's or the totals' shard, an
article's votes), never a Scan. A vote and the totals it changes are written in one transaction,
the vote conditionally (a signed-in user votes once per article; a retried anonymous vote
with the same id is not counted twice).

Zero-result counting uses its own client with short timeouts and no retries, and stops
trying for a while after a failure, so a slow or unreachable DynamoDB never slows a search.
"""
from __future__ import annotations

import functools
import time
import uuid

from chalicelib.adapters import aws, shards
from chalicelib.config import settings
from chalicelib.edge import errors

ZERO_PREFIX = "ZERO#"
SIGNAL_PREFIX = "SIGNAL#"
FEEDBACK_PK = "FEEDBACK"
MAX_STORED_QUERY = 200
MAX_COMMENT = 500
ANALYTICS_PAUSE_SECONDS = 30.0

_analytics_down_until = 0.0


def zero_key(day: str, query: str) -> str:
    """The partition of ``query``'s counter on ``day``."""
    return shards.shard_key(ZERO_PREFIX + day, shards.shard_of(query, settings().zero_result_shards))


def feedback_key(slug: str) -> str:
    """The partition of ``slug``'s feedback totals."""
    return shards.shard_key(FEEDBACK_PK, shards.shard_of(slug, settings().feedback_shards))


def _query_partitions(partition_keys: list[str]):
    """Every item of the given partitions, one paginated Query each."""
    paginator = aws.client("dynamodb").get_paginator("query")
    for pk in partition_keys:
        for page in paginator.paginate(TableName=settings().kb_table, KeyConditionExpression="pk = :pk",
                                       ExpressionAttributeValues={":pk": {"S": pk}}):
            yield from page["Items"]


@functools.cache
def _analytics_client(session):
    from botocore.config import Config

    config = Config(connect_timeout=0.3, read_timeout=0.5, retries={"total_max_attempts": 1})
    return session.client("dynamodb", config=config)


def analytics_available() -> bool:
    return time.monotonic() >= _analytics_down_until


def count_zero_result(query: str, *, day: str) -> None:
    """ADD 1 to the day's counter of this query (best effort; raises only to be logged)."""
    global _analytics_down_until
    if not analytics_available():
        return
    try:
        _analytics_client(aws._session()).update_item(
            TableName=settings().kb_table,
            Key={"pk": {"S": zero_key(day, query[:MAX_STORED_QUERY])}, "sk": {"S": "Q#" + query[:MAX_STORED_QUERY]}},
            UpdateExpression="ADD #count :one SET #query = :query, #day = :day",
            ExpressionAttributeNames={"#count": "count", "#query": "query", "#day": "day"},
            ExpressionAttributeValues={":one": {"N": "1"}, ":query": {"S": query[:MAX_STORED_QUERY]},
                                       ":day": {"S": day}},
        )
    except Exception:
        _analytics_down_until = time.monotonic() + ANALYTICS_PAUSE_SECONDS
        raise


def count_signal(query: str, slug: str, kind: str, *, day: str) -> None:
    """ADD 1 to the day's counter of (kind, article, query) — best effort, like zero-result counts.
    Callers pass only queries ``signals.valid`` accepts (nothing personal)."""
    global _analytics_down_until
    if not analytics_available():
        return
    query = query[:MAX_STORED_QUERY]
    try:
        _analytics_client(aws._session()).update_item(
            TableName=settings().kb_table,
            Key={"pk": {"S": SIGNAL_PREFIX + day}, "sk": {"S": f"{kind}#{slug}#{query}"}},
            UpdateExpression="ADD #count :one SET #query = :query, #slug = :slug, #kind = :kind",
            ExpressionAttributeNames={"#count": "count", "#query": "query", "#slug": "slug", "#kind": "kind"},
            ExpressionAttributeValues={":one": {"N": "1"}, ":query": {"S": query}, ":slug": {"S": slug},
                                       ":kind": {"S": kind}},
        )
    except Exception:
        _analytics_down_until = time.monotonic() + ANALYTICS_PAUSE_SECONDS
        raise


def signals(days: list[str]) -> list[dict]:
    """Every signal counter of the given days: one Query per day partition (export, not a request path)."""
    ddb = aws.client("dynamodb")
    found = []
    for day in days:
        kwargs = {"TableName": settings().kb_table, "KeyConditionExpression": "pk = :pk",
                  "ExpressionAttributeValues": {":pk": {"S": SIGNAL_PREFIX + day}}}
        for page in ddb.get_paginator("query").paginate(**kwargs):
            for item in page["Items"]:
                found.append({"query": item["query"]["S"], "slug": item["slug"]["S"], "kind": item["kind"]["S"],
                              "day": day, "count": int(item["count"]["N"])})
    return found


def resume_analytics() -> None:
    """Forget a recorded outage (tests)."""
    global _analytics_down_until
    _analytics_down_until = 0.0


def zero_result_queries(days: list[str]) -> list[dict]:
    """Every counted query of the given days: one Query per day and shard, the shards' counts
    of the same query summed (a query is found in two shards only after the shard count grew)."""
    found: list[dict] = []
    for day in days:
        counts: dict[str, int] = {}
        for item in _query_partitions(shards.shard_keys(ZERO_PREFIX + day, settings().zero_result_shards)):
            query = item["query"]["S"]
            counts[query] = counts.get(query, 0) + int(item["count"]["N"])
        found.extend({"query": query, "day": day, "count": counts[query]} for query in sorted(counts))
    return found


def record_feedback(slug: str, *, helpful: bool, comment: str | None, user_id: str | None, at: str,
                    vote_id: str | None = None) -> None:
    """Store one vote and bump the article's totals, atomically."""
    if user_id:
        sk = f"USER#{user_id}"
    else:
        sk = f"VOTE#{at}#{vote_id or uuid.uuid4().hex}"
    vote = {"pk": {"S": f"ARTICLE#{slug}"}, "sk": {"S": sk}, "slug": {"S": slug},
            "helpful": {"BOOL": bool(helpful)}, "at": {"S": at}}
    if comment:
        vote["comment"] = {"S": comment[:MAX_COMMENT]}
    if user_id:
        vote["user_id"] = {"S": user_id}
    counter = "helpful" if helpful else "not_helpful"
    table = settings().kb_table
    try:
        aws.transact({
            "vote": {"Put": {"TableName": table, "Item": vote, "ConditionExpression": "attribute_not_exists(pk)"}},
            "totals": {"Update": {"TableName": table,
                                  "Key": {"pk": {"S": feedback_key(slug)}, "sk": {"S": f"ARTICLE#{slug}"}},
                                  "UpdateExpression": "ADD #counter :one SET slug = :slug",
                                  "ExpressionAttributeNames": {"#counter": counter},
                                  "ExpressionAttributeValues": {":one": {"N": "1"}, ":slug": {"S": slug}}}},
        })
    except aws.ConditionFailed as exc:
        if "vote" in exc:
            raise errors.Conflict("您已经评价过这篇文章了，感谢反馈。", code="already_voted") from None
        raise


def article_feedback() -> list[dict]:
    """Totals of every article that has votes, by slug: one Query per totals shard, the
    shards' totals of the same article summed."""
    totals: dict[str, dict] = {}
    for item in _query_partitions(shards.shard_keys(FEEDBACK_PK, settings().feedback_shards)):
        slug = item["slug"]["S"]
        entry = totals.setdefault(slug, {"slug": slug, "helpful": 0, "not_helpful": 0})
        entry["helpful"] += int(item.get("helpful", {}).get("N", 0))
        entry["not_helpful"] += int(item.get("not_helpful", {}).get("N", 0))
    return [totals[slug] for slug in sorted(totals)]


def votes(slug: str) -> list[dict]:
    """One article's individual votes (newest last): a Query on its partition."""
    return [{"helpful": item["helpful"]["BOOL"], "comment": item.get("comment", {}).get("S"), "at": item["at"]["S"]}
            for item in _query_partitions([f"ARTICLE#{slug}"])]
