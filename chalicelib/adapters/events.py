"""Analytics events, each recorded once, and the rollups the reports read (issue #15).

``record(kind, **fields)`` is what the services call. An event is an item of ``EVENTS_TABLE``:

| pk | sk | what |
| --- | --- | --- |
| ``EV#<local yyyy-mm-ddTHH>[#<shard>]`` | ``<at>#<event id>`` | one event (below) |

An event holds ``kind``, ``data`` (JSON of its fields) and the TTL ``expires_at``.
Rollups live in ``REPORTS_TABLE`` (small: a few items a day, so a report's Query never touches events):

| pk | sk | what |
| --- | --- | --- |
| ``SLOT#<yyyy-mm-dd>`` | ``M#<yyyy-mm-ddTHH:MM>`` | a 5-minute slot's rollup (below) |
| ``AGG#<yyyy-mm>`` | ``H#<yyyy-mm-ddTHH>`` | the hour's rollup: its slots merged |
| ``AGG#<yyyy-mm>`` | ``S#<yyyy-mm-dd>`` | a finished day's slots merged (what a report reads for past days) |
| ``AGG#<yyyy-mm>`` | ``D#<yyyy-mm-dd>`` | the day's deflection |

A slot's rollup (``chalicelib/insight/rollup.py``) is written once the slot is final and carries
``final`` and ``events``; slots take a partition per day and reports never read them. An hour's
rollup is rewritten whenever one of its slots is written. A day's deflection needs the next 24 h,
so it is written once the day is 2 days old.

- **Once.** The put is conditional (``attribute_not_exists``) on an id: a case's events are
  ``<ref>-v<version>-<event>`` and go in the case's own transaction (``element``), so a move and its
  event commit together or not at all, and a retry cannot add a second one; breaches are
  ``<ref>-breach-<key>``. Searches, views and votes get a random id and are written off the request
  thread (best effort, like the search's zero-result counters: a search never waits for them).
- **No hot key.** An hour's events spread over ``EVENT_SHARDS`` partitions (crc32 of the event id;
  shard 0 unsuffixed, ``chalicelib/adapters/shards.py``); readers query every shard of an hour. Nothing on a
  request path reads events: the scheduled job folds each 5-minute slot into one rollup item, reading
  each event once (``iter_events_between``: the slot's sort-key range), and the reports read one Query
  per month of rollups (docs/scale.md, "Events and reports").
- **No personal data.** Fields are ids, categories, steps, priorities, counts and durations; a user
  appears only as ``user`` (the 12-character hash the logs use) where deflection needs distinct
  users; a query is kept only if ``signals.valid`` accepts it (no phone, card, ID number, e-mail);
  a CSAT comment is stored with digit runs masked. ``check`` refuses any other personal field name.
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import queue
import re
import threading
import uuid

from chalicelib.adapters import aws, shards
from chalicelib.config import settings
from chalicelib.kernel import clock
from chalicelib.kernel.logs import logger

KEEP = dt.timedelta(days=400)
CASE_KINDS = tuple(f"case.{e}" for e in (
    "created", "escalated", "deadline_warning", "overdue", "assigned", "paused", "replied", "resumed",
    "user_message", "resolved", "confirmed", "reopened", "closed", "unfrozen"))
ASSISTANT_KINDS = tuple(f"assistant.{e}" for e in ("started", "intent", "clarifying", "clarified", "resolved",
                                                   "action", "handover"))
KINDS = frozenset({*CASE_KINDS, *ASSISTANT_KINDS, "breach", "csat", "search", "click", "article_view", "article_vote",
                   "search_case"})
_PERSONAL = frozenset({"phone", "card", "card_number", "name", "username", "user_id", "email", "ip", "description"})
_DIGITS = re.compile(r"\d[\d\s\-]{4,}\d")


class BadEvent(ValueError):
    """An unknown kind or a field that must never be stored (a programming error)."""


def hour_of(at: dt.datetime, time_zone: str) -> str:
    """The local hour an event belongs to (``2026-11-24T10``): days are Asia/Shanghai days."""
    return at.astimezone(clock.zone(time_zone)).strftime("%Y-%m-%dT%H")


def mask(text: str | None) -> str | None:
    """Free text kept for a report (a low rating's comment) with digit runs masked."""
    if not text:
        return None
    return _DIGITS.sub("***", text.strip())[:500]


def check(kind: str, fields: dict) -> dict:
    if kind not in KINDS and not kind.startswith("case."):  # every timeline event of a case is a case.<event>
        raise BadEvent(f"unknown event kind {kind!r}")
    personal = _PERSONAL & set(fields)
    if personal:
        raise BadEvent(f"event {kind} must not carry {sorted(personal)}")
    user = fields.get("user")
    if user is not None and not re.fullmatch(r"[0-9a-f]{12}", user):
        raise BadEvent("user must be logs.user_hash(...) (an opaque 12-character hash)")
    return {k: v for k, v in fields.items() if v is not None}


def item(kind: str, *, at: dt.datetime | None = None, event_id: str | None = None, **fields) -> dict:
    """The event's DynamoDB item (low-level attribute map)."""
    cfg = settings()
    at = at or clock.now()
    event_id = event_id or uuid.uuid4().hex
    data = check(kind, fields)
    partition = shards.shard_key("EV#" + hour_of(at, cfg.time_zone), shards.shard_of(event_id, cfg.event_shards))
    return aws.attributes({"pk": partition, "sk": f"{clock.isoformat(at)}#{event_id}", "kind": kind,
                           "data": json.dumps(data, ensure_ascii=False, sort_keys=True, default=str),
                           "expires_at": int((at + KEEP).timestamp())})


def element(kind: str, *, at: dt.datetime, event_id: str, **fields) -> dict:
    """The event as a ``TransactWriteItems`` element: written with the change it describes, once."""
    return {"Put": {"TableName": settings().events_table, "Item": item(kind, at=at, event_id=event_id, **fields),
                    "ConditionExpression": "attribute_not_exists(pk)"}}


def record_now(kind: str, *, at: dt.datetime | None = None, event_id: str | None = None, **fields) -> bool:
    """Write one event now; False if an event with this id was already recorded."""
    put = element(kind, at=at or clock.now(), event_id=event_id or uuid.uuid4().hex, **fields)["Put"]
    try:
        aws.client("dynamodb").put_item(**put)
    except aws.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


# ------------------------------------------------------------------ off the request thread
# Searches, views and votes are buffered in the container and written in batches of up to 25
# (BatchWriteItem) by a background thread, once 25 are waiting or the oldest waited BATCH_WAIT:
# a request never waits for DynamoDB, and a cold container's first search starts no thread and
# imports no boto3 (tests/shared/test_cold_start.py). Best effort: a container that is shut
# down with events in its buffer loses them (at most BATCH_SIZE or BATCH_WAIT's worth).
BATCH_SIZE = 25
BATCH_WAIT = 5.0
_buffer: list[tuple[str, dt.datetime, str | None, dict]] = []
_buffer_since = 0.0
_pending: queue.Queue = queue.Queue(maxsize=200)
_worker: threading.Thread | None = None
_lock = threading.Lock()


_user: contextvars.ContextVar[str | None] = contextvars.ContextVar("events_user", default=None)


@contextlib.contextmanager
def as_user(user: str | None):
    """Events recorded inside the block without a ``user`` belong to ``user`` (an opaque hash, or None):
    a signed-in caller's search through a service that does not know who searches."""
    token = _user.set(user)
    try:
        yield
    finally:
        _user.reset(token)


def record(kind: str, *, at: dt.datetime | None = None, event_id: str | None = None, **fields) -> None:
    """Record an event without making the request wait (best effort: logged, never raised).

    The fields are checked here, on the caller's thread, so a wrong field fails in tests."""
    global _buffer, _buffer_since
    if fields.get("user") is None and _user.get() is not None:
        fields["user"] = _user.get()
    check(kind, fields)
    import time
    with _lock:
        if not _buffer:
            _buffer_since = time.monotonic()
        _buffer.append((kind, at or clock.now(), event_id, fields))
        if len(_buffer) < BATCH_SIZE and time.monotonic() - _buffer_since < BATCH_WAIT:
            return
        batch, _buffer = _buffer, []
    _hand_over(batch)


def _hand_over(batch) -> None:
    global _worker
    try:
        _pending.put_nowait(batch)
    except queue.Full:  # DynamoDB far behind: dropping events beats slowing searches
        logger.warning("events queue full, events dropped", extra={"events": len(batch)})
        return
    if _worker is None or not _worker.is_alive():
        with _lock:
            if _worker is None or not _worker.is_alive():
                _worker = threading.Thread(target=_loop, name="events", daemon=True)
                _worker.start()


def _loop() -> None:
    while True:
        batch = _pending.get()
        try:
            write_batch(batch)
        except Exception:
            logger.warning("events not recorded", extra={"events": len(batch)}, exc_info=True)
        finally:
            _pending.task_done()


def write_batch(batch) -> None:
    """Write up to 25 events in one BatchWriteItem (random ids: a repeated put rewrites the same item)."""
    write_items([item(kind, at=at, event_id=event_id, **fields) for kind, at, event_id, fields in batch])


def write_items(items: list[dict], table: str | None = None) -> None:
    """Put prepared items (events, or rollups into ``reports_table``) 25 per BatchWriteItem, retrying what
    DynamoDB left unprocessed."""
    table = table or settings().events_table
    ddb = aws.client("dynamodb")
    for start in range(0, len(items), 25):
        pending = {table: [{"PutRequest": {"Item": i}} for i in items[start:start + 25]]}
        for _ in range(5):
            unprocessed = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not unprocessed:
                break
            pending = unprocessed


def flush() -> None:
    """Write whatever is buffered and wait until it is written (tests, the seed)."""
    global _buffer
    with _lock:
        batch, _buffer = _buffer, []
    if batch:
        _hand_over(batch)
    _pending.join()


# ------------------------------------------------------------------ reading (the job and the reports)
def _query(table: str | None = None, **kwargs):
    paginator = aws.client("dynamodb").get_paginator("query")
    for page in paginator.paginate(TableName=table or settings().events_table, **kwargs):
        yield from page["Items"]


def iter_hour_events(hour: str):
    """Every event of one local hour, streamed page by page: one Query per shard (the aggregation job,
    never a request); nothing of the hour is held in memory but the page being read."""
    for pk in shards.shard_keys("EV#" + hour, settings().event_shards):
        for raw in _query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": pk}}):
            yield from_item(raw)


def iter_events_between(hour: str, start: dt.datetime, end: dt.datetime):
    """The events of local ``hour`` stamped ``start`` ≤ at < ``end`` (whole milliseconds, inside the hour),
    streamed: one Query per shard on ``sk BETWEEN <iso start> AND <iso end>``. A sort key is
    ``clock.isoformat(at)`` (fixed-width UTC, milliseconds, ``Z``) + ``#<id>``, so every key of an event at
    ``end`` is longer than ``<iso end>`` with it as prefix — greater, outside the range — while one at
    ``start`` is inside: consecutive ranges share no event and miss none."""
    lo, hi = clock.isoformat(start), clock.isoformat(end)
    for pk in shards.shard_keys("EV#" + hour, settings().event_shards):
        for raw in _query(KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
                          ExpressionAttributeValues={":pk": {"S": pk}, ":lo": {"S": lo}, ":hi": {"S": hi}}):
            yield from_item(raw)


def hour_events(hour: str) -> list[dict]:
    """``iter_hour_events`` as a list, oldest first."""
    return sorted(iter_hour_events(hour), key=lambda e: (e["at"], e["id"]))


def from_item(raw: dict) -> dict:
    """An event item (low-level attribute map) → ``{"kind", "at", "id", **fields}``."""
    at, _, event_id = raw["sk"]["S"].partition("#")
    return {"kind": raw["kind"]["S"], "at": at, "id": event_id, **json.loads(raw["data"]["S"])}


def rollup_item(sort_key: str, data: dict, **marks) -> dict:
    """A rollup item; ``marks`` are small attributes beside the data (a slot's ``final``, ``events``)."""
    return aws.attributes({"pk": _rollup_pk(sort_key), "sk": sort_key,
                           "data": json.dumps(data, ensure_ascii=False, sort_keys=True),
                           "computed_at": clock.isoformat(clock.now()), **marks})


def put_rollup(sort_key: str, data: dict) -> None:
    """Write (overwrite) one rollup item: recomputed from the events, so rewriting it never double counts."""
    aws.client("dynamodb").put_item(TableName=settings().reports_table, Item=rollup_item(sort_key, data))


def write_rollups(items: list[dict]) -> None:
    write_items(items, settings().reports_table)


def rollups(prefix: str, first: str, last: str) -> list[tuple[str, dict]]:
    """Rollup items ``<prefix>#<first>`` … ``<prefix>#<last>~`` (keys sort as dates): one Query per month
    (slots: per day). Every rollup item carries its data (``rollup_item``)."""
    return [(raw["sk"]["S"], json.loads(raw["data"]["S"])) for raw in _rollup_raw(prefix, first, last)]


def rollup_items(prefix: str, first: str, last: str, *, data: bool = True) -> list[tuple[str, dict | None, dict]]:
    """``rollups`` with each item's marks: (sort key, data or None, {"final": bool, "events": int});
    ``data=False`` leaves the data out of the answer (the read units are the same)."""
    extra = {}
    if not data:
        extra = {"ProjectionExpression": "#sk, #final, #events",
                 "ExpressionAttributeNames": {"#sk": "sk", "#final": "final", "#events": "events"}}
    found = []
    for raw in _rollup_raw(prefix, first, last, **extra):
        marks = {"final": raw.get("final", {}).get("BOOL", False), "events": int(raw.get("events", {}).get("N", 0))}
        found.append((raw["sk"]["S"], json.loads(raw["data"]["S"]) if "data" in raw else None, marks))
    return found


def _rollup_raw(prefix: str, first: str, last: str, **extra) -> list[dict]:
    """The raw rollup items between the two keys, partition by partition, in key order."""
    found = []
    for pk in _partitions(prefix, first, last):
        found += _query(settings().reports_table, KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
                        ExpressionAttributeValues={":pk": {"S": pk}, ":lo": {"S": f"{prefix}#{first}"},
                                                   ":hi": {"S": f"{prefix}#{last}~"}}, **extra)
    return found


def has_rollup(sort_key: str) -> bool:
    got = aws.client("dynamodb").get_item(TableName=settings().reports_table,
                                          Key={"pk": {"S": _rollup_pk(sort_key)}, "sk": {"S": sort_key}})
    return "Item" in got


def _rollup_pk(sort_key: str) -> str:
    """Slots (``M#``) in a partition per day; hours, days and deflection in a partition per month."""
    return f"SLOT#{sort_key[2:12]}" if sort_key.startswith("M#") else f"AGG#{sort_key[2:9]}"


def _partitions(prefix: str, first: str, last: str) -> list[str]:
    if prefix != "M":
        return [f"AGG#{month}" for month in _months(first[:7], last[:7])]
    day, out = dt.date.fromisoformat(first[:10]), []
    while day.isoformat() <= last[:10]:
        out.append(f"SLOT#{day.isoformat()}")
        day += dt.timedelta(days=1)
    return out


def _months(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out
