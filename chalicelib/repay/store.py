"""The repayment store as the use cases see it: domain objects in and out, writes added to a unit of work.

The DynamoDB store (``dynamo_store.py``) is the default; ``use(InMemoryRepayStore())`` (``memory_store.py``,
the fast tests) puts its in-memory twin in its place, with the same interface and the same conditions —
as the Chalice todo sample injects its in-memory ``TodoDB``. Use cases never build a DynamoDB request
and never see an AWS error:

    uow = store.begin()
    store.not_frozen(uow, user_id)              # "frozen"    → AccountFrozen when it loses
    store.create(uow, repayment)                # "repayment" (never over an existing one)
    store.add_usage(uow, user_id, month, kind, amount, seen_fen=used)   # "allowance"
    claim.complete_in(uow, 201, body)           # "idempotency" → idempotency.KeyInFlight
    outbox.add(uow, message)                    # "outbox:<id>"
    uow.commit()                                # all or nothing; else Conflict naming what lost

``move(uow, change)`` writes a ``Change`` only over the state it was read in (status and version);
``release_usage`` gives allowance back only while it is there.
"""
from __future__ import annotations

from typing import Any

from chalicelib.adapters import unit_of_work
from chalicelib.adapters.backends import Backend
from chalicelib.adapters.unit_of_work import Conflict
from chalicelib.repay import dynamo_store
from chalicelib.repay.errors import AccountFrozen
from chalicelib.repay.model import Change, Receipt, Repayment

__all__ = ["Conflict", "AccountFrozen", "begin", "use", "backend"]

backend = Backend(dynamo_store)
use = backend.use


def begin() -> unit_of_work.UnitOfWork:
    return unit_of_work.begin()


# ---------------------------------------------------------------- reads
def get(user_id: str, repayment_id: str) -> Repayment | None:
    return backend().get(user_id, repayment_id)


def page(user_id: str, *, status: str | None, kind: str | None, limit: int,
         after_id: str | None) -> tuple[list[Repayment], str | None]:
    """Newest first; ``after_id`` continues after that repayment; the id to continue after, if more exist."""
    return backend().page(user_id, status=status, kind=kind, limit=limit, after_id=after_id)


def get_usage(user_id: str, month: str, kind: str) -> int:
    return backend().get_usage(user_id, month, kind)


def lapsed(now_iso: str, *, limit: int, after: Any = None) -> tuple[list[tuple[str, str]], Any]:
    return backend().lapsed(now_iso, limit=limit, after=after)


# ---------------------------------------------------------------- writes (elements of a unit of work)
def not_frozen(uow: unit_of_work.UnitOfWork, user_id: str) -> None:
    backend().not_frozen(uow, user_id)


def create(uow: unit_of_work.UnitOfWork, repayment: Repayment) -> None:
    backend().create(uow, repayment)


def move(uow: unit_of_work.UnitOfWork, change: Change) -> None:
    backend().move(uow, change)


def add_usage(uow: unit_of_work.UnitOfWork, user_id: str, month: str, kind: str, amount_fen: int, *,
              seen_fen: int) -> None:
    backend().add_usage(uow, user_id, month, kind, amount_fen, seen_fen=seen_fen)


def release_usage(uow: unit_of_work.UnitOfWork, user_id: str, month: str, kind: str, amount_fen: int) -> None:
    backend().release_usage(uow, user_id, month, kind, amount_fen)


# ---------------------------------------------------------------- the account (freeze)
def get_account(user_id: str) -> dict | None:
    return backend().get_account(user_id)


def set_frozen(user_id: str, *, reason: str, case_id: str) -> bool:
    return backend().set_frozen(user_id, reason=reason, case_id=case_id)


def clear_frozen(user_id: str, *, actor: str) -> bool:
    return backend().clear_frozen(user_id, actor=actor)


def account_log(user_id: str) -> list[dict]:
    return backend().account_log(user_id)


# ---------------------------------------------------------------- receipts, staff access records
def put_receipt(receipt: Receipt, *, user_id: str, issued_at: str) -> bool:
    return backend().put_receipt(receipt, user_id=user_id, issued_at=issued_at)


def get_receipt(serial: str) -> Receipt | None:
    return backend().get_receipt(serial)


def put_access_record(user_id: str, record: dict) -> dict:
    return backend().put_access_record(user_id, record)


def access_records(user_id: str, limit: int = 50) -> list[dict]:
    return backend().access_records(user_id, limit)


def access_across(*, user_id: str | None, staff: str | None, day: str | None, low: str, high: str, page: int = 50):
    """Access records of one user, one staff member or one UTC day, ``low`` <= key <= ``high``, newest first."""
    return backend().access_across(user_id=user_id, staff=staff, day=day, low=low, high=high, page=page)


# ---------------------------------------------------------------- the stored item (DynamoDB only: tests, escalation)
def get_repayment(user_id: str, repayment_id: str) -> dict | None:
    """The stored attributes of one repayment (None: no such repayment of this user)."""
    return backend().get_repayment(user_id, repayment_id)


from_item, to_item, update = dynamo_store.from_item, dynamo_store.to_item, dynamo_store.update
list_repayments, lapsed_verifications = dynamo_store.list_repayments, dynamo_store.lapsed_verifications


def _table():
    """The DynamoDB table itself (tests that look at what is stored)."""
    return dynamo_store._table()
