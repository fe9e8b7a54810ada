"""The DynamoDB conversations store: table ``settings().assistant_table`` (``infra/assistant.py``).

=====================================  ===================================  =====================================
item                                   pk / sk                              notes
=====================================  ===================================  =====================================
conversation                           ``USER#<uid>`` / ``CONV#<id>``       ``data``: JSON of the turns (masked);
                                                                            ``version``; TTL ``expires_at``
=====================================  ===================================  =====================================

Ids start with the start time (``20261209103000…``), so a user's newest conversation is one Query
(``ScanIndexForward=False``, ``Limit=1``). Reads are consistent; writes are unit-of-work elements:
a new conversation ``attribute_not_exists(pk)``, a changed one ``version = :read``. No Scan anywhere.
"""
from __future__ import annotations

import json

from chalicelib.adapters import aws
from chalicelib.assistant import codec
from chalicelib.assistant.model import Conversation
from chalicelib.config import settings


def _name() -> str:
    return settings().assistant_table


def _key(user_id: str, conversation_id: str) -> dict:
    return {"pk": f"USER#{user_id}", "sk": f"CONV#{conversation_id}"}


def _from_item(item: dict) -> Conversation:
    return codec.from_data(json.loads(item["data"]))


def get(user_id: str, conversation_id: str) -> Conversation | None:
    found = aws.table(_name()).get_item(Key=_key(user_id, conversation_id), ConsistentRead=True).get("Item")
    return _from_item(found) if found else None


def latest(user_id: str) -> Conversation | None:
    key = aws.Key
    found = aws.table(_name()).query(
        KeyConditionExpression=key("pk").eq(f"USER#{user_id}") & key("sk").begins_with("CONV#"),
        ScanIndexForward=False, Limit=1, ConsistentRead=True).get("Items", [])
    return _from_item(found[0]) if found else None


def save(uow, conversation: Conversation, *, expires_at: int) -> None:
    item = {**_key(conversation.user_id, conversation.id), "version": conversation.version,
            "data": json.dumps(codec.to_data(conversation), ensure_ascii=False, separators=(",", ":")),
            "expires_at": expires_at}
    put: dict = {"TableName": _name(), "Item": aws.attributes(item)}
    if conversation.version == 1:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "version = :read"
        put["ExpressionAttributeValues"] = aws.attributes({":read": conversation.version - 1})
    uow.add("conversation", {"Put": put})
