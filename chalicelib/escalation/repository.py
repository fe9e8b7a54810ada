"""Which store the escalation use cases read and write: DynamoDB (``store.py``) unless told otherwise.

Every use case asks ``repository.store()`` at the moment it runs (never keeps it), so a test can run the
use cases on ``memory.MemoryStore`` — the same interface, domain objects in and out, the same conditional
semantics — with ``use_store``::

    with repository.use_store(MemoryStore()):
        service.open_case(...)

The store is looked up by attribute at call time, so monkeypatching ``store.get`` in a moto test still
reaches the use cases. Another domain copies this module (a module-level port, ~20 lines) to get its own
fast tier.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from chalicelib.escalation import incident_store
from chalicelib.escalation import store as dynamodb

_chosen = None


def store():
    """The store in use: the in-memory one a test chose, else the DynamoDB module."""
    return dynamodb if _chosen is None else _chosen


def incidents():
    """The incidents' store: the chosen in-memory store's ``incidents`` twin, else ``incident_store``."""
    return incident_store if _chosen is None else _chosen.incidents


@contextlib.contextmanager
def use_store(chosen) -> Iterator[object]:
    """Run the use cases on ``chosen`` inside the ``with`` block (the previous store afterwards)."""
    global _chosen
    previous, _chosen = _chosen, chosen
    try:
        yield chosen
    finally:
        _chosen = previous
