"""The editions store as the service sees it: heads, versions and audit records; writes join a unit of work.

DynamoDB (``dynamo_store.py``) by default; ``use(InMemoryEditionsStore())`` (``memory_store.py``) puts the twin in
place. Element names: ``head`` (new on absence, else over the ``rev`` read → ``Conflict``), ``version`` (put if
absent), ``record`` (put if absent).
"""
from __future__ import annotations

from chalicelib.adapters import unit_of_work
from chalicelib.adapters.backends import Backend
from chalicelib.adapters.unit_of_work import Conflict
from chalicelib.editions import dynamo_store
from chalicelib.editions.model import Head, Version

__all__ = ["Conflict", "begin", "use", "backend"]

backend = Backend(dynamo_store)
use = backend.use


def begin() -> unit_of_work.UnitOfWork:
    return unit_of_work.begin()


def get_head(kind: str) -> Head | None:
    return backend().get_head(kind)


def get_version(kind: str, number: int) -> Version | None:
    return backend().get_version(kind, number)


def versions(kind: str, *, limit: int) -> list[Version]:
    """Newest first (a Query on the kind's partition, never a Scan)."""
    return backend().versions(kind, limit=limit)


def records(kind: str, *, limit: int) -> list[dict]:
    """The audit records (who did what to which version), newest first."""
    return backend().records(kind, limit=limit)


def save_head(uow, head: Head, expected_rev: int | None) -> None:
    backend().save_head(uow, head, expected_rev)


def add_version(uow, kind: str, version: Version) -> None:
    backend().add_version(uow, kind, version)


def add_record(uow, kind: str, rev: int, record: dict) -> None:
    backend().add_record(uow, kind, rev, record)
