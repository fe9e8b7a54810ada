"""A unit of work: the named writes of one state change, committed all or nothing.

Stores (``repay/store.py``, ``bills/store.py``, ``notices/store.py``), the outbox and the idempotency
records each *add* their elements to one unit of work under a name (``"repayment"``, ``"frozen"``,
``"allowance"``, ``"idempotency"``, ``"outbox:<id>"`` …); the use case calls ``commit()`` once. A
commit whose conditions do not all hold writes nothing and raises a domain ``Conflict`` naming the
elements that lost — or the more specific error the element was added with (``lost=AccountFrozen``),
so a service says ``except AccountFrozen:`` rather than looking into AWS errors.

Two kinds, one interface:

- ``DynamoUnitOfWork`` (the default): elements are ``TransactWriteItems`` elements built by the stores;
  ``commit`` is one ``aws.transact`` call (one element: its single-item call). Another transaction
  writing the same item at that instant still raises ``aws.TransactionContended`` (nothing written,
  answered 503 + Retry-After by the edge).
- ``MemoryUnitOfWork``: elements are ``Change(holds, apply)`` pairs from the in-memory stores; ``commit``
  checks every condition and applies every change under one lock — the same all-or-nothing and
  conditional semantics, without AWS (the fast test tier, ``pytest -m unit``).

``begin()`` opens one of the kind in use (``use_memory()`` switches, as the in-memory stores are installed).
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LOCK = threading.RLock()   # every in-memory store's state changes under this one lock


class NamedFailure(Exception):
    """A write failed on the elements ``names`` (``"frozen" in exc`` reads as it should): the base of this module's
    ``Conflict`` and of ``aws.ConditionFailed`` / ``aws.TransactionContended``."""

    def __init__(self, names):
        self.names = frozenset(names)
        super().__init__(", ".join(sorted(self.names)))

    def __contains__(self, name: str) -> bool:
        return name in self.names


class Conflict(NamedFailure):
    """A conditional write lost: ``names`` are the elements whose condition did not hold."""


@dataclass(frozen=True)
class Change:
    """One element of an in-memory unit of work: its condition and what it writes."""
    holds: Callable[[], bool]
    apply: Callable[[], None]


class UnitOfWork:
    kind = ""
    takes: type = object   # the elements this kind of unit of work takes (a store of the other kind is a TypeError)
    wrong = ""

    def __init__(self) -> None:
        self._elements: dict[str, Any] = {}
        self._lost: dict[str, type[Conflict]] = {}

    def add(self, name: str, element: Any, *, lost: type[Conflict] | None = None) -> None:
        """Add ``element`` as ``name``; when its condition fails the commit raises ``lost`` (default ``Conflict``)."""
        if name in self._elements:
            raise ValueError(f"unit of work: element {name!r} added twice")
        self._check(element)
        self._elements[name] = element
        if lost is not None:
            self._lost[name] = lost

    def __contains__(self, name: str) -> bool:
        return name in self._elements

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._elements)

    def _failed(self, names) -> Conflict:
        """The error for ``names``: the first element (in the order added) with its own error, else ``Conflict``."""
        for name in self._elements:
            if name in names and name in self._lost:
                return self._lost[name](names)
        return Conflict(names)

    def _check(self, element: Any) -> None:
        if not isinstance(element, self.takes):
            raise TypeError(self.wrong)

    def commit(self) -> None:
        raise NotImplementedError


class DynamoUnitOfWork(UnitOfWork):
    kind, takes = "dynamodb", dict
    wrong = "a DynamoDB unit of work takes TransactWriteItems elements (an in-memory store is in use?)"

    def commit(self) -> None:
        from chalicelib.adapters import aws
        if not self._elements:
            return
        try:
            aws.transact(dict(self._elements))
        except aws.ConditionFailed as exc:
            raise self._failed(exc.names) from None


class MemoryUnitOfWork(UnitOfWork):
    kind, takes = "memory", Change
    wrong = "an in-memory unit of work takes Change elements (a DynamoDB store is in use?)"

    def commit(self) -> None:
        with LOCK:
            failed = [name for name, change in self._elements.items() if not change.holds()]
            if failed:
                raise self._failed(failed)
            for change in self._elements.values():
                change.apply()


_factory: Callable[[], UnitOfWork] = DynamoUnitOfWork


def begin() -> UnitOfWork:
    """A new, empty unit of work of the kind in use."""
    return _factory()


def use_memory(on: bool = True) -> None:
    """In-memory units of work (with the in-memory stores) or DynamoDB ones (the default)."""
    global _factory
    _factory = MemoryUnitOfWork if on else DynamoUnitOfWork


def in_memory() -> bool:
    return _factory is MemoryUnitOfWork
