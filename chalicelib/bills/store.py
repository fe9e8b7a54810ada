"""The bills store as the use cases see it: bills and schedules in and out, writes added to a unit of work.

DynamoDB (``dynamo_store.py``) by default; ``use(InMemoryBillsStore())`` (``memory_store.py``) puts the in-memory
twin in its place, same interface, same conditions. Element names: ``bill`` (new on absence, changed or
deleted only over the version read), ``schedule`` (likewise), ``wake`` (a bill's next wake, over the version
read), ``reminder`` (once per bill, period and kind → ``ReminderAlreadySent``).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from chalicelib.adapters import unit_of_work
from chalicelib.adapters.backends import Backend
from chalicelib.adapters.unit_of_work import Conflict
from chalicelib.bills import dynamo_store
from chalicelib.bills.errors import Due, ReminderAlreadySent
from chalicelib.bills.model import Bill, Schedule

__all__ = ["Conflict", "ReminderAlreadySent", "Due", "begin", "use", "backend"]

backend = Backend(dynamo_store)
use = backend.use


def begin() -> unit_of_work.UnitOfWork:
    return unit_of_work.begin()


# ---------------------------------------------------------------- reads
def get_bill(user_id: str, bill_id: str) -> Bill | None:
    return get_bill_and_wake(user_id, bill_id)[0]


def get_bill_and_wake(user_id: str, bill_id: str) -> tuple[Bill | None, str | None]:
    """The bill (consistent read) and its current ``wake_at`` (None: nothing to do)."""
    return backend().get_bill_and_wake(user_id, bill_id)


def bills_page(user_id: str, *, limit: int, after_id: str | None) -> tuple[list[Bill], str | None]:
    """Newest first; the id to continue after when another page exists."""
    return backend().bills_page(user_id, limit=limit, after_id=after_id)


def schedules_page(user_id: str, *, limit: int, after_id: str | None) -> tuple[list[Schedule], str | None]:
    return backend().schedules_page(user_id, limit=limit, after_id=after_id)


def get_schedule(user_id: str, schedule_id: str) -> Schedule | None:
    return backend().get_schedule(user_id, schedule_id)


def schedules_of_bill(user_id: str, bill_id: str) -> list[Schedule]:
    return backend().schedules_of_bill(user_id, bill_id)


def due(now: dt.datetime, tz: str, shard: int, *, lookback_days: int) -> Iterator[Due]:
    """One shard's wake-index entries due by ``now``, oldest day first, read lazily (never a Scan)."""
    return backend().due(now, tz, shard, lookback_days=lookback_days)


# ---------------------------------------------------------------- writes (elements of a unit of work)
def save_new_bill(uow, bill: Bill, wake_at: dt.datetime | None, tz: str) -> None:
    backend().save_new_bill(uow, bill, wake_at, tz)


def save_bill(uow, bill: Bill, expected_version: int, wake_at: dt.datetime | None, tz: str) -> None:
    backend().save_bill(uow, bill, expected_version, wake_at, tz)


def remove_bill(uow, user_id: str, bill_id: str, expected_version: int) -> None:
    backend().remove_bill(uow, user_id, bill_id, expected_version)


def wake_bill(uow, bill: Bill, wake_at: dt.datetime | None, tz: str) -> None:
    backend().wake_bill(uow, bill, wake_at, tz)


def remind(uow, user_id: str, bill_id: str, period: str, kind: str, now: dt.datetime) -> None:
    backend().remind(uow, user_id, bill_id, period, kind, now)


def save_new_schedule(uow, schedule: Schedule, tz: str) -> None:
    backend().save_new_schedule(uow, schedule, tz)


def save_schedule(uow, schedule: Schedule, expected_version: int, tz: str) -> None:
    backend().save_schedule(uow, schedule, expected_version, tz)


# ---------------------------------------------------------------- the stored items (DynamoDB: tests)
def reminders_of(user_id: str, bill_id: str) -> list[dict]:
    return backend().reminders_of(user_id, bill_id)


bill_key, schedule_key = dynamo_store.bill_key, dynamo_store.schedule_key


def _table():
    """The DynamoDB table itself (tests that look at what is stored)."""
    return dynamo_store._table()
