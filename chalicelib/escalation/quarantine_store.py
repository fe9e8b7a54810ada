"""Quarantined inbound mails in DynamoDB (the cases table; #25 item 4): what a lead reads and decides on.

Items (no Scan: the quarantine is one partition, read newest first with one Query a page):
- ``pk=MAILQ``, ``sk=<id>`` (``q<yyyymmddHHMMSS>-<hash>``: sorts by when the mail came): ``reason``, ``at``,
  ``size``, ``sender`` (masked: ``a***@example.com``; the address itself is never stored), ``case_id`` (when
  known), ``note``, ``mail`` (the kept raw mail's key in the attachments bucket), ``status`` (held | released |
  discarded), ``decided_by`` (a lead's user name) and ``decided_at``.

A decision is conditional on ``status = held`` (``decide``, or ``decide_element`` inside the 工单's own
transaction when a mail is released into it): two leads deciding at once decide once. The twin is
``quarantine_memory.py``; ``chosen()`` is the one in use.
"""
from __future__ import annotations

import base64
import dataclasses
import re
import sys
from dataclasses import dataclass

from chalicelib.adapters import aws
from chalicelib.config import settings
from chalicelib.escalation import repository
from chalicelib.escalation.cursors import cursor_text

PK = "MAILQ"
ID_PATTERN = r"^q\d{14}-[0-9a-f]{12}$"


@dataclass(frozen=True)
class Quarantined:
    qid: str
    at: str
    reason: str
    size: int
    mail: str
    sender: str = ""
    case_id: str | None = None
    note: str = ""
    status: str = "held"
    decided_by: str | None = None
    decided_at: str | None = None


def chosen():
    """The store in use: the chosen in-memory case store's ``mail_quarantine`` twin, else this module."""
    return getattr(repository.store(), "mail_quarantine", sys.modules[__name__])


def _table():
    return aws.table(settings().cases_table)


def _record(item: dict) -> Quarantined:
    fields = {f.name for f in dataclasses.fields(Quarantined)} - {"qid"}
    found = {k: v for k, v in item.items() if k in fields}
    return Quarantined(qid=item["sk"], **{**found, "size": int(item.get("size", 0))})


def hold(record: Quarantined) -> None:
    """Keep the record (the same mail quarantined again in the same second: already there, nothing to do)."""
    item = {k: v for k, v in dataclasses.asdict(record).items() if v is not None and k != "qid"}
    try:
        _table().put_item(Item={"pk": PK, "sk": record.qid, **item}, ConditionExpression="attribute_not_exists(pk)")
    except aws.ClientError as exc:
        if not aws.is_condition_failure(exc):
            raise


def get(qid: str) -> Quarantined | None:
    item = _table().get_item(Key={"pk": PK, "sk": qid}, ConsistentRead=True).get("Item")
    return _record(item) if item else None


def page(limit: int, cursor: str | None) -> tuple[list[Quarantined], str | None]:
    """Newest first; the cursor is the last id shown (``BadCursor`` for anything else)."""
    condition = aws.Key("pk").eq(PK)
    if cursor:
        condition = condition & aws.Key("sk").lt(cursor_text(cursor, fits))
    response = _table().query(KeyConditionExpression=condition, ScanIndexForward=False, Limit=limit)
    items = [_record(i) for i in response.get("Items", [])]
    more = bool(response.get("LastEvaluatedKey")) and len(items) == limit
    return items, (encode(items[-1].qid) if more and items else None)


def fits(text: str) -> bool:
    return re.fullmatch(ID_PATTERN, text) is not None


def encode(qid: str) -> str:
    return base64.urlsafe_b64encode(qid.encode()).decode().rstrip("=")


_DECIDE = {"UpdateExpression": "SET #s = :to, decided_by = :by, decided_at = :at",
           "ConditionExpression": "#s = :held"}


def decide_element(qid: str, status: str, by: str, at: str) -> dict:
    """A transaction element: ``held`` → ``status`` by ``by`` at ``at`` (fails if already decided)."""
    return {"Update": {"TableName": settings().cases_table, "Key": {"pk": {"S": PK}, "sk": {"S": qid}},
                       **_DECIDE, "ExpressionAttributeNames": {"#s": "status"},
                       "ExpressionAttributeValues": {":to": {"S": status}, ":by": {"S": by}, ":at": {"S": at},
                                                     ":held": {"S": "held"}}}}


def decide(qid: str, status: str, by: str, at: str) -> bool:
    """``held`` → ``status``; False when it was decided already."""
    try:
        _table().update_item(Key={"pk": PK, "sk": qid}, **_DECIDE, ExpressionAttributeNames={"#s": "status"},
                             ExpressionAttributeValues={":to": status, ":by": by, ":at": at, ":held": "held"})
    except aws.ClientError as exc:
        if aws.is_condition_failure(exc):
            return False
        raise
    return True
