"""Cases in DynamoDB (one table; see README "Escalation" for the design). Items and indexes: ``items.py``.

Every write of a case is a ``Put`` conditioned on the version it was read at, in one transaction with the
outbox messages and conversation items it causes.

This is the one module of the package that talks to DynamoDB: the use cases reach it through
``repository.store()`` (tests swap in ``memory.MemoryStore``, the same interface without AWS). Failures
come back as the domain errors below, naming what lost — never as an AWS exception.
"""
from __future__ import annotations

import base64
import heapq
import itertools
import json
import re
import secrets
from collections.abc import Sequence

from chalicelib.adapters import aws, idempotency, outbox
from chalicelib.config import settings
from chalicelib.escalation import terms
from chalicelib.escalation.cursors import BadCursor, cursor_json, cursor_text
from chalicelib.escalation.items import (  # noqa: F401
    DUE_SHARDS,
    _plain,
    _to_dynamo,
    case_key,
    due_shard,
    from_item,
    open_repayment_key,
    queue_key,
    queue_sort_key,
    to_item,
)
from chalicelib.escalation.model import Case
from chalicelib.escalation.search_store import find_keys, get_many  # noqa: F401  (the store's search reads)
from chalicelib.kernel import refusals


class VersionConflict(Exception):
    """The case changed since it was read (another move won)."""


class DuplicateReference(Exception):
    """A case with this reference already exists."""


class ElementFailed(Exception):
    """The case write was fine, but a condition on another element of its transaction did not hold."""


class StoreFailed(Exception):
    """The write failed for a reason that is not a lost condition (the AWS error is its ``__cause__``)."""


class Unavailable(StoreFailed, refusals.Busy):
    """DynamoDB is throttled or unreachable, or another transaction held the items: nothing was written, try
    again (a 503 with ``Retry-After`` at the HTTP edge, as any AWS outage; the sweep counts it as failed)."""

    def __init__(self, what: str):
        super().__init__("服务繁忙，请稍后重试。", retry_after=2)
        self.what = what


def _failed(exc: BaseException, what: str) -> StoreFailed:
    return Unavailable(what) if aws.unavailable(exc) else StoreFailed(what)


# An Idempotency-Key's answer is written in the case's transaction (the twin's: ``memory.MemoryStore.once``).
once = idempotency.once


def _table():
    return aws.table(settings().cases_table)


def _case_put(case: Case, *, expected_version: int | None) -> dict:
    put = {"TableName": settings().cases_table, "Item": aws.attributes(_to_dynamo(to_item(case)))}
    if expected_version is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "version = :v"
        put["ExpressionAttributeValues"] = {":v": {"N": str(expected_version)}}
    return {"Put": put}


def conversation_item(case_id: str, kind: str, entry: dict) -> dict:
    """A MSG (user-visible) or NOTE (internal) item (``entry`` has its ``at``), as a transaction element."""
    if kind not in ("MSG", "NOTE"):
        raise ValueError(kind)
    item = {"pk": f"CASE#{case_id}", "sk": f"{kind}#{entry['at']}#{secrets.token_hex(4)}", **entry}
    return {"Put": {"TableName": settings().cases_table, "Item": aws.attributes(_to_dynamo(item)),
                    "ConditionExpression": "attribute_not_exists(pk)"}}


def _term_put(word: str, case: Case) -> dict:
    item = {"pk": f"TERM#{word}", "sk": terms.sort_key(case), "case_id": case.case_id}
    return {"Put": {"TableName": settings().cases_table, "Item": aws.attributes(item)}}


def put_conversation(element: dict, extra: Sequence[dict] = ()) -> None:
    """Write a conversation item (``conversation_item``) alone or, all or nothing, with ``extra`` elements
    (an Idempotency-Key's answer); ``ElementFailed`` if a condition of ``extra`` did not hold."""
    try:
        aws.transact({"item": element, **{f"extra:{i}": e for i, e in enumerate(extra)}})
    except aws.ConditionFailed as exc:
        if "item" not in exc:
            raise ElementFailed(element["Put"]["Item"]["pk"]["S"]) from None
        raise
    except Exception as exc:
        raise _failed(exc, "conversation") from exc


def add_note(case_id: str, note: dict, extra: Sequence[dict] = ()) -> None:
    """An internal note (``{"at", "author", "text"}``) on its own item, no version bump, with ``extra``."""
    put_conversation(conversation_item(case_id, "NOTE", note), extra)


def save(case: Case, *, expected_version: int | None, extra: Sequence[dict] = (),
         messages: Sequence[outbox.Message] = (), conversation: Sequence[tuple[str, dict]] = ()) -> None:
    """Write ``case`` (new if ``expected_version`` is None), all or nothing, with the outbox ``messages`` it
    causes, its ``conversation`` entries (``("MSG" | "NOTE", entry)``) and ``extra`` elements (an
    Idempotency-Key's answer, report events); then try to deliver the messages at once (the outbox drain
    retries what fails).

    ``VersionConflict``: another move won; ``DuplicateReference``: the new case's reference is taken;
    ``ElementFailed``: another element's condition did not hold; ``Unavailable``: throttled or unreachable.
    """
    elements = {"case": _case_put(case, expected_version=expected_version),
                **{f"entry:{i}": conversation_item(case.case_id, kind, entry)
                   for i, (kind, entry) in enumerate(conversation)},
                **{f"message:{i}": outbox.put(message) for i, message in enumerate(messages)},
                **{f"extra:{i}": element for i, element in enumerate(extra)}}
    words = terms.for_write(case, new=expected_version is None, conversation=conversation, room=100 - len(elements))
    elements.update({f"term:{i}": _term_put(word, case) for i, word in enumerate(words)})
    try:
        aws.transact(elements)
    except aws.TransactionContended as exc:
        if "case" in exc and expected_version is not None:
            raise VersionConflict(case.case_id) from None  # another move was committing at that instant
        raise Unavailable(case.case_id) from exc
    except aws.ConditionFailed as exc:
        if "case" not in exc:  # e.g. an Idempotency-Key's completion whose claim another request took over
            raise ElementFailed(case.case_id) from None
        if expected_version is None:
            raise DuplicateReference(case.case_id) from None
        raise VersionConflict(case.case_id) from None
    except Exception as exc:
        raise _failed(exc, case.case_id) from exc
    if messages:
        outbox.deliver([m.message_id for m in messages])


def pair_elements(case: Case, *, expected_version: int, said: Sequence[dict] = ()) -> list[dict]:
    put = _case_put(case, expected_version=expected_version)   # a merge's 2nd case; lost: ``ElementFailed``
    return [put, *(conversation_item(case.case_id, "MSG", m) for m in said)]


def open_for_repayment(user_id: str, repayment_id: str) -> list[Case]:
    """The user's open cases naming the repayment (GSI ``open_repayment``, one Query)."""
    key = aws.Key("orep_pk").eq(open_repayment_key(user_id, repayment_id))
    return [from_item(i) for i in _query_items(IndexName="open_repayment", KeyConditionExpression=key)]


def get(case_id: str) -> Case | None:
    item = _table().get_item(Key=case_key(case_id), ConsistentRead=True).get("Item")
    return from_item(item) if item else None


def _query_items(**kwargs):
    """Every item a Query matches, page by page (one call returns at most ``Limit`` items or 1 MB);
    the caller may stop early — no further page is read then."""
    while True:
        response = _table().query(**kwargs)
        yield from response.get("Items", [])
        start = response.get("LastEvaluatedKey")
        if not start:
            return
        kwargs = {**kwargs, "ExclusiveStartKey": start}


def conversation(case_id: str, kind: str) -> list[dict]:
    """All MSG or NOTE items of a case, oldest first."""
    condition = aws.Key("pk").eq(f"CASE#{case_id}") & aws.Key("sk").begins_with(f"{kind}#")
    return [_plain(i) for i in _query_items(KeyConditionExpression=condition)]


_MESSAGE_SK = re.compile(r"^MSG#[0-9T:.\-Z]{10,40}#[0-9a-f]{8}$")


def message_cursor(sk: str) -> str:
    return base64.urlsafe_b64encode(sk.encode()).decode().rstrip("=")


def conversation_after(case_id: str, cursor: str | None, limit: int = 100) -> list[dict]:
    """MSG items after a cursor (exclusive; one handed out earlier), oldest first, each with its
    ``cursor``. One Query on the case's partition; a cursor that is not ours: ``BadCursor``."""
    after = None
    if cursor:
        after = cursor_text(cursor, _MESSAGE_SK.match)
    pk = aws.Key("pk").eq(f"CASE#{case_id}")
    condition = pk & (aws.Key("sk").between(after, "MSG$") if after else aws.Key("sk").begins_with("MSG#"))
    items = []
    for item in _query_items(KeyConditionExpression=condition, Limit=limit + 1):
        if item["sk"] != after:
            items.append({**_plain(item), "cursor": message_cursor(item["sk"])})
        if len(items) >= limit:
            break
    return items


def count_deflection(day: str, slug: str, field: str) -> None:
    """``DEFLECTION#<day>`` / ``<slug>``: ``opened`` (a suggestion was opened from the new-工单 form) and
    ``returned`` (the user opened a 工单 after all); counts only, nothing about the user."""
    if field not in ("opened", "returned"):
        raise ValueError(field)
    _table().update_item(Key={"pk": f"DEFLECTION#{day}", "sk": slug}, UpdateExpression="ADD #f :one",
                         ExpressionAttributeNames={"#f": field}, ExpressionAttributeValues={":one": 1})


def deflections(day: str) -> dict[str, dict[str, int]]:
    """A day's deflection counts per article (one Query)."""
    items = _query_items(KeyConditionExpression=aws.Key("pk").eq(f"DEFLECTION#{day}"))
    return {i["sk"]: {"opened": int(i.get("opened", 0)), "returned": int(i.get("returned", 0))} for i in items}


def cases_of_user(user_id: str, limit: int = 50) -> list[Case]:
    response = _table().query(IndexName="by_user", KeyConditionExpression=aws.Key("user_pk").eq(f"USER#{user_id}"),
                              ScanIndexForward=False, Limit=limit)
    return [from_item(i) for i in response.get("Items", [])]


def user_page(user_id: str, *, limit: int, cursor: str | None) -> tuple[list[Case], str | None]:
    """One page of a user's cases, newest first (GSI ``by_user``); the cursor is the last ``user_sk`` shown."""
    condition = aws.Key("user_pk").eq(f"USER#{user_id}")
    if cursor:
        after = _decode(cursor).get("user_sk")
        if not isinstance(after, str) or not after:
            raise BadCursor(cursor)
        condition = condition & aws.Key("user_sk").lt(after)
    items = list(itertools.islice(_query_items(IndexName="by_user", KeyConditionExpression=condition,
                                               ScanIndexForward=False, Limit=limit + 1), limit + 1))
    page = items[:limit]
    more = len(items) > limit
    return [from_item(i) for i in page], _encode({"user_sk": page[-1]["user_sk"]}) if more else None


def queue_page(step: str, *, limit: int, cursor: str | None) -> tuple[list[Case], str | None]:
    """One page of the step's open cases, nearest deadline first (equal deadlines: oldest first), merged
    from every queue shard.

    ``queue_sk`` (``<deadline|~paused>#<created_at>#<ref>``) is unique, so "after the last one shown" is a
    key condition on every shard and the cursor is just that sort key. Each shard is read
    lazily in small pages and ``heapq.merge`` pulls from whichever shard holds the next case,
    so a page reads about ``limit + 1`` cases plus one small page per shard, not ``limit``
    per shard. One case more than asked for says whether another page exists.
    """
    after = decode_cursor(cursor, step) if cursor else None
    count = settings().queue_shards
    per_shard = max(2, -(-(limit + 1) // count) + 1)

    def shard(number: int):
        condition = aws.Key("queue_pk").eq(queue_key(step, number))
        if after:
            condition = condition & aws.Key("queue_sk").gt(after)
        return _query_items(IndexName="queue", KeyConditionExpression=condition, Limit=per_shard)

    merged = heapq.merge(*(shard(n) for n in range(count)), key=lambda item: item["queue_sk"])
    items = list(itertools.islice(merged, limit + 1))
    page = items[:limit]
    more = len(items) > limit
    return [from_item(i) for i in page], encode_cursor(step, page[-1]["queue_sk"]) if more else None


_REF = re.compile(r"^[A-Za-z0-9-]{1,40}$")


def _opening_time_form(after: str) -> str:
    """The ``queue_sk`` of a cursor handed out before equal deadlines were ordered by opening time
    (``<deadline|~paused>#<ref>``) in today's form: the case's opening time (which never changes) is read
    to place it; a case that is gone resumes at the first case due at that moment (shown again, never
    skipped)."""
    head, _, ref = after.rpartition("#")
    if not head or "#" in head or not _REF.match(ref):
        raise BadCursor(after)
    case = get(ref)
    return f"{head}#{case.created_at}#{ref}" if case else f"{head}#"


def rekey_queue(step: str) -> int:
    """Rewrite the queue entries of ``step`` still keyed ``<deadline|~paused>#<ref>`` (written before equal
    deadlines were ordered by opening time) to today's ``queue_sort_key``; how many were rewritten.

    One Query per shard of the sparse queue index (open cases only, never a Scan), then per stale entry an
    update conditioned on the case's version and old key: a move in between writes the new key itself and
    the update steps aside. Run once per step after deploying (``python -m chalicelib.escalation.rekey``)."""
    rewritten = 0
    for number in range(settings().queue_shards):
        condition = aws.Key("queue_pk").eq(queue_key(step, number))
        for item in _query_items(IndexName="queue", KeyConditionExpression=condition):
            if item["queue_sk"].count("#") != 1:
                continue
            new = queue_sort_key(from_item(item))
            try:
                _table().update_item(Key={"pk": item["pk"], "sk": item["sk"]}, UpdateExpression="SET queue_sk = :new",
                                     ConditionExpression="version = :v AND queue_sk = :old",
                                     ExpressionAttributeValues={":new": new, ":v": item["version"],
                                                                ":old": item["queue_sk"]})
            except Exception as exc:
                if not aws.is_condition_failure(exc):
                    raise
                continue  # the case moved meanwhile: its write carried the new key
            rewritten += 1
    return rewritten


def open_cases_of_repayment(repayment_id: str, limit: int = 20) -> list[Case]:
    """The open (or waiting) cases linked to a repayment: one Query of the ``by_repayment`` index (every case
    naming it — a handful at most), the closed ones left out."""
    found = _query_items(IndexName="by_repayment",
                         KeyConditionExpression=aws.Key("repay_pk").eq(f"REPAY#{repayment_id}"))
    return [from_item(i) for i in itertools.islice((i for i in found if i.get("status") in ("open", "waiting_user")),
                                                   limit)]


def cases_of_incident(incident_id: str, limit: int = 500) -> list[Case]:
    """The cases grouped under an incident, oldest first: Queries of the ``by_incident`` index."""
    return [from_item(i) for i in itertools.islice(_query_items(
        IndexName="by_incident", KeyConditionExpression=aws.Key("incident_pk").eq(f"INCIDENT#{incident_id}")), limit)]


def due_cases(until_iso: str, limit: int = 100) -> list[Case]:
    """Cases whose next sweep action is due at or before ``until_iso``, across all shards."""
    found: list[Case] = []
    for shard in range(DUE_SHARDS):
        if len(found) >= limit:
            break
        condition = aws.Key("due_pk").eq(f"DUE#{shard}") & aws.Key("due_sk").lte(f"{until_iso}#~")
        for item in _query_items(IndexName="due", Limit=limit, KeyConditionExpression=condition):
            found.append(from_item(item))
            if len(found) >= limit:
                break
    return found


def oldest_open(limit: int = 20) -> list[Case]:
    """The open (or waiting) cases opened longest ago: a Query per ``open_age`` shard, merged."""
    def shard(number: int):
        return _query_items(IndexName="open_age", KeyConditionExpression=aws.Key("age_pk").eq(f"OPEN#{number}"),
                            Limit=limit)
    merged = heapq.merge(*(shard(n) for n in range(DUE_SHARDS)), key=lambda item: item["age_sk"])
    return [from_item(i) for i in itertools.islice(merged, limit)]


# -- opaque cursors: the step and the last queue_sk shown, base64url JSON, checked on the way back in
def _encode(key: dict) -> str:
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> dict:
    return cursor_json(cursor)


# Cursors say which order they page: the raw ``queue_sk`` strings are one total order, so a page resumes
# after the key it ended on even while entries written before this order (``rekey_queue``) are still about.
_ORDER = "deadline,opened"


def encode_cursor(step: str, after: str) -> str:
    raw = json.dumps({"step": step, "after": after, "order": _ORDER}, separators=(",", ":"),
                     sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, step: str) -> str:
    """The ``queue_sk`` a page starts after. Cursors handed out before equal deadlines were ordered by opening
    time (``{"step", "after"}``), and before the queue was sharded (the unsharded index's LastEvaluatedKey),
    are still accepted: their ``<deadline>#<ref>`` is placed in today's order."""
    key = cursor_json(cursor)
    if not all(isinstance(v, str) for v in key.values()):
        raise BadCursor(cursor)
    if set(key) == {"step", "after", "order"} and key["step"] == step and key["after"] and key["order"] == _ORDER:
        return key["after"]
    if set(key) == {"step", "after"} and key["step"] == step and key["after"]:
        return _opening_time_form(key["after"])
    if set(key) == {"pk", "sk", "queue_pk", "queue_sk"} and key["queue_pk"] == f"QUEUE#{step}" and key["queue_sk"]:
        return _opening_time_form(key["queue_sk"])
    raise BadCursor(cursor)
