"""How a case is laid out in the cases table (items and sparse indexes); plain mapping, no AWS calls.

Items (``pk`` / ``sk``):
- ``CASE#<ref>`` / ``CASE``              the case, its timeline inside (a few dozen entries at most)
- ``CASE#<ref>`` / ``MSG#<at>#<rand>``   conversation shown to the user (user messages, support replies)
- ``CASE#<ref>`` / ``NOTE#<at>#<rand>``  internal notes: only ever read by staff routes

Sparse GSIs on the case item (attributes present only while they apply):
- ``by_user``  ``user_pk`` = USER#<uid>,  ``user_sk`` = <created_at>#<ref>      a user's cases, newest last
- ``queue``    ``queue_pk`` = QUEUE#<step>[#<shard>], ``queue_sk`` = <deadline|~paused>#<created_at>#<ref>
               open cases of a step, nearest deadline first, equal deadlines oldest first (cases waiting
               on the user after them, oldest first); ``QUEUE_SHARDS`` shards by crc32 of the ref (shard 0
               unsuffixed), merged on read (``queue_page``)
- ``open_age`` ``age_pk`` = OPEN#<0-3>, ``age_sk`` = <created_at>#<ref>         open cases, oldest first
               (reports: the oldest open cases), the ``due`` shards' hash
- ``by_username`` ``uname_pk`` = UNAME#<name_key(username)>, ``user_sk``   a user name's cases (search)
- ``by_repayment`` ``repay_pk`` = REPAY#<repayment id>, ``user_sk``          the cases naming a repayment (search;
               and its open ones, filtered on read: a settlement outcome reaches them, ``following.py``)
- ``by_phone4`` ``phone4_pk`` = PHONE4#<last four digits of the owner's phone>, ``user_sk``   a phone's
               last four's cases by opening time (search by phone + date; ``phones.py``)
- ``open_repayment`` ``orep_pk`` = OREP#<uid>#<repayment>, ``orep_sk`` = <ref>   a user's open cases naming a
               repayment (a duplicate is offered first); a merged case is also left out of ``by_user``
- ``due``      ``due_pk`` = DUE#<0-3>,     ``due_sk`` = <due time>#<ref>         what the sweep must do next
               (warn / lapse / auto-close / raise), sharded so no single partition gets every write
- ``by_incident``  ``incident_pk`` = INCIDENT#<id>, ``incident_sk`` = <created_at>#<ref>  the 工单 grouped
               under a settlement incident (its one reply reaches each)
"""
from __future__ import annotations

import dataclasses
import unicodedata
import zlib
from decimal import Decimal

from chalicelib.adapters import shards
from chalicelib.config import settings
from chalicelib.escalation.model import Case

DUE_SHARDS = 4
_CASE_FIELDS = {f.name for f in dataclasses.fields(Case)}


def _to_dynamo(value):
    """Floats → Decimal (DynamoDB has no float), ``None`` left out at every level."""
    if isinstance(value, float):
        return Decimal(str(round(value, 3)))
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items() if v is not None}
    return value


def _plain(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def case_key(case_id: str) -> dict:
    return {"pk": f"CASE#{case_id}", "sk": "CASE"}


def queue_key(step: str, shard: int) -> str:
    return shards.shard_key(f"QUEUE#{step}", shard)


def queue_sort_key(case: Case) -> str:
    """``<deadline|~paused>#<created_at>#<ref>``: nearest deadline first; two cases due at the same moment
    (opened before hours, both due at 13:00) in the order they were opened; the ref keeps it unique."""
    return f"{case.deadline or '~paused'}#{case.created_at}#{case.case_id}"


def name_key(username: str) -> str:
    """A user name as search keys it: NFKC (full-width folded), case-folded, trimmed."""
    return unicodedata.normalize("NFKC", username or "").strip().casefold()


def open_repayment_key(user_id: str, repayment_id: str) -> str:
    return f"OREP#{user_id}#{repayment_id}"


def due_shard(case_id: str) -> int:
    return zlib.crc32(case_id.encode()) % DUE_SHARDS


def to_item(case: Case) -> dict:
    item = {k: v for k, v in dataclasses.asdict(case).items()}
    item["timeline"] = list(case.timeline)
    item.update(case_key(case.case_id))
    if not case.merged_into:   # a merged 工单 leaves the owner's list (the kept one stands for both)
        item["user_pk"] = f"USER#{case.user_id}"
    item["user_sk"] = f"{case.created_at}#{case.case_id}"
    item["uname_pk"] = f"UNAME#{name_key(case.username)}"       # search by user name (GSI by_username)
    if case.phone4:
        item["phone4_pk"] = f"PHONE4#{case.phone4}"            # search by phone's last four + day (GSI by_phone4)
    if case.repayment_id:
        item["repay_pk"] = f"REPAY#{case.repayment_id}"         # search by repayment id (GSI by_repayment)
    if case.status in ("open", "waiting_user") and case.repayment_id:
        item["orep_pk"] = open_repayment_key(case.user_id, case.repayment_id)
        item["orep_sk"] = case.case_id
    if case.status in ("open", "waiting_user"):
        item["queue_pk"] = queue_key(case.step, shards.shard_of(case.case_id, settings().queue_shards))
        item["queue_sk"] = queue_sort_key(case)
        item["age_pk"] = f"OPEN#{due_shard(case.case_id)}"   # oldest open cases (reports, #15)
        item["age_sk"] = f"{case.created_at}#{case.case_id}"
    if case.incident_id:
        item["incident_pk"] = f"INCIDENT#{case.incident_id}"
        item["incident_sk"] = f"{case.created_at}#{case.case_id}"
    due = case.due()
    if due:
        kind, at = due
        item["due_pk"] = f"DUE#{due_shard(case.case_id)}"
        item["due_sk"] = f"{at}#{case.case_id}"
        item["due_kind"] = kind
    return item


def from_item(item: dict) -> Case:
    data = {k: _plain(v) for k, v in item.items() if k in _CASE_FIELDS}
    data["timeline"] = tuple(data.get("timeline") or ())
    data["used_seconds"] = float(data.get("used_seconds") or 0)
    data["breaches"] = tuple(data.get("breaches") or ())
    return Case(**data)
