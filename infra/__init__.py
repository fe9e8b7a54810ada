"""The AWS resources RepayDesk needs, declared once as data.

Each domain declares its own in ``infra/<domain>.py`` (``tables``, ``queues``,
``topics`` functions taking the settings). ``infra.local`` creates them in moto
(``make serve`` and the tests); ``make package`` turns the same declarations
into CloudFormation, so the local stack and the deployed one cannot drift.

Shapes:
- table: boto3 ``create_table`` kwargs (``BillingMode="PAY_PER_REQUEST"``), plus
  an optional ``"ttl": "<attribute>"``.
- queue: ``{"name": str, "visibility_timeout": int, "dlq": bool, "max_receive": int}``.
- topic: ``{"name": str, "queues": [queue names subscribed with raw delivery]}``.
- bucket: ``{"name": str, "cors_origins": [page origins that may POST a form to it],
  "expire_days": int, "expire_tag": {"Key", "Value"}}`` — always private, encrypted, public access blocked
  (see devtools/package.py); with ``expire_tag`` only objects carrying that tag expire; with
  ``"notify_queue": queue name, "notify_prefix": str`` S3 announces new objects under the prefix there.
- receipt rule (SES, ``infra/mail.py``): ``{"name", "recipients", "bucket", "prefix"}``.
"""
from __future__ import annotations

import importlib

DOMAINS = ("repay", "search", "escalation", "shared", "web", "bills", "status", "content", "assistant",
           "editions", "mail")


def _modules():
    for name in DOMAINS:
        try:
            yield importlib.import_module(f"infra.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"infra.{name}":
                raise


def tables(cfg) -> list[dict]:
    return [t for m in _modules() for t in getattr(m, "tables", lambda c: [])(cfg)]


def queues(cfg) -> list[dict]:
    return [q for m in _modules() for q in getattr(m, "queues", lambda c: [])(cfg)]


def topics(cfg) -> list[dict]:
    return [t for m in _modules() for t in getattr(m, "topics", lambda c: [])(cfg)]


def buckets(cfg) -> list[dict]:
    return [b for m in _modules() for b in getattr(m, "buckets", lambda c: [])(cfg)]


def receipt_rules(cfg) -> list[dict]:
    """SES receipt rules: ``{"name", "recipients": [domains], "bucket": bucket name, "prefix": key prefix}``."""
    return [r for m in _modules() for r in getattr(m, "receipt_rules", lambda c: [])(cfg)]


def table(name: str, *, gsis: list[tuple[str, str, str]] = (), ttl: str | None = None) -> dict:
    """A pk/sk table with string keys and optional (index, hash, range) GSIs, all projected."""
    attributes = {"pk", "sk"}
    indexes = []
    for index_name, hash_key, range_key in gsis:
        attributes.update({hash_key, range_key})
        indexes.append({
            "IndexName": index_name,
            "KeySchema": [{"AttributeName": hash_key, "KeyType": "HASH"},
                          {"AttributeName": range_key, "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        })
    spec = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
    }
    if indexes:
        spec["GlobalSecondaryIndexes"] = indexes
    if ttl:
        spec["ttl"] = ttl
    return spec
