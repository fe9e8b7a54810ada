"""The assistant's fixtures: ``talk`` — the engine on its in-memory store twin, events captured."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest


@dataclass
class Talk:
    store: object
    events: list = field(default_factory=list)
    cases: object = None      # escalation's in-memory store (the handover's 工单)

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]


@pytest.fixture
def talk(memory, monkeypatch):
    """``memory`` (the twins of the stores the engine's providers read, frozen clock) plus the conversations
    twin; ``talk.events`` holds the events recorded (kind, fields), checked as the real adapter checks them."""
    from chalicelib.adapters import events
    from chalicelib.assistant import memory_store
    from chalicelib.assistant import store as assistant_store
    from chalicelib.escalation import repository
    from chalicelib.escalation.memory import MemoryStore

    twin = memory_store.InMemoryConversations()
    assistant_store.use(twin)
    captured = Talk(store=twin)

    def record(kind, **fields):
        events.check(kind, fields)
        captured.events.append((kind, fields))

    monkeypatch.setattr(events, "record", record)
    try:
        with repository.use_store(MemoryStore()) as cases:   # a handover opens its 工单 here (h24b)
            captured.cases = cases
            yield captured
    finally:
        assistant_store.use(None)
