"""Search reads of the cases table (``finding.py``): one index partition's sort keys ``<created_at>#<ref>``
newest first (GSIs ``by_username``, ``by_repayment``; term items ``TERM#<word>``), and cases by reference in
batches. Query and BatchGetItem only (no Scan); every read asks for its consumed capacity, summed in ``COST``.
The term items themselves are written with the case (``store.save``)."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from chalicelib.adapters import aws
from chalicelib.config import settings
from chalicelib.escalation.items import case_key, from_item
from chalicelib.escalation.model import Case


def _table():
    return aws.table(settings().cases_table)


COST = {"queries": 0, "rcu": 0.0}   # what search reads cost in this container (benchmarks/case_search.py)
_FINDERS = {"user": ("by_username", "uname_pk", "user_sk", "UNAME#"),
            "repayment": ("by_repayment", "repay_pk", "user_sk", "REPAY#"),
            "phone": ("by_phone4", "phone4_pk", "user_sk", "PHONE4#"),
            "term": (None, "pk", "sk", "TERM#")}


def _counted_query(kwargs: dict):
    while True:
        response = _table().query(**kwargs, ReturnConsumedCapacity="TOTAL")
        COST["queries"] += 1
        COST["rcu"] += float((response.get("ConsumedCapacity") or {}).get("CapacityUnits") or 0)
        yield from response.get("Items", [])
        start = response.get("LastEvaluatedKey")
        if not start:
            return
        kwargs = {**kwargs, "ExclusiveStartKey": start}


def find_keys(kind: str, key: str, *, since: str | None, until: str | None, before: str | None,
              page: int = 50):
    """(sort key, case or None) of the index partition ``kind``/``key``, newest first, lazily, within
    [``since``, ``until``] and strictly before ``before``. A GSI hands back the case itself; a term item only
    its key (``get_many`` loads those)."""
    index, hash_attr, range_attr, prefix = _FINDERS[kind]
    condition = aws.Key(hash_attr).eq(prefix + key)
    low, high = since or "0", min(before or "~", f"{until}~" if until else "~")
    condition = condition & aws.Key(range_attr).between(low, high)
    kwargs = {"KeyConditionExpression": condition, "ScanIndexForward": False, "Limit": page}
    if index:
        kwargs["IndexName"] = index
    for item in _counted_query(kwargs):
        if before and item[range_attr] >= before:
            continue
        yield item[range_attr], (from_item(item) if index else None)


def get_many(case_ids: Sequence[str]) -> list[Case]:
    """Cases by reference (BatchGetItem, 100 a call; a missing one left out)."""
    found: list[Case] = []
    name = settings().cases_table
    for start in range(0, len(case_ids), 100):
        keys = [aws.attributes(case_key(c)) for c in dict.fromkeys(case_ids[start:start + 100])]
        request = {name: {"Keys": keys}}
        while request:
            response = aws.client("dynamodb").batch_get_item(RequestItems=request, ReturnConsumedCapacity="TOTAL")
            COST["queries"] += 1
            COST["rcu"] += sum(float(c.get("CapacityUnits") or 0) for c in response.get("ConsumedCapacity") or [])
            load = aws.deserializer().deserialize
            items = response.get("Responses", {}).get(name, [])
            found += [from_item({k: load(v) for k, v in i.items()}) for i in items]
            request = response.get("UnprocessedKeys") or {}
    return found


def put_many(cases: Sequence[tuple[Case, Sequence[str]]]) -> None:
    """Write cases with their term items by BatchWriteItem — seeding (``benchmarks/case_search.py``) and a
    backfill of cases written before the search index; never a request path (no condition, no transaction)."""
    from chalicelib.escalation.items import to_item  # imported with the call: store.py imports this module
    from chalicelib.escalation.store import _to_dynamo  # imported with the call (a circle at import time)
    with _table().batch_writer() as batch:
        for case, words in cases:
            batch.put_item(Item=_to_dynamo(to_item(case)))
            for word in words:
                batch.put_item(Item={"pk": f"TERM#{word}", "sk": f"{case.created_at}#{case.case_id}",
                                     "case_id": case.case_id})


def backfill_phone4(last_four: Callable[[str, str], str | None]) -> tuple[int, int]:
    """Give the cases written before the phone search their ``phone4`` (``last_four(user_id, username)``):
    (cases given the digits, cases left without: no phone, or changed meanwhile — run again).

    A one-off command (``devtools/backfill_phones.py``), never a request path: the one Scan of the package,
    filtered to case items still without the digits. Each update is conditioned on the version read and
    bumps it, so a move committing from an earlier read loses (``VersionConflict``, read again) instead of
    writing the case back without the digits. One lookup per user, remembered for the run."""
    table, phones_of, done, left = _table(), {}, 0, 0
    kwargs: dict = {"FilterExpression": "sk = :case AND attribute_not_exists(phone4)",
                    "ExpressionAttributeValues": {":case": "CASE"},
                    "ProjectionExpression": "pk, user_id, username, version"}
    while True:
        response = table.scan(**kwargs)
        for item in response.get("Items", []):
            user = item["user_id"]
            if user not in phones_of:
                phones_of[user] = last_four(user, item.get("username") or "")
            digits = phones_of[user]
            try:
                if not digits:
                    raise LookupError(user)
                table.update_item(Key={"pk": item["pk"], "sk": "CASE"},
                                  UpdateExpression="SET phone4 = :d, phone4_pk = :k, version = version + :one",
                                  ConditionExpression="version = :v AND attribute_not_exists(phone4)",
                                  ExpressionAttributeValues={":d": digits, ":k": f"PHONE4#{digits}", ":one": 1,
                                                             ":v": item["version"]})
                done += 1
            except LookupError:
                left += 1
            except Exception as exc:
                if not aws.is_condition_failure(exc):
                    raise
                left += 1
        start = response.get("LastEvaluatedKey")
        if not start:
            return done, left
        kwargs["ExclusiveStartKey"] = start
