"""The DynamoDB bills store: bills, schedules and reminders.

The table is ``settings().bills_table`` (README, "Bills" → "Table design").

Use cases reach it through ``chalicelib/bills/store.py`` (the interface; ``memory_store.py`` is its in-memory
twin); writes are elements of a unit of work (``chalicelib/adapters/unit_of_work.py``).

=========================================  ============================================  ==========================
item                                       pk / sk                                       notes
=========================================  ============================================  ==========================
bill                                       ``USER#<uid>`` / ``BILL#<id>``                ids sort by creation time
scheduled repayment                        ``USER#<uid>`` / ``SCHED#<id>``               ``runs``: what ran, per period
reminder sent                              ``USER#<uid>`` / ``REMIND#<bill>#<period>#<kind>``  put if absent: once; TTL
=========================================  ============================================  ==========================

The sparse, time-bucketed GSI ``by_wake`` holds only bills and schedules with something to do:
``wake_pk = WAKE#<local day of the wake>[#<shard>]`` (shard = crc32 of the item's id, ``WAKE_SHARDS``;
shard 0 is the bare key, ``chalicelib/adapters/shards.py``), ``wake_sk = <wake_at>#<pk>#<sk>``. The sweep Queries
today's and the last ``WAKE_LOOKBACK_DAYS`` days' buckets for keys before now, one shard per worker
(``iter_due``; the schedule fans the shards out through SQS, ``sweep.fan_out``).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

from chalicelib.adapters import aws, shards
from chalicelib.bills.errors import Due, ReminderAlreadySent
from chalicelib.bills.model import Bill, Schedule
from chalicelib.config import settings
from chalicelib.kernel import clock

WAKE = "WAKE"
REMINDER_KEEP = dt.timedelta(days=400)


def _name() -> str:
    return settings().bills_table


def _table():
    return aws.table(_name())


def _values(mapping: dict) -> dict:
    return {k: aws.serializer().serialize(v) for k, v in mapping.items()}


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def bill_key(user_id: str, bill_id: str) -> dict:
    return {"pk": user_pk(user_id), "sk": f"BILL#{bill_id}"}


def schedule_key(user_id: str, schedule_id: str) -> dict:
    return {"pk": user_pk(user_id), "sk": f"SCHED#{schedule_id}"}


# ---------------------------------------------------------------- the wake index
def wake_keys(key: dict, item_id: str, wake_at: dt.datetime | None, tz: str) -> dict:
    """``wake_pk``/``wake_sk`` for an item due at ``wake_at`` (None: nothing to do, out of the index)."""
    if wake_at is None:
        return {}
    day = wake_at.astimezone(clock.zone(tz)).date().isoformat()
    shard = shards.shard_of(item_id, settings().wake_shards)
    return {"wake_pk": shards.shard_key(f"{WAKE}#{day}", shard),
            "wake_sk": f"{clock.isoformat(wake_at)}#{key['pk']}#{key['sk']}"}


def due(now: dt.datetime, tz: str, shard: int, *, lookback_days: int, page: int = 100) -> Iterator[Due]:
    for item in iter_due(now, tz, shard, lookback_days=lookback_days, page=page):
        kind = "bill" if item["sk"].startswith("BILL#") else "schedule" if item["sk"].startswith("SCHED#") else ""
        yield Due(kind, item["user_id"], item["id"])


def iter_due(now: dt.datetime, tz: str, shard: int, *, lookback_days: int, page: int = 100) -> Iterator[dict]:
    """One shard's index entries due by ``now``: its buckets of the last ``lookback_days`` days and today, oldest
    day first, each in ``wake_sk`` order, read lazily ``page`` at a time (DynamoDB's own paging). An entry
    acted on moves its wake past ``now``, so a page read later never repeats what was handled before."""
    today = now.astimezone(clock.zone(tz)).date()
    bound = f"{clock.isoformat(now)}#~"
    for back in range(lookback_days, -1, -1):
        day = (today - dt.timedelta(days=back)).isoformat()
        query = {"IndexName": "by_wake", "KeyConditionExpression": "wake_pk = :p AND wake_sk <= :now",
                 "ExpressionAttributeValues": {":p": shards.shard_key(f"{WAKE}#{day}", shard), ":now": bound},
                 "Limit": page}
        while True:
            response = _table().query(**query)
            yield from response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                break
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]


# ---------------------------------------------------------------- bills
_BILL_FIELDS = tuple(f.name for f in dataclasses.fields(Bill))


def bill_from_item(item: dict) -> Bill:
    # Stored attributes are untyped (numbers arrive as Decimal); the conversions below type them.
    found: dict[str, Any] = {name: item.get(name) for name in _BILL_FIELDS if name in item}
    found["payee"] = dict(item["payee"])
    for name in ("due_day", "version"):
        if found.get(name) is not None:
            found[name] = int(found[name])
    return Bill(**found)


def _bill_item(bill: Bill, wake_at: dt.datetime | None, tz: str) -> dict:
    key = bill_key(bill.user_id, bill.id)
    item = {k: v for k, v in dataclasses.asdict(bill).items() if v is not None}
    return {**item, **key, **wake_keys(key, bill.id, wake_at, tz),
            **({"wake_at": clock.isoformat(wake_at)} if wake_at else {})}


def save_new_bill(uow, bill: Bill, wake_at: dt.datetime | None, tz: str) -> None:
    uow.add("bill", put_bill(bill, wake_at, tz))


def save_bill(uow, bill: Bill, expected_version: int, wake_at: dt.datetime | None, tz: str) -> None:
    uow.add("bill", replace_bill(bill, expected_version, wake_at, tz))


def remove_bill(uow, user_id: str, bill_id: str, expected_version: int) -> None:
    uow.add("bill", delete_bill(user_id, bill_id, expected_version))


def put_bill(bill: Bill, wake_at: dt.datetime | None, tz: str) -> dict:
    return {"Put": {"TableName": _name(), "Item": aws.attributes(_bill_item(bill, wake_at, tz)),
                    "ConditionExpression": "attribute_not_exists(pk)"}}


def replace_bill(bill: Bill, expected_version: int, wake_at: dt.datetime | None, tz: str) -> dict:
    """The whole bill, only over the version it was read at (no lost update)."""
    return {"Put": {"TableName": _name(), "Item": aws.attributes(_bill_item(bill, wake_at, tz)),
                    "ConditionExpression": "version = :v",
                    "ExpressionAttributeValues": _values({":v": expected_version})}}


def delete_bill(user_id: str, bill_id: str, expected_version: int) -> dict:
    return {"Delete": {"TableName": _name(), "Key": aws.attributes(bill_key(user_id, bill_id)),
                       "ConditionExpression": "version = :v",
                       "ExpressionAttributeValues": _values({":v": expected_version})}}


def get_bill(user_id: str, bill_id: str) -> Bill | None:
    return get_bill_and_wake(user_id, bill_id)[0]


def get_bill_and_wake(user_id: str, bill_id: str) -> tuple[Bill | None, str | None]:
    """The bill (consistent read) and its current ``wake_at`` (None: nothing to do)."""
    item = _table().get_item(Key=bill_key(user_id, bill_id), ConsistentRead=True).get("Item")
    return (bill_from_item(item), item.get("wake_at")) if item else (None, None)


def bills_page(user_id: str, *, limit: int, after_id: str | None) -> tuple[list[Bill], str | None]:
    items, last = page(user_id, "BILL#", limit=limit, after_id=after_id)
    return [bill_from_item(i) for i in items], last


def schedules_page(user_id: str, *, limit: int, after_id: str | None) -> tuple[list[Schedule], str | None]:
    items, last = page(user_id, "SCHED#", limit=limit, after_id=after_id)
    return [schedule_from_item(i) for i in items], last


def page(user_id: str, prefix: str, *, limit: int, after_id: str | None) -> tuple[list[dict], str | None]:
    """Newest first (ids sort by creation time); one item more says whether a next page exists."""
    query: dict[str, Any] = {"KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                             "ExpressionAttributeValues": {":pk": user_pk(user_id), ":prefix": prefix},
                             "ScanIndexForward": False, "Limit": limit + 1}
    if after_id:
        query["ExclusiveStartKey"] = {"pk": user_pk(user_id), "sk": f"{prefix}{after_id}"}
    items = _table().query(**query).get("Items", [])
    more = len(items) > limit
    items = items[:limit]
    return items, (items[-1]["id"] if more and items else None)


# ---------------------------------------------------------------- reminders
def remind(uow, user_id: str, bill_id: str, period: str, kind: str, now: dt.datetime) -> None:
    uow.add("reminder", reminder_sent(user_id, bill_id, period, kind, now), lost=ReminderAlreadySent)


def wake_bill(uow, bill: Bill, wake_at: dt.datetime | None, tz: str) -> None:
    """The bill's next wake (or out of the index), only over the version it was read at (element ``wake``)."""
    uow.add("wake", move_wake(bill_key(bill.user_id, bill.id), bill.id, bill.version, wake_at, tz))


def reminder_sent(user_id: str, bill_id: str, period: str, kind: str, now: dt.datetime) -> dict:
    """Put conditional on absence: a reminder of a bill, period and kind is recorded (and sent) once."""
    item = {"pk": user_pk(user_id), "sk": f"REMIND#{bill_id}#{period}#{kind}", "bill_id": bill_id,
            "period": period, "kind": kind, "sent_at": clock.isoformat(now),
            "expires_at": int((now + REMINDER_KEEP).timestamp())}
    return {"Put": {"TableName": _name(), "Item": aws.attributes(item),
                    "ConditionExpression": "attribute_not_exists(pk)"}}


def reminders_of(user_id: str, bill_id: str) -> list[dict]:
    response = _table().query(KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                              ExpressionAttributeValues={":pk": user_pk(user_id), ":prefix": f"REMIND#{bill_id}#"})
    return response.get("Items", [])


def move_wake(key: dict, item_id: str, expected_version: int, wake_at: dt.datetime | None, tz: str) -> dict:
    """Update: the item's next wake (or out of the index), only over the version it was read at."""
    if wake_at is not None:
        keys = wake_keys(key, item_id, wake_at, tz)
        return {"Update": {"TableName": _name(), "Key": aws.attributes(key),
                           "UpdateExpression": "SET wake_pk = :p, wake_sk = :s, wake_at = :a",
                           "ConditionExpression": "version = :v",
                           "ExpressionAttributeValues": _values({":p": keys["wake_pk"], ":s": keys["wake_sk"],
                                                                 ":a": clock.isoformat(wake_at),
                                                                 ":v": expected_version})}}
    return {"Update": {"TableName": _name(), "Key": aws.attributes(key),
                       "UpdateExpression": "REMOVE wake_pk, wake_sk, wake_at", "ConditionExpression": "version = :v",
                       "ExpressionAttributeValues": _values({":v": expected_version})}}


# ---------------------------------------------------------------- schedules
_SCHEDULE_FIELDS = tuple(f.name for f in dataclasses.fields(Schedule))
_SCHEDULE_INTS = ("amount_fen", "max_amount_fen", "retries", "verify_attempts", "version")


def schedule_from_item(item: dict) -> Schedule:
    # Stored attributes are untyped (numbers arrive as Decimal); the conversions below type them.
    found: dict[str, Any] = {name: item.get(name) for name in _SCHEDULE_FIELDS if name in item}
    for name in _SCHEDULE_INTS:
        if found.get(name) is not None:
            found[name] = int(found[name])
    found["runs"] = tuple(dict(r) for r in item.get("runs") or ())
    return Schedule(**found)


def _schedule_item(schedule: Schedule, tz: str) -> dict:
    key = schedule_key(schedule.user_id, schedule.id)
    item = {k: v for k, v in dataclasses.asdict(schedule).items() if v is not None}
    item["runs"] = list(schedule.runs)
    wake = clock.parse(schedule.run_at) if schedule.run_at and schedule.status in ("active", "running") else None
    return {**item, **key, **wake_keys(key, schedule.id, wake, tz)}


def save_new_schedule(uow, schedule: Schedule, tz: str) -> None:
    uow.add("schedule", put_schedule(schedule, tz))


def save_schedule(uow, schedule: Schedule, expected_version: int, tz: str) -> None:
    uow.add("schedule", replace_schedule(schedule, expected_version, tz))


def put_schedule(schedule: Schedule, tz: str) -> dict:
    return {"Put": {"TableName": _name(), "Item": aws.attributes(_schedule_item(schedule, tz)),
                    "ConditionExpression": "attribute_not_exists(pk)"}}


def replace_schedule(schedule: Schedule, expected_version: int, tz: str) -> dict:
    """The whole schedule (its wake keys follow ``run_at`` and the status), only over the version read."""
    return {"Put": {"TableName": _name(), "Item": aws.attributes(_schedule_item(schedule, tz)),
                    "ConditionExpression": "version = :v",
                    "ExpressionAttributeValues": _values({":v": expected_version})}}


def get_schedule(user_id: str, schedule_id: str) -> Schedule | None:
    item = _table().get_item(Key=schedule_key(user_id, schedule_id), ConsistentRead=True).get("Item")
    return schedule_from_item(item) if item else None


def schedules_of_bill(user_id: str, bill_id: str) -> list[Schedule]:
    """The user's schedules of one bill (a Query of the user's partition, filtered; a user has few)."""
    items, query = [], {"KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                        "FilterExpression": "bill_id = :b",
                        "ExpressionAttributeValues": {":pk": user_pk(user_id), ":prefix": "SCHED#", ":b": bill_id}}
    while True:
        response = _table().query(**query)
        items += response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return [schedule_from_item(i) for i in items]
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
