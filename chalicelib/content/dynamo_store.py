"""The DynamoDB content store: articles, their versions, their audit records (table ``settings().content_table``).

Use cases reach it through ``chalicelib/content/store.py`` (``memory_store.py`` is its twin); writes are elements
of a unit of work (``chalicelib/adapters/unit_of_work.py``). Table design (docs/content.md):

==========================  ======================================  =============================================
item                        pk / sk                                 notes
==========================  ======================================  =============================================
article (head)              ``ART#<slug>`` / ``HEAD``               state, current version, ``revision`` (every
                                                                    change conditional on it); the live version
                                                                    kept in ``published``
version                     ``ART#<slug>`` / ``V#<000001>``         put if absent: never overwritten
audit record                ``ART#<slug>`` / ``AUDIT#<revision>``   who, what, which version
==========================  ======================================  =============================================

GSI ``by_list`` (sparse: only heads carry ``list_pk = ARTICLE``, ``list_sk = <slug>``; never a Scan): every article,
for the editors' list. The published set (the index build, the export) takes the slugs from it — an article is
listed from its creation on, long before it is published — and reads the heads with a *consistent*
BatchGetItem: a GSI lags its table, and the build that runs right after a publish must see that publish.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from chalicelib.adapters import aws
from chalicelib.config import settings
from chalicelib.content.model import Article, Audit, Text, Version

LIST = "ARTICLE"
BATCH = 100   # BatchGetItem's most keys per call


def _name() -> str:
    return settings().content_table


def _table():
    return aws.table(_name())


def article_key(slug: str) -> dict:
    return {"pk": f"ART#{slug}", "sk": "HEAD"}


def version_key(slug: str, number: int) -> dict:
    return {"pk": f"ART#{slug}", "sk": f"V#{number:06d}"}


# ---------------------------------------------------------------- item ⇄ model
def _plain(value: Any) -> Any:
    """Stored values as Python ones (DynamoDB numbers arrive as Decimal)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "as_integer_ratio") and not isinstance(value, bool | float):
        return int(value)
    return value


def version_item(version: Version) -> dict:
    return _drop_none(dataclasses.asdict(version))


def version_from(item: dict) -> Version:
    found = _plain(item)
    text = found["text"]
    return Version(slug=found["slug"], number=found["number"],
                   text=Text(title=text["title"], category=text["category"], body=text["body"],
                             tags=tuple(text.get("tags") or ()), questions=tuple(text.get("questions") or ())),
                   author_id=found["author_id"], author_name=found.get("author_name", ""), at=found["at"],
                   note=found.get("note", ""), kind=found.get("kind", "edit"), updated=found.get("updated", ""),
                   based_on=found.get("based_on"))


def article_item(article: Article) -> dict:
    item = _drop_none({k: v for k, v in dataclasses.asdict(article).items() if k != "published"})
    item["ever_published"] = list(article.ever_published)
    if article.published is not None:
        item["published"] = version_item(article.published)
    item.update(article_key(article.slug))
    item.update({"list_pk": LIST, "list_sk": article.slug})
    return item


def article_from(item: dict) -> Article:
    found = _plain(item)
    fields = {f.name for f in dataclasses.fields(Article)}
    values = {k: v for k, v in found.items() if k in fields and k != "published"}
    values["ever_published"] = tuple(values.get("ever_published") or ())
    published = found.get("published")
    return Article(**values, published=version_from(published) if published else None)


def audit_item(audit: Audit) -> dict:
    key = {"pk": f"ART#{audit.slug}", "sk": f"AUDIT#{audit.revision:08d}"}
    return {**key, **_drop_none(dataclasses.asdict(audit))}


def audit_from(item: dict) -> Audit:
    found = _plain(item)
    return Audit(slug=found["slug"], at=found["at"], actor_id=found["actor_id"], actor_name=found.get("actor_name", ""),
                 action=found["action"], version=found["version"], revision=found.get("revision", 0),
                 detail=found.get("detail") or {})


def _drop_none(item: dict) -> dict:
    return {k: (_drop_none(v) if isinstance(v, dict) else list(v) if isinstance(v, tuple) else v)
            for k, v in item.items() if v is not None}


# ---------------------------------------------------------------- reads
def get_article(slug: str) -> Article | None:
    item = _table().get_item(Key=article_key(slug), ConsistentRead=True).get("Item")
    return article_from(item) if item else None


def get_version(slug: str, number: int) -> Version | None:
    item = _table().get_item(Key=version_key(slug, number), ConsistentRead=True).get("Item")
    return version_from(item) if item else None


def _query(**query) -> list[dict]:
    items: list[dict] = []
    while True:
        response = _table().query(**query)
        items.extend(response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            return items
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _of_article(slug: str, prefix: str) -> list[dict]:
    return _query(KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)", ConsistentRead=True,
                  ExpressionAttributeValues={":pk": f"ART#{slug}", ":prefix": prefix})


def versions(slug: str) -> list[Version]:
    return [version_from(i) for i in _of_article(slug, "V#")]


def audit_of(slug: str) -> list[Audit]:
    return [audit_from(i) for i in _of_article(slug, "AUDIT#")]


def articles() -> list[Article]:
    return [article_from(i) for i in _query(IndexName="by_list", KeyConditionExpression="list_pk = :p",
                                            ExpressionAttributeValues={":p": LIST})]


def published_articles() -> list[Article]:
    slugs = [i["list_sk"] for i in _query(IndexName="by_list", KeyConditionExpression="list_pk = :p",
                                          ExpressionAttributeValues={":p": LIST}, ProjectionExpression="list_sk")]
    return [a for a in _heads(sorted(slugs)) if a.is_live]


def _heads(slugs: list[str]) -> list[Article]:
    """The heads of ``slugs`` read consistently (BatchGetItem, 100 at a time, unprocessed keys asked again)."""
    decode = aws.deserializer().deserialize
    found: dict[str, Article] = {}
    for start in range(0, len(slugs), BATCH):
        keys = [aws.attributes(article_key(s)) for s in slugs[start:start + BATCH]]
        wanted: dict[str, Any] = {_name(): {"Keys": keys, "ConsistentRead": True}}
        while wanted:
            response = aws.client("dynamodb").batch_get_item(RequestItems=wanted)
            for raw in response.get("Responses", {}).get(_name(), []):
                article = article_from({k: decode(v) for k, v in raw.items()})
                found[article.slug] = article
            wanted = response.get("UnprocessedKeys") or {}
    return [found[s] for s in slugs if s in found]


# ---------------------------------------------------------------- writes
def _put(item: dict, condition: str | None = None, values: dict | None = None) -> dict:
    put: dict[str, Any] = {"TableName": _name(), "Item": aws.attributes(item)}
    if condition:
        put["ConditionExpression"] = condition
    if values:
        put["ExpressionAttributeValues"] = {k: aws.serializer().serialize(v) for k, v in values.items()}
    return {"Put": put}


def add_article(uow, article: Article) -> None:
    uow.add("article", _put(article_item(article), "attribute_not_exists(pk)"))


def save_article(uow, article: Article, expected_revision: int) -> None:
    uow.add("article", _put(article_item(article), "revision = :r", {":r": expected_revision}))


def add_version(uow, version: Version) -> None:
    uow.add("version", _put({**version_key(version.slug, version.number), **version_item(version)},
                            "attribute_not_exists(pk)"))


def record(uow, audit: Audit) -> None:
    uow.add("audit", _put(audit_item(audit), "attribute_not_exists(pk)"))
