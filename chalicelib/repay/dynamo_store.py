"""The DynamoDB repayment store: every read and conditional write of the domain against the table.

Use cases reach it through ``chalicelib/repay/store.py`` (the interface, and where the in-memory twin
``memory_store.py`` is put in its place); writes are elements added to a unit of work
(``chalicelib/adapters/unit_of_work.py``) under the names the interface documents.

One table (``settings().repayments_table``), keys ``pk``/``sk`` (see README, "Table design"):

=====================================  =========================================  ==========================
item                                   pk / sk                                    notes
=====================================  =========================================  ==========================
account state (freeze)                 ``USER#<uid>`` / ``ACCOUNT``               ``frozen``, case, reason
account audit log                      ``USER#<uid>`` / ``ACCOUNT#LOG#<at>#<r>``  one item per freeze/unfreeze
repayment                              ``USER#<uid>`` / ``REPAY#<id>``            ids sort by creation time
idempotency record                     ``USER#<uid>`` / ``IDEM#[<scope>#]<sha256>`` ``adapters/idempotency.py``
monthly free-allowance usage           ``USER#<uid>`` / ``USAGE#<yyyy-mm>#<kind>`` ``used_fen``
issued receipt                         ``RECEIPT#<serial>`` / ``RECEIPT``         the fields its code signs
=====================================  =========================================  ==========================

GSIs ``by_status`` (``gsi1pk = <uid>#<status>``, ``gsi1sk = <id>``) and ``by_kind``
(``gsi2pk = <uid>#<kind>``, ``gsi2sk = <id>``) serve the filtered history. The sparse GSI
``by_verify_expiry`` (``gsi3pk = VERIFY_EXPIRY``, ``gsi3sk = <verify_expires_at>#<id>``) holds only
repayments awaiting their SMS code: the expiry sweep Queries what lapsed, never Scans.
"""
from __future__ import annotations

import dataclasses
import secrets
from typing import Any

from chalicelib.adapters import aws, unit_of_work
from chalicelib.config import settings
from chalicelib.kernel import clock
from chalicelib.repay import access_store
from chalicelib.repay.access_store import records as access_across  # noqa: F401  (the leads' list)
from chalicelib.repay.errors import AccountFrozen
from chalicelib.repay.fees import FeeLine
from chalicelib.repay.model import VERIFICATION_REQUIRED, Change, Receipt, Repayment


def _table():
    return aws.table(settings().repayments_table)


def values(mapping: dict) -> dict:
    return {k: aws.serializer().serialize(v) for k, v in mapping.items()}


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


# ---------------------------------------------------------------- account (freeze)
def account_key(user_id: str) -> dict:
    return {"pk": user_pk(user_id), "sk": "ACCOUNT"}


def get_account(user_id: str) -> dict | None:
    return _table().get_item(Key=account_key(user_id), ConsistentRead=True).get("Item")


def _account_log(user_id: str, entry: dict) -> dict:
    at = clock.isoformat(clock.now())
    return {"Put": {"TableName": settings().repayments_table,
                    "Item": aws.attributes({"pk": user_pk(user_id), "sk": f"ACCOUNT#LOG#{at}#{secrets.token_hex(4)}",
                                 "at": at, **entry})}}


def set_frozen(user_id: str, *, reason: str, case_id: str) -> bool:
    """Freeze unless already frozen; False when it already was (nothing written)."""
    at = clock.isoformat(clock.now())
    update = {"Update": {
        "TableName": settings().repayments_table, "Key": aws.attributes(account_key(user_id)),
        "UpdateExpression": "SET frozen = :t, frozen_at = :at, frozen_reason = :r, frozen_case_id = :c, "
                            "version = if_not_exists(version, :zero) + :one",
        "ConditionExpression": "attribute_not_exists(frozen) OR frozen = :f",
        "ExpressionAttributeValues": values({":t": True, ":f": False, ":at": at, ":r": reason, ":c": case_id,
                                             ":zero": 0, ":one": 1}),
    }}
    return _commit_account(update, _account_log(user_id, {"event": "frozen", "reason": reason, "case_id": case_id}))


def _commit_account(update: dict, log: dict) -> bool:
    uow = unit_of_work.DynamoUnitOfWork()
    uow.add("account", update)
    uow.add("log", log)
    try:
        uow.commit()
    except unit_of_work.Conflict:
        return False
    return True


def clear_frozen(user_id: str, *, actor: str) -> bool:
    """Unfreeze if frozen; False when it was not frozen."""
    at = clock.isoformat(clock.now())
    update = {"Update": {
        "TableName": settings().repayments_table, "Key": aws.attributes(account_key(user_id)),
        "UpdateExpression": "SET frozen = :f, unfrozen_at = :at, unfrozen_by = :a, version = version + :one",
        "ConditionExpression": "frozen = :t",
        "ExpressionAttributeValues": values({":t": True, ":f": False, ":at": at, ":a": actor, ":one": 1}),
    }}
    return _commit_account(update, _account_log(user_id, {"event": "unfrozen", "actor": actor}))


def account_log(user_id: str) -> list[dict]:
    response = _table().query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": user_pk(user_id), ":prefix": "ACCOUNT#LOG#"})
    return response.get("Items", [])


def not_frozen(uow, user_id: str) -> None:
    uow.add("frozen", not_frozen_check(user_id), lost=AccountFrozen)


def not_frozen_check(user_id: str) -> dict:
    """TransactWriteItems element: its condition fails while the account is frozen (name it ``"frozen"``)."""
    return {"ConditionCheck": {
        "TableName": settings().repayments_table, "Key": aws.attributes(account_key(user_id)),
        "ConditionExpression": "attribute_not_exists(frozen) OR frozen = :f",
        "ExpressionAttributeValues": values({":f": False}),
    }}


# ---------------------------------------------------------------- repayments
def repayment_key(user_id: str, repayment_id: str) -> dict:
    return {"pk": user_pk(user_id), "sk": f"REPAY#{repayment_id}"}


def status_index_key(user_id: str, status: str) -> str:
    return f"{user_id}#{status}"


def kind_index_key(user_id: str, kind: str) -> str:
    return f"{user_id}#{kind}"


def get_repayment(user_id: str, repayment_id: str) -> dict | None:
    return _table().get_item(Key=repayment_key(user_id, repayment_id), ConsistentRead=True).get("Item")


def get(user_id: str, repayment_id: str) -> Repayment | None:
    item = get_repayment(user_id, repayment_id)
    return from_item(item) if item else None


# ---------------------------------------------------------------- Repayment <-> item
_INTS = ("amount_fen", "fee_fen", "attempt", "version", "verify_attempts", "verify_resends", "delayed_attempt")
_FIELDS = tuple(f.name for f in dataclasses.fields(Repayment))


def from_item(item: dict) -> Repayment:
    # Stored attributes are untyped (DynamoDB numbers arrive as Decimal); the conversions below type them.
    found: dict[str, Any] = {name: item.get(name) for name in _FIELDS}
    for name in _INTS:
        if found[name] is not None:
            found[name] = int(found[name])
    found["fee_lines"] = tuple(FeeLine(line["code"], line["label"], int(line["amount_fen"]))
                               for line in item["fee_lines"])
    found["payee"] = dict(item["payee"])
    found["timeline"] = tuple(dict(e) for e in item["timeline"])
    return Repayment(**found)


def to_item(repayment: Repayment) -> dict:
    """The stored attributes (``None`` = absent), keys and index keys aside."""
    item = {name: getattr(repayment, name) for name in _FIELDS}
    item["fee_lines"] = [{"code": line.code, "label": line.label, "amount_fen": line.amount_fen}
                         for line in repayment.fee_lines]
    item["timeline"] = list(repayment.timeline)
    return item


def create(uow, repayment: Repayment) -> None:
    uow.add("repayment", put_new(repayment))


def move(uow, change: Change) -> None:
    uow.add("repayment", update(change))


def put_new(repayment: Repayment) -> dict:
    """TransactWriteItems element creating a repayment (never overwrites one)."""
    item = {**to_item(repayment), **repayment_key(repayment.user_id, repayment.id),
            "gsi1pk": status_index_key(repayment.user_id, repayment.status), "gsi1sk": repayment.id,
            "gsi2pk": kind_index_key(repayment.user_id, repayment.kind), "gsi2sk": repayment.id,
            **_expiry_index(repayment)}
    return {"Put": {"TableName": settings().repayments_table, "Item": aws.attributes(item),
                    "ConditionExpression": "attribute_not_exists(pk)"}}


VERIFY_EXPIRY_PK = "VERIFY_EXPIRY"


def _expiry_index(repayment: Repayment) -> dict:
    """The sparse ``by_verify_expiry`` keys: present only while the repayment awaits its code."""
    if repayment.status != VERIFICATION_REQUIRED or not repayment.verify_expires_at:
        return {}
    return {"gsi3pk": VERIFY_EXPIRY_PK, "gsi3sk": f"{repayment.verify_expires_at}#{repayment.id}"}


def update(change: Change) -> dict:
    """TransactWriteItems element writing ``change.after`` only while the stored repayment is still
    ``change.before`` (same status and version): sets what changed, removes what is gone, appends
    the new timeline entries, moves the status index key with the status."""
    before, after = to_item(change.before), to_item(change.after)
    names = {"#status": "status", "#version": "version"}
    vals: dict[str, Any] = {":expect_status": change.before.status, ":expect_version": change.before.version,
                            ":entries": after["timeline"][len(before["timeline"]):]}
    sets, removes = [], []
    for index, name in enumerate(_FIELDS):
        if name in ("status", "timeline") or after[name] == before[name]:
            continue
        names[f"#f{index}"] = name
        if after[name] is None:
            removes.append(f"#f{index}")
        else:
            vals[f":f{index}"] = after[name]
            sets.append(f"#f{index} = :f{index}")
    sets.append("timeline = list_append(timeline, :entries)")
    index_before, index_after = _expiry_index(change.before), _expiry_index(change.after)
    if index_after and index_after != index_before:
        vals.update({":gsi3pk": index_after["gsi3pk"], ":gsi3sk": index_after["gsi3sk"]})
        sets += ["gsi3pk = :gsi3pk", "gsi3sk = :gsi3sk"]
    elif index_before and not index_after:
        removes += ["gsi3pk", "gsi3sk"]   # no longer awaiting a code: out of the sweep's index
    if after["status"] != before["status"]:
        # Status last: DynamoDB applies an update atomically, moto server does not (chalicelib/adapters/aws.py,
        # "moto differences"); this order never shows a status without its details.
        vals[":gsi1pk"] = status_index_key(change.after.user_id, after["status"])
        vals[":new_status"] = after["status"]
        sets += ["gsi1pk = :gsi1pk", "#status = :new_status"]
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return {"Update": {"TableName": settings().repayments_table,
                       "Key": aws.attributes(repayment_key(change.before.user_id, change.before.id)),
                       "UpdateExpression": expression,
                       "ConditionExpression": "#status = :expect_status AND #version = :expect_version",
                       "ExpressionAttributeNames": names, "ExpressionAttributeValues": values(vals)}}


def page(user_id: str, *, status: str | None, kind: str | None, limit: int,
         after_id: str | None) -> tuple[list[Repayment], str | None]:
    items, last = list_repayments(user_id, status=status, kind=kind, limit=limit, after_id=after_id)
    return [from_item(i) for i in items], last


def list_repayments(user_id: str, *, status: str | None, kind: str | None, limit: int,
                    after_id: str | None) -> tuple[list[dict], str | None]:
    """Newest first; ``after_id`` continues after that repayment. Always a Query, never a Scan."""
    pk = user_pk(user_id)
    query: dict[str, Any] = {"ScanIndexForward": False}
    if status:
        query.update(IndexName="by_status", KeyConditionExpression="gsi1pk = :h",
                     ExpressionAttributeValues={":h": status_index_key(user_id, status)})
        if kind:
            query["FilterExpression"] = "kind = :kind"
            query["ExpressionAttributeValues"][":kind"] = kind
    elif kind:
        query.update(IndexName="by_kind", KeyConditionExpression="gsi2pk = :h",
                     ExpressionAttributeValues={":h": kind_index_key(user_id, kind)})
    else:
        query.update(KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                     ExpressionAttributeValues={":pk": pk, ":prefix": "REPAY#"})

    def start_key(repayment_id: str) -> dict:
        """The key to continue after: the table's, plus the keys of the index the query reads (as chosen above)."""
        key = repayment_key(user_id, repayment_id)
        if status:
            key.update(gsi1pk=status_index_key(user_id, status), gsi1sk=repayment_id)
        elif kind:
            key.update(gsi2pk=kind_index_key(user_id, kind), gsi2sk=repayment_id)
        return key

    items: list[dict] = []
    exclusive = start_key(after_id) if after_id else None
    more = False
    while True:
        wanted = limit - len(items)
        # One extra item tells whether another page exists without a second read.
        page = dict(query, Limit=wanted + 1 if "FilterExpression" not in query else max(wanted + 1, 25))
        if exclusive:
            page["ExclusiveStartKey"] = exclusive
        response = _table().query(**page)
        found = response.get("Items", [])
        items.extend(found[:wanted])
        exclusive = response.get("LastEvaluatedKey")
        if len(items) >= limit:
            more = len(found) > wanted or exclusive is not None
            break
        if not exclusive:
            break
    return items, (items[-1]["id"] if more else None)


# ---------------------------------------------------------------- monthly allowance usage
def usage_key(user_id: str, month: str, kind: str) -> dict:
    return {"pk": user_pk(user_id), "sk": f"USAGE#{month}#{kind}"}


def get_usage(user_id: str, month: str, kind: str) -> int:
    item = _table().get_item(Key=usage_key(user_id, month, kind), ConsistentRead=True).get("Item")
    return int(item["used_fen"]) if item else 0


def add_usage(uow, user_id: str, month: str, kind: str, amount_fen: int, *, seen_fen: int) -> None:
    uow.add("allowance", add_usage_element(user_id, month, kind, amount_fen, seen_fen=seen_fen))


def release_usage(uow, user_id: str, month: str, kind: str, amount_fen: int) -> None:
    uow.add("allowance", release_usage_element(user_id, month, kind, amount_fen))


def add_usage_element(user_id: str, month: str, kind: str, amount_fen: int, *, seen_fen: int) -> dict:
    """TransactWriteItems element: ``used += amount`` only if it still equals what the fee was priced on."""
    if seen_fen == 0:
        condition = "attribute_not_exists(used_fen) OR used_fen = :zero"
    else:
        condition = "used_fen = :seen"
    return {"Update": {
        "TableName": settings().repayments_table, "Key": aws.attributes(usage_key(user_id, month, kind)),
        "UpdateExpression": "SET used_fen = if_not_exists(used_fen, :zero) + :amount",
        "ConditionExpression": condition,
        "ExpressionAttributeValues": values({":zero": 0, ":amount": amount_fen,
                                             **({":seen": seen_fen} if seen_fen else {})}),
    }}


def release_usage_element(user_id: str, month: str, kind: str, amount_fen: int) -> dict:
    """TransactWriteItems element giving allowance back (a repayment that will never settle)."""
    return {"Update": {
        "TableName": settings().repayments_table, "Key": aws.attributes(usage_key(user_id, month, kind)),
        "UpdateExpression": "SET used_fen = used_fen - :amount",
        "ConditionExpression": "used_fen >= :amount",
        "ExpressionAttributeValues": values({":amount": amount_fen}),
    }}


# ---------------------------------------------------------------- expired verifications (the sweep)
def lapsed(now_iso: str, *, limit: int, after: Any = None) -> tuple[list[tuple[str, str]], Any]:
    """(user id, repayment id) of repayments whose code expired before ``now_iso``; a cursor for the next page."""
    items, after = lapsed_verifications(now_iso, limit=limit, after=after)
    return [(i["user_id"], i["id"]) for i in items], after


def lapsed_verifications(now_iso: str, *, limit: int, after: dict | None = None) -> tuple[list[dict], dict | None]:
    """Repayments whose code expired before ``now_iso``, oldest expiry first (a Query of the sparse index)."""
    query = {"IndexName": "by_verify_expiry", "KeyConditionExpression": "gsi3pk = :p AND gsi3sk < :now",
             "ExpressionAttributeValues": {":p": VERIFY_EXPIRY_PK, ":now": now_iso}, "Limit": limit}
    if after:
        query["ExclusiveStartKey"] = after
    response = _table().query(**query)
    return response.get("Items", []), response.get("LastEvaluatedKey")


# ---------------------------------------------------------------- receipts
def receipt_key(serial: str) -> dict:
    return {"pk": f"RECEIPT#{serial}", "sk": "RECEIPT"}


def put_receipt(receipt: Receipt, *, user_id: str, issued_at: str) -> bool:
    """Record that a receipt was issued (the verify route's only source). False if it already was."""
    item = {**receipt_key(receipt.serial), **dataclasses.asdict(receipt), "user_id": user_id, "issued_at": issued_at}
    try:
        _table().put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    except aws.ClientError as exc:
        if aws.is_condition_failure(exc):
            return False
        raise
    return True


def get_receipt(serial: str) -> Receipt | None:
    item = _table().get_item(Key=receipt_key(serial)).get("Item")
    if item is None:
        return None
    found = {f.name: item[f.name] for f in dataclasses.fields(Receipt)}
    found["amount_fen"], found["fee_fen"] = int(found["amount_fen"]), int(found["fee_fen"])
    return Receipt(**found)


# ---------------------------------------------------------------- staff access records
def put_access_record(user_id: str, record: dict) -> dict:
    """Who among staff read this user's repayments, when, for which case: one item per read, written
    with a condition (never overwriting another record) before the data is shown."""
    item = {"pk": user_pk(user_id), "sk": f"ACCESS#{record['at']}#{secrets.token_hex(4)}", **record,
            **access_store.index_keys(user_id, record)}
    _table().put_item(Item=item, ConditionExpression="attribute_not_exists(pk) AND attribute_not_exists(sk)")
    return item


def access_records(user_id: str, limit: int = 50) -> list[dict]:
    """The user's access records, newest first."""
    response = _table().query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)", ScanIndexForward=False, Limit=limit,
        ExpressionAttributeValues={":pk": user_pk(user_id), ":prefix": "ACCESS#"})
    return response.get("Items", [])
