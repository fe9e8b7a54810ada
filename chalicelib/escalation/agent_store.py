"""Agents in DynamoDB (the cases table): who takes 工单, in which state, carrying how many (#25 item 3).

Items (no Scan: the team is one partition, read with one Query):
- ``pk=AGENT``, ``sk=<user name>``: ``role`` (support | senior-support), ``status`` (available | away |
  offline), ``capacity``, ``load`` (open 工单 assigned to the agent now), ``last_seen`` (ISO time)
- ``pk=TURN``,  ``sk=<step>``: ``turn``, the step's round-robin cursor (an atomic ADD per placement)

``load`` moves only inside a case's transaction (``load_element``): +1 conditioned on ``load < capacity``
(and, for the round-robin, ``status = available``), −1 conditioned on ``load > 0``; so no agent is ever above
capacity and a 工单 is counted once, whatever runs at the same time. The twin is ``agent_memory.py``.
"""
from __future__ import annotations

from chalicelib.adapters import aws
from chalicelib.config import settings
from chalicelib.escalation.agent_model import Agent

_NAMES = {"#s": "status", "#l": "load", "#c": "capacity"}


def _table():
    return aws.table(settings().cases_table)


def _agent(item: dict) -> Agent:
    return Agent(name=item["sk"], role=item["role"], status=item["status"], capacity=int(item["capacity"]),
                 load=int(item.get("load", 0)), last_seen=item.get("last_seen", ""))


def agents() -> list[Agent]:
    """Every registered agent, by name (one Query of the AGENT partition)."""
    items = []
    kwargs: dict = {"KeyConditionExpression": aws.Key("pk").eq("AGENT"), "ConsistentRead": True}
    while True:
        response = _table().query(**kwargs)
        items.extend(response.get("Items", []))
        if not response.get("LastEvaluatedKey"):
            return [_agent(i) for i in items]
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def get(name: str) -> Agent | None:
    item = _table().get_item(Key={"pk": "AGENT", "sk": name}, ConsistentRead=True).get("Item")
    return _agent(item) if item else None


def register(name: str, role: str, capacity: int) -> None:
    """Add a staff user as an agent (offline, nothing carried) unless already there; their role is kept current."""
    _table().update_item(Key={"pk": "AGENT", "sk": name},
                         UpdateExpression="SET #r = :r, #s = if_not_exists(#s, :off), #c = if_not_exists(#c, :cap), "
                                          "#l = if_not_exists(#l, :zero)",
                         ExpressionAttributeNames={**_NAMES, "#r": "role"},
                         ExpressionAttributeValues={":r": role, ":off": "offline", ":cap": capacity, ":zero": 0})


def set_status(name: str, status: str) -> None:
    _table().update_item(Key={"pk": "AGENT", "sk": name}, UpdateExpression="SET #s = :s",
                         ConditionExpression="attribute_exists(pk)", ExpressionAttributeNames={"#s": "status"},
                         ExpressionAttributeValues={":s": status})


def set_capacity(name: str, capacity: int) -> None:
    _table().update_item(Key={"pk": "AGENT", "sk": name}, UpdateExpression="SET #c = :c",
                         ConditionExpression="attribute_exists(pk)", ExpressionAttributeNames={"#c": "capacity"},
                         ExpressionAttributeValues={":c": capacity})


def touch(name: str, at: str) -> None:
    """``name`` used the workspace at ``at`` (the lead's team page shows it as last seen)."""
    _table().update_item(Key={"pk": "AGENT", "sk": name}, UpdateExpression="SET #t = :t",
                         ConditionExpression="attribute_exists(pk)", ExpressionAttributeNames={"#t": "last_seen"},
                         ExpressionAttributeValues={":t": at})


def next_turn(step: str) -> int:
    """The step's round-robin cursor, moved on by one (atomic: parallel placements each get their own turn)."""
    response = _table().update_item(Key={"pk": "TURN", "sk": step}, UpdateExpression="ADD turn :one",
                                    ExpressionAttributeValues={":one": 1}, ReturnValues="UPDATED_NEW")
    return int(response["Attributes"]["turn"])


def load_element(name: str, delta: int, *, available: bool = False) -> dict:
    """A transaction element moving ``name``'s load by ``delta`` (+1: only below capacity — and, with
    ``available``, only while the agent is available; −1: never below zero)."""
    if delta > 0:
        condition = "#l < #c" + (" AND #s = :available" if available else "")
        values = {":d": {"N": str(delta)}, **({":available": {"S": "available"}} if available else {})}
    else:
        condition, values = "#l > :zero", {":d": {"N": str(delta)}, ":zero": {"N": "0"}}
    names = {k: v for k, v in _NAMES.items() if k in condition or k == "#l"}
    return {"Update": {"TableName": settings().cases_table, "Key": {"pk": {"S": "AGENT"}, "sk": {"S": name}},
                       "UpdateExpression": "ADD #l :d", "ConditionExpression": condition,
                       "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}}


def seen(case_id: str, name: str, at: str, typing: bool, expires: int) -> None:
    """``name`` is on the 工单 now (``at``), typing or not; the item goes by TTL at ``expires`` (epoch seconds)."""
    _table().put_item(Item={"pk": f"PRESENCE#{case_id}", "sk": name, "at": at, "typing": typing,
                            "presence_expires": expires})


def present(case_id: str, since: str) -> list[tuple[str, bool]]:
    """Who was on the 工单 at or after ``since`` (TTL deletes late, so the read filters too): (name, typing)."""
    response = _table().query(KeyConditionExpression=aws.Key("pk").eq(f"PRESENCE#{case_id}"), ConsistentRead=True)
    return [(i["sk"], bool(i.get("typing"))) for i in response.get("Items", []) if i.get("at", "") >= since]
