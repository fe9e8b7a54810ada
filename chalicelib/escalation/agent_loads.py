"""Which agent registry is in use, and how a case's change moves the agents' load counters (#25 item 3).

An agent's ``load`` is the number of open 工单 (status open or waiting_user) assigned to them. Every case
write (``casework.commit``) adds ``moves(old, new)`` to its transaction: −1 for the agent who stops carrying
the case (resolved, closed, escalated away, handed back, reassigned), +1 for the one who starts (conditioned on
``load < capacity``, and for the round-robin on ``status = available``). So the counter and the 工单 move
together or not at all. The registry is ``agent_store`` (DynamoDB) unless a test chose ``agent_memory``.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from chalicelib.escalation import agent_store, repository
from chalicelib.escalation.model import Case

OPEN = ("open", "waiting_user")
_chosen = None


def registry():
    """The chosen registry; else the in-memory store's own twin when one is in use; else DynamoDB."""
    if _chosen is not None:
        return _chosen
    return getattr(repository.store(), "agent_registry", agent_store)


@contextlib.contextmanager
def use_registry(chosen) -> Iterator[object]:
    global _chosen
    previous, _chosen = _chosen, chosen
    try:
        yield chosen
    finally:
        _chosen = previous


def carrier(case: Case | None) -> str | None:
    """Who carries ``case`` in their load: its assignee while it is open."""
    return case.assignee if case is not None and case.assignee and case.status in OPEN else None


def moves(old: Case | None, new: Case, *, round_robin: bool = False) -> list[dict]:
    """The load elements of the change ``old`` → ``new`` (none when the carrier stays; an assignee who is not a
    registered agent — data from before the registry — carries nothing)."""
    before, after = carrier(old), carrier(new)
    if before == after:
        return []
    elements = []
    if before and registry().get(before) is not None:
        elements.append(registry().load_element(before, -1))
    if after:
        elements.append(registry().load_element(after, +1, available=round_robin))
    return elements


def freed(old: Case | None, new: Case) -> str | None:
    """The agent a change gave room to (a pull from the pool may follow)."""
    before = carrier(old)
    return before if before and before != carrier(new) else None
