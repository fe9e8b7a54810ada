"""The DynamoDB editions store (table ``settings().editions_table``).

==========================  ==================================  ==============================================
item                        pk / sk                             notes
==========================  ==================================  ==============================================
head                        ``KIND#<kind>`` / ``HEAD``          ``rev`` (conditional writes), status, published
version                     ``KIND#<kind>`` / ``V#<000001>``    the whole document (JSON), note, author, at
audit record                ``KIND#<kind>`` / ``LOG#<000001>``  one per change (rev): action, who, version, at
==========================  ==================================  ==============================================
"""
from __future__ import annotations

import json

from chalicelib.adapters import aws
from chalicelib.config import settings
from chalicelib.editions.model import Head, Version
from chalicelib.kernel import clock


def _name() -> str:
    return settings().editions_table


def _table():
    return aws.table(_name())


def _pk(kind: str) -> str:
    return f"KIND#{kind}"


def _head(item: dict) -> Head:
    published = item.get("published")
    return Head(kind=item["kind"], rev=int(item["rev"]), latest=int(item["latest"]), status=item["status"],
                published=int(published) if published is not None else None, last_author=item["last_author"],
                updated_at=clock.parse(item["updated_at"]))


def _version(item: dict) -> Version:
    return Version(number=int(item["number"]), document=json.loads(item["document"]), note=item["note"],
                   author=item["author"], at=clock.parse(item["at"]))


def get_head(kind: str) -> Head | None:
    item = _table().get_item(Key={"pk": _pk(kind), "sk": "HEAD"}, ConsistentRead=True).get("Item")
    return _head(item) if item else None


def get_version(kind: str, number: int) -> Version | None:
    item = _table().get_item(Key={"pk": _pk(kind), "sk": f"V#{number:06d}"}).get("Item")
    return _version(item) if item else None


def _query(kind: str, prefix: str, limit: int) -> list[dict]:
    from boto3.dynamodb.conditions import Key
    found = _table().query(KeyConditionExpression=Key("pk").eq(_pk(kind)) & Key("sk").begins_with(prefix),
                           ScanIndexForward=False, Limit=limit)
    return found.get("Items", [])


def versions(kind: str, *, limit: int) -> list[Version]:
    return [_version(item) for item in _query(kind, "V#", limit)]


def records(kind: str, *, limit: int) -> list[dict]:
    return [{k: (int(v) if k in {"rev", "version"} else v) for k, v in item.items() if k not in {"pk", "sk"}}
            for item in _query(kind, "LOG#", limit)]


def save_head(uow, head: Head, expected_rev: int | None) -> None:
    item = {"pk": _pk(head.kind), "sk": "HEAD", "kind": head.kind, "rev": head.rev, "latest": head.latest,
            "status": head.status, "last_author": head.last_author, "updated_at": clock.isoformat(head.updated_at)}
    if head.published is not None:
        item["published"] = head.published
    put: dict = {"TableName": _name(), "Item": aws.attributes(item)}
    if expected_rev is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "rev = :rev"
        put["ExpressionAttributeValues"] = {":rev": aws.serializer().serialize(expected_rev)}
    uow.add("head", {"Put": put})


def add_version(uow, kind: str, version: Version) -> None:
    item = {"pk": _pk(kind), "sk": f"V#{version.number:06d}", "number": version.number,
            "document": json.dumps(version.document, ensure_ascii=False), "note": version.note,
            "author": version.author, "at": clock.isoformat(version.at)}
    uow.add("version", {"Put": {"TableName": _name(), "Item": aws.attributes(item),
                                "ConditionExpression": "attribute_not_exists(pk)"}})


def add_record(uow, kind: str, rev: int, record: dict) -> None:
    item = {"pk": _pk(kind), "sk": f"LOG#{rev:06d}", "rev": rev, **record}
    uow.add("record", {"Put": {"TableName": _name(), "Item": aws.attributes(item),
                               "ConditionExpression": "attribute_not_exists(pk)"}})
