"""DynamoDB access for repayments: every read and conditional write of the domain lives here.

One table (``settings().repayments_table``), keys ``pk``/``sk`` (see README, "Table design"):

=====================================  =========================================  ==========================
item                                   pk / sk                                    notes
=====================================  =========================================  ==========================
account state (freeze)                 ``USER#<uid>`` / ``ACCOUNT``               ``frozen``, case, reason
account audit log                      ``USER#<uid>`` / ``ACCOUNT#LOG#<at>#<r>``  one item per freeze/unfreeze
repayment                              ``USER#<uid>`` / ``REPAY#<id>``            ids sort by creation time
idempotency record                     ``USER#<uid>`` / ``IDEM#<sha256(key)>``    TTL ``expires_at`` (24 h)
monthly free-allowance usage           ``USER#<uid>`` / ``USAGE#<yyyy-mm>#<kind>`` ``used_fen``
=====================================  =========================================  ==========================

GSIs ``by_status`` (``gsi1pk = <uid>#<status>``, ``gsi1sk = <id>``) and ``by_kind``
(``gsi2pk = <uid>#<kind>``, ``gsi2sk = <id>``) serve the filtered history.
"""
from __future__ import annotations

import secrets
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib import aws, clock
from chalicelib.config import settings

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class ConditionFailed(Exception):
    """A conditional write lost: the item was not in the state we expected."""

    def __init__(self, reasons: list[str] | None = None):
        super().__init__(",".join(reasons or []))
        self.reasons = reasons or []


def _table():
    return aws.table(settings().repayments_table)


def _ddb():
    return aws.client("dynamodb")


def low(item: dict) -> dict:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def high(item: dict) -> dict:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def values(mapping: dict) -> dict:
    return {k: _serializer.serialize(v) for k, v in mapping.items()}


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def _is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def transact(items: list[dict]) -> None:
    """TransactWriteItems; a failed condition raises ``ConditionFailed`` with each element's reason code."""
    try:
        _ddb().transact_write_items(TransactItems=items)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
        if not reasons:  # moto/older SDKs put them only in the message
            message = exc.response.get("Error", {}).get("Message", "")
            reasons = [part.strip() for part in message.partition("[")[2].rstrip("]").split(",")] or ["Unknown"]
        if any(r == "ConditionalCheckFailed" for r in reasons):
            raise ConditionFailed(reasons) from None
        raise


# ---------------------------------------------------------------- account (freeze)
def account_key(user_id: str) -> dict:
    return {"pk": user_pk(user_id), "sk": "ACCOUNT"}


def get_account(user_id: str) -> dict | None:
    return _table().get_item(Key=account_key(user_id), ConsistentRead=True).get("Item")


def _account_log(user_id: str, entry: dict) -> dict:
    at = clock.isoformat(clock.now())
    return {"Put": {"TableName": settings().repayments_table,
                    "Item": low({"pk": user_pk(user_id), "sk": f"ACCOUNT#LOG#{at}#{secrets.token_hex(4)}",
                                 "at": at, **entry})}}


def set_frozen(user_id: str, *, reason: str, case_id: str) -> bool:
    """Freeze unless already frozen; False when it already was (nothing written)."""
    at = clock.isoformat(clock.now())
    update = {"Update": {
        "TableName": settings().repayments_table, "Key": low(account_key(user_id)),
        "UpdateExpression": "SET frozen = :t, frozen_at = :at, frozen_reason = :r, frozen_case_id = :c, "
                            "version = if_not_exists(version, :zero) + :one",
        "ConditionExpression": "attribute_not_exists(frozen) OR frozen = :f",
        "ExpressionAttributeValues": values({":t": True, ":f": False, ":at": at, ":r": reason, ":c": case_id,
                                             ":zero": 0, ":one": 1}),
    }}
    try:
        transact([update, _account_log(user_id, {"event": "frozen", "reason": reason, "case_id": case_id})])
    except ConditionFailed:
        return False
    return True


def clear_frozen(user_id: str, *, actor: str) -> bool:
    """Unfreeze if frozen; False when it was not frozen."""
    at = clock.isoformat(clock.now())
    update = {"Update": {
        "TableName": settings().repayments_table, "Key": low(account_key(user_id)),
        "UpdateExpression": "SET frozen = :f, unfrozen_at = :at, unfrozen_by = :a, version = version + :one",
        "ConditionExpression": "frozen = :t",
        "ExpressionAttributeValues": values({":t": True, ":f": False, ":at": at, ":a": actor, ":one": 1}),
    }}
    try:
        transact([update, _account_log(user_id, {"event": "unfrozen", "actor": actor})])
    except ConditionFailed:
        return False
    return True


def account_log(user_id: str) -> list[dict]:
    response = _table().query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": user_pk(user_id), ":prefix": "ACCOUNT#LOG#"})
    return response.get("Items", [])


def not_frozen_check(user_id: str) -> dict:
    """TransactWriteItems element: fails (reason ConditionalCheckFailed) while the account is frozen."""
    return {"ConditionCheck": {
        "TableName": settings().repayments_table, "Key": low(account_key(user_id)),
        "ConditionExpression": "attribute_not_exists(frozen) OR frozen = :f",
        "ExpressionAttributeValues": values({":f": False}),
    }}
