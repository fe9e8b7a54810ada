"""Settlement incidents in the cases table (DynamoDB); ``incident_memory.IncidentMemory`` is its twin.

Items (no Scan, no new table; docs/escalation.md "Support that follows the money"):
- ``INCWIN#<reason>|<kind>|<source>#<bucket>`` / ``COUNT``      failures in one window bucket (atomic ADD)
- ``INCWIN#…#<bucket>`` / ``M#<repayment>#<attempt>``            each failure counted once (conditional put,
                                                                  in the same transaction as the ADD)
- ``INCACTIVE#<reason>|<kind>|<source>`` / ``ACTIVE``           the open incident of a source and reason:
                                                                  created conditionally, so it opens once
- ``INCIDENT`` / ``<incident id>``                              the incident (ids begin with their time, so
                                                                  one Query lists them newest first)
The 工单 grouped under an incident are found through the cases table's ``by_incident`` index (``store.py``).
"""
from __future__ import annotations

from collections.abc import Sequence

from chalicelib.adapters import aws, outbox
from chalicelib.config import settings
from chalicelib.escalation import incident_model
from chalicelib.escalation.incident_model import Incident
from chalicelib.escalation.items import _plain
from chalicelib.escalation.store import VersionConflict


def _table():
    return aws.table(settings().cases_table)


def _window_pk(key: str, bucket: str) -> str:
    return f"INCWIN#{key}#{bucket}"


def count_failure(key: str, bucket: str, member: str) -> int | None:
    """Count one failure (``member``: ``<repayment>#<attempt>``) in its bucket; the bucket's count after it,
    or None when this failure was counted before (a redelivered event)."""
    name = settings().cases_table
    pk = _window_pk(key, bucket)
    try:
        aws.transact({
            "member": {"Put": {"TableName": name, "Item": aws.attributes({"pk": pk, "sk": f"M#{member}"}),
                               "ConditionExpression": "attribute_not_exists(pk)"}},
            "count": {"Update": {"TableName": name, "Key": aws.attributes({"pk": pk, "sk": "COUNT"}),
                                 "UpdateExpression": "ADD failures :one",
                                 "ExpressionAttributeValues": aws.attributes({":one": 1})}}})
    except aws.ConditionFailed:
        return None
    item = _table().get_item(Key={"pk": pk, "sk": "COUNT"}, ConsistentRead=True).get("Item") or {}
    return int(item.get("failures", 0))


def members(key: str, bucket: str) -> list[str]:
    """The failures counted in a bucket (``<repayment>#<attempt>``): one Query."""
    response = _table().query(KeyConditionExpression=aws.Key("pk").eq(_window_pk(key, bucket))
                              & aws.Key("sk").begins_with("M#"))
    return [item["sk"][2:] for item in response.get("Items", [])]


def active(key: str) -> str | None:
    item = _table().get_item(Key={"pk": f"INCACTIVE#{key}", "sk": "ACTIVE"}, ConsistentRead=True).get("Item")
    return item["incident_id"] if item else None


def create(incident: Incident, messages: Sequence[outbox.Message] = ()) -> bool:
    """Open ``incident`` with its alert ``messages`` unless one is open for its source and reason already
    (False: nothing written, nothing sent)."""
    name = settings().cases_table
    elements = {
        "active": {"Put": {"TableName": name, "ConditionExpression": "attribute_not_exists(pk)",
                           "Item": aws.attributes({"pk": f"INCACTIVE#{incident.key}", "sk": "ACTIVE",
                                                   "incident_id": incident.incident_id})}},
        "incident": {"Put": {"TableName": name, "ConditionExpression": "attribute_not_exists(pk)",
                             "Item": aws.attributes({"pk": "INCIDENT", "sk": incident.incident_id,
                                                     **incident_model.to_item(incident)})}},
        **{f"message:{i}": outbox.put(m) for i, m in enumerate(messages)}}
    try:
        aws.transact(elements)
    except aws.ConditionFailed:
        return False
    outbox.deliver([m.message_id for m in messages])
    return True


def get(incident_id: str) -> Incident | None:
    item = _table().get_item(Key={"pk": "INCIDENT", "sk": incident_id}, ConsistentRead=True).get("Item")
    return incident_model.from_item(_plain(item)) if item else None


def save(incident: Incident, *, expected_version: int) -> None:
    """Write a changed incident over the version read; a closed one gives up its source's active pointer."""
    name = settings().cases_table
    elements = {"incident": {"Put": {
        "TableName": name, "ConditionExpression": "version = :v",
        "ExpressionAttributeValues": aws.attributes({":v": expected_version}),
        "Item": aws.attributes({"pk": "INCIDENT", "sk": incident.incident_id, **incident_model.to_item(incident)})}}}
    if incident.status == "closed":
        elements["active"] = {"Delete": {
            "TableName": name, "Key": aws.attributes({"pk": f"INCACTIVE#{incident.key}", "sk": "ACTIVE"}),
            "ConditionExpression": "incident_id = :id",
            "ExpressionAttributeValues": aws.attributes({":id": incident.incident_id})}}
    try:
        aws.transact(elements)
    except (aws.ConditionFailed, aws.TransactionContended):
        raise VersionConflict(incident.incident_id) from None


def recent(limit: int = 50) -> list[Incident]:
    response = _table().query(KeyConditionExpression=aws.Key("pk").eq("INCIDENT"), ScanIndexForward=False,
                              Limit=limit)
    return [incident_model.from_item(_plain(i)) for i in response.get("Items", [])]
