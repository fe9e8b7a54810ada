"""Reading staff access records across users (the leads' list, ``staff.access_page``), DynamoDB side.

A record lives in the user's partition (``USER#<uid>`` / ``ACCESS#<at>#<rand>``, ``dynamo_store.put_access_record``)
and carries two sparse index keys (``index_keys``): ``acc_staff_pk`` = ACCESS#STAFF#<staff user name, folded>
(GSI ``access_by_staff``) and ``acc_day_pk`` = ACCESS#DAY#<UTC day> (GSI ``access_by_day``), both sorted by
``acc_sk`` = <at>#<user id>#<rand>. So: one user's records → Query on the user's partition; one staff member's
→ Query ``access_by_staff``; everyone's → Query ``access_by_day`` one day after another, newest first. No Scan.
"""
from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Iterator

from chalicelib.adapters import aws
from chalicelib.config import settings


def staff_key(username: str) -> str:
    return unicodedata.normalize("NFKC", username or "").strip().casefold()


def index_keys(user_id: str, record: dict) -> dict:
    return {"acc_staff_pk": f"ACCESS#STAFF#{staff_key(record.get('staff_username') or '')}",
            "acc_day_pk": f"ACCESS#DAY#{record['at'][:10]}",
            "acc_sk": f"{record['at']}#{user_id}#{secrets.token_hex(4)}"}


def _query(kwargs: dict) -> Iterator[dict]:
    table = aws.table(settings().repayments_table)
    while True:
        response = table.query(**kwargs)
        yield from response.get("Items", [])
        start = response.get("LastEvaluatedKey")
        if not start:
            return
        kwargs = {**kwargs, "ExclusiveStartKey": start}


def records(*, user_id: str | None, staff: str | None, day: str | None, low: str, high: str,
            page: int = 50) -> Iterator[dict]:
    """One partition's records with ``low`` <= sort key <= ``high`` (``acc_sk``, or the user partition's ``sk``
    without its ``ACCESS#``), newest first; each with ``_key`` (that sort key)."""
    if user_id:
        condition = aws.Key("pk").eq(f"USER#{user_id}") & aws.Key("sk").between(f"ACCESS#{low}", f"ACCESS#{high}")
        kwargs: dict = {"KeyConditionExpression": condition}
        attr, strip = "sk", len("ACCESS#")
    else:
        index, hash_attr, value = (("access_by_staff", "acc_staff_pk", f"ACCESS#STAFF#{staff_key(staff or '')}")
                                   if staff else ("access_by_day", "acc_day_pk", f"ACCESS#DAY#{day}"))
        kwargs = {"IndexName": index, "KeyConditionExpression": aws.Key(hash_attr).eq(value)
                  & aws.Key("acc_sk").between(low, high)}
        attr, strip = "acc_sk", 0
    for item in _query({**kwargs, "ScanIndexForward": False, "Limit": page}):
        yield {**item, "_key": item[attr][strip:]}
