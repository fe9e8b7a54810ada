"""The DynamoDB service-notices store (table ``settings().status_table``, ``infra/status.py``).

================  ======================================  ==============================================
item              pk / sk                                 notes
================  ======================================  ==============================================
notice            ``NOTICE#<id>`` / ``NOTICE``            ``live_pk = LIVE``, ``live_sk = <ends_at>#<id>``
audit record      ``NOTICE#<id>`` / ``AUDIT#<at>#<act>``  who, what, when; kept after a delete
deflection count  ``DEFLECTION#<day>`` / ``<id>``         ``left``: users who left the new-工单 form; TTL
================  ======================================  ==============================================

"In force now" is one Query of the GSI ``live``: ``live_pk = LIVE AND live_sk > <now>`` — the notices whose end is
still ahead (a handful: at most ``MAX_IN_FORCE``), whose start is then compared in memory. A deleted notice leaves
the index with its item; an ended one falls out of the key range by itself (and its item expires by TTL later).
"""
from __future__ import annotations

import datetime as dt

from chalicelib.adapters import aws
from chalicelib.config import settings
from chalicelib.kernel import clock
from chalicelib.status.model import KEEP, Notice

LIVE = "LIVE"


def _name() -> str:
    return settings().status_table


def _table():
    return aws.table(_name())


def _key(notice_id: str) -> dict:
    return {"pk": f"NOTICE#{notice_id}", "sk": "NOTICE"}


def _expires(moment: dt.datetime) -> int:
    return int((moment + KEEP).timestamp())


def _item(notice: Notice) -> dict:
    return {**_key(notice.id), "id": notice.id, "text": notice.text, "scope": notice.scope,
            "starts_at": clock.isoformat(notice.starts_at), "ends_at": clock.isoformat(notice.ends_at),
            "posted_by": notice.posted_by, "posted_at": clock.isoformat(notice.posted_at),
            "live_pk": LIVE, "live_sk": f"{clock.isoformat(notice.ends_at)}#{notice.id}",
            "expires_at": _expires(notice.ends_at)}


def _notice(item: dict) -> Notice:
    return Notice(id=item["id"], text=item["text"], scope=item["scope"], starts_at=clock.parse(item["starts_at"]),
                  ends_at=clock.parse(item["ends_at"]), posted_by=item["posted_by"],
                  posted_at=clock.parse(item["posted_at"]))


def _audit_item(notice: Notice, audit: dict) -> dict:
    return {"pk": f"NOTICE#{notice.id}", "sk": f"AUDIT#{audit['at']}#{audit['action']}", **audit,
            "expires_at": _expires(notice.ends_at)}


def get(notice_id: str) -> Notice | None:
    item = _table().get_item(Key=_key(notice_id), ConsistentRead=True).get("Item")
    return _notice(item) if item else None


def current(now: dt.datetime, limit: int) -> list[Notice]:
    # "<now>#~" sorts after every "<now>#sn_…": a notice ending exactly now has ended (ends_at > now, as the twin)
    response = _table().query(IndexName="live", Limit=limit,
                              KeyConditionExpression=aws.Key("live_pk").eq(LIVE)
                              & aws.Key("live_sk").gt(f"{clock.isoformat(now)}#~"))
    return [_notice(item) for item in response.get("Items", [])]


def add(uow, notice: Notice, audit: dict) -> None:
    uow.add("notice", {"Put": {"TableName": _name(), "Item": aws.attributes(_item(notice)),
                               "ConditionExpression": "attribute_not_exists(pk)"}})
    uow.add("audit", {"Put": {"TableName": _name(), "Item": aws.attributes(_audit_item(notice, audit)),
                              "ConditionExpression": "attribute_not_exists(pk)"}})


def remove(uow, notice: Notice, audit: dict) -> None:
    uow.add("notice", {"Delete": {"TableName": _name(), "Key": aws.attributes(_key(notice.id)),
                                  "ConditionExpression": "attribute_exists(pk)"}})
    uow.add("audit", {"Put": {"TableName": _name(), "Item": aws.attributes(_audit_item(notice, audit)),
                              "ConditionExpression": "attribute_not_exists(pk)"}})


def audit_of(notice_id: str) -> list[dict]:
    response = _table().query(KeyConditionExpression=aws.Key("pk").eq(f"NOTICE#{notice_id}")
                              & aws.Key("sk").begins_with("AUDIT#"), ConsistentRead=True)
    return [{k: v for k, v in item.items() if k not in ("pk", "sk", "expires_at")} for item in response["Items"]]


def count_deflection(day: str, notice_id: str) -> None:
    expires = _expires(dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), dt.UTC))
    _table().update_item(Key={"pk": f"DEFLECTION#{day}", "sk": notice_id},
                         UpdateExpression="ADD #f :one SET expires_at = if_not_exists(expires_at, :exp)",
                         ExpressionAttributeNames={"#f": "left"},
                         ExpressionAttributeValues={":one": 1, ":exp": expires})


def deflections(day: str) -> dict[str, int]:
    response = _table().query(KeyConditionExpression=aws.Key("pk").eq(f"DEFLECTION#{day}"))
    return {item["sk"]: int(item.get("left", 0)) for item in response.get("Items", [])}
