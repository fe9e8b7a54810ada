"""The service-notices store as the use cases see it (``dynamo_store.py`` by default; ``use(InMemoryStatusStore())``,
``memory_store.py``, puts the in-memory twin in place: same interface, same conditions).

Element names in a unit of work: ``notice`` (new on absence; deleted only while it exists) and ``audit`` (one
record per create or delete, put on absence).
"""
from __future__ import annotations

import datetime as dt

from chalicelib.adapters import unit_of_work
from chalicelib.adapters.backends import Backend
from chalicelib.adapters.unit_of_work import Conflict
from chalicelib.status import dynamo_store
from chalicelib.status.model import Notice

__all__ = ["Conflict", "backend", "use", "begin", "get", "current", "add", "remove", "audit_of",
           "count_deflection", "deflections"]

backend = Backend(dynamo_store)
use = backend.use


def begin() -> unit_of_work.UnitOfWork:
    return unit_of_work.begin()


def get(notice_id: str) -> Notice | None:
    return backend().get(notice_id)


def current(now: dt.datetime, limit: int) -> list[Notice]:
    """Every notice not yet ended at ``now`` (in force or scheduled), soonest end first: one Query of the
    ``live`` index, never a Scan."""
    return backend().current(now, limit)


def add(uow, notice: Notice, audit: dict) -> None:
    backend().add(uow, notice, audit)


def remove(uow, notice: Notice, audit: dict) -> None:
    backend().remove(uow, notice, audit)


def audit_of(notice_id: str) -> list[dict]:
    """The notice's audit records, oldest first (who, what, when)."""
    return backend().audit_of(notice_id)


def count_deflection(day: str, notice_id: str) -> None:
    """One more user left the new-工单 form after reading this notice (a count, nothing about the user)."""
    backend().count_deflection(day, notice_id)


def deflections(day: str) -> dict[str, int]:
    return backend().deflections(day)
